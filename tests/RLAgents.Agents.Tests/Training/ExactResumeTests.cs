using System.Runtime.InteropServices;
using RLAgents.Agents.Tests.Phases;
using RLAgents.Agents.Training;
using RLAgents.EpisodeLogs;
using RLAgents.Policies;

namespace RLAgents.Agents.Tests.Training;

/// <summary>
/// A run interrupted mid-phase and resumed writes exactly what the uninterrupted run writes: the same metrics rows
/// (wall-clock fields aside), the same checkpoints (tensors, state and replay buffer; wall-clock seconds aside) and
/// the same episode log, byte for byte.
/// </summary>
public class ExactResumeTests
{
    private static readonly string[] TinyPpo =
    [
        "env.numEnvs=4", "env.vectorization=sync", "algorithm.ppo.rolloutSteps=16", "algorithm.ppo.epochs=2", "algorithm.ppo.minibatches=2",
        "training.totalSteps=768", "training.logInterval=128", "training.evalInterval=384", "training.evalEpisodes=2",
        "training.checkpointInterval=256", "recording={}",
    ];

    private static readonly string[] TinyDqn =
    [
        "env.vectorization=sync", "algorithm.dqn.learningStarts=64", "algorithm.dqn.trainFrequency=32", "algorithm.dqn.gradientSteps=2",
        "algorithm.dqn.bufferSize=400", "algorithm.dqn.nStep=3", "training.totalSteps=640", "training.logInterval=96",
        "training.evalInterval=320", "training.evalEpisodes=2", "training.checkpointInterval=160", "recording={}",
    ];

    /// <summary>A schedule: behaviour cloning of the BabyAI bot, then PPO anchored to it, recorded (hashes) with its evaluations.</summary>
    internal static ExperimentOptions Phased()
    {
        var ppo = PhaseTestKit.Ppo(384, klAnchor: 0.05);
        var options = PhaseTestKit.Options(PolicyArchitecture.Mlp, PhaseTestKit.Sft(expertEpisodes: 4, updates: 4), ppo);
        options.Recording = new EpisodeRecorderOptions { ObservationHashes = true };
        options.Training.CheckpointInterval = 128;
        options.Training.LogInterval = 64;
        options.Training.EvalInterval = 192;
        options.Training.EvalEpisodes = 2;
        return options;
    }

    /// <summary>Gaussian PPO on Pendulum with clipped actions and normalised observations and rewards (their statistics resume too).</summary>
    private static readonly string[] TinyNormalizedPendulum =
    [
        "env.numEnvs=4", "env.vectorization=sync", "env.clipAction=true", "env.normalizeObservation={}", "env.normalizeReward={\"gamma\":0.9}",
        "algorithm.ppo.rolloutSteps=16", "algorithm.ppo.epochs=2", "algorithm.ppo.minibatches=2",
        "training.totalSteps=1024", "training.logInterval=128", "training.evalInterval=512", "training.evalEpisodes=2",
        "training.checkpointInterval=256", "recording={}",
    ];

    /// <summary>TD3 acting through an Ornstein–Uhlenbeck process, whose per-env state is mid-episode at the interruption.</summary>
    private static readonly string[] TinyOrnsteinUhlenbeckTd3 =
    [
        "env.numEnvs=2", "env.vectorization=sync", "policy.hiddenSizes=[16,16]", "algorithm.td3.learningStarts=32", "algorithm.td3.batchSize=32",
        "algorithm.td3.bufferSize=400", "algorithm.td3.trainFrequency=8", "algorithm.td3.gradientSteps=2", "training.totalSteps=640",
        "training.logInterval=96", "training.evalInterval=320", "training.evalEpisodes=1", "training.checkpointInterval=160", "recording={}",
    ];

    private static ExperimentOptions Load(string kind) => kind switch
    {
        "td3-ou" => TestPaths.Load("mountaincarcontinuous-td3.json", TinyOrnsteinUhlenbeckTd3),
        "ppo" => TestPaths.Load("cartpole-ppo.json", TinyPpo),
        "normalized" => TestPaths.Load("pendulum-ppo.json", TinyNormalizedPendulum),
        "dqn" => TestPaths.Load("cartpole-dqn.json", TinyDqn),
        "ppo-recurrent" => TestPaths.Load("cartpole-ppo.json", [.. TinyPpo, "policy.recurrent=true", "policy.shareStateEstimator=true"]),
        "phased-recurrent" => Recurrent(Phased()),
        _ => Phased(),
    };

    private static ExperimentOptions Recurrent(ExperimentOptions options)
    {
        options.Policy.Recurrent = true;
        return options;
    }

    [Theory]
    [InlineData("ppo", 352)]    // between checkpoints, with a metrics row half gathered and episodes open in every env
    [InlineData("dqn", 224)]    // pending n-step transitions and a replay buffer
    [InlineData("phased", 208)] // inside the PPO phase of a schedule, after SFT and with a KL reference
    [InlineData("normalized", 480)] // float actions, normalisation statistics mid-episode (Pendulum episodes are 200 steps)
    [InlineData("td3-ou", 224)]     // exploration noise with a state per env, mid-episode (MountainCarContinuous episodes are 999 steps)
    [InlineData("ppo-recurrent", 352)]    // a recurrent memory mid-episode in every env
    [InlineData("phased-recurrent", 208)] // SFT on whole episodes, then PPO with a recurrent KL reference
    public void AnInterruptedRunResumedWritesWhatTheUninterruptedRunWrites(string kind, long stopAt)
    {
        using var dir = new TempDirectory();
        var full = TrainingRunner.Run(Load(kind), dir.Combine("full"));

        using var cancel = new CancellationTokenSource();
        var part = TrainingRunner.Run(Load(kind), dir.Combine("part"), progress: p => { if (p.EnvSteps >= stopAt) cancel.Cancel(); }, cancellation: cancel.Token);
        Assert.True(part.Interrupted);
        Assert.True(part.EnvSteps < full.EnvSteps);
        var notices = new List<string>();
        var resumed = TrainingRunner.Run(TrainingRunner.LoadRunConfig(part.RunDirectory), part.RunDirectory, resume: true, notice: notices.Add);
        Assert.False(resumed.Interrupted);
        Assert.DoesNotContain(notices, n => n.Contains("differs", StringComparison.Ordinal));

        RunComparison.AssertSameRun(full.RunDirectory, resumed.RunDirectory);
    }

    [Fact]
    public void AResumeRepairsATornMetricsLineAndATornEpisodeLogTail()
    {
        using var dir = new TempDirectory();
        var full = TrainingRunner.Run(Load("ppo"), dir.Combine("full"));
        using var cancel = new CancellationTokenSource();
        var part = TrainingRunner.Run(Load("ppo"), dir.Combine("part"), progress: p => { if (p.EnvSteps >= 352) cancel.Cancel(); }, cancellation: cancel.Token);
        Assert.True(part.Interrupted);
        // What a kill in the middle of writes leaves: half a metrics row, half a record batch, an atomic write's temporary file.
        File.AppendAllText(Path.Combine(part.RunDirectory, TrainingRunner.MetricsFile), "{\"step\":448,\"update\":2");
        using (var log = new FileStream(Path.Combine(part.RunDirectory, TrainingRunner.EpisodeLogFile), FileMode.Append))
            log.Write(File.ReadAllBytes(Path.Combine(full.RunDirectory, TrainingRunner.EpisodeLogFile)).AsSpan(0, 300));
        File.WriteAllText(Path.Combine(part.RunDirectory, Checkpoint.Folder, "latest.json.tmp-1-0"), "{\"format\"");

        var resumed = TrainingRunner.Run(TrainingRunner.LoadRunConfig(part.RunDirectory), part.RunDirectory, resume: true);

        Assert.False(resumed.Interrupted);
        RunComparison.AssertSameRun(full.RunDirectory, resumed.RunDirectory);
        Assert.Empty(Directory.GetFiles(resumed.RunDirectory, "*.tmp-*", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData(false)] // killed after the final checkpoint, before the log's end-of-stream marker
    [InlineData(true)]  // ... and in the middle of that marker's write
    public void AResumeOfARunKilledAfterItsFinalCheckpointClosesItsEpisodeLog(bool torn)
    {
        using var dir = new TempDirectory();
        var full = TrainingRunner.Run(Load("ppo"), dir.Combine("full"));
        var killed = TrainingRunner.Run(Load("ppo"), dir.Combine("killed"));
        string log = Path.Combine(killed.RunDirectory, TrainingRunner.EpisodeLogFile);
        long closed = new FileInfo(log).Length;
        // Arrow's end-of-stream marker is the last 8 bytes: what a kill between the final checkpoint and the writer's Dispose leaves.
        using (var file = new FileStream(log, FileMode.Open)) file.SetLength(closed - (torn ? 4 : 8));

        var notices = new List<string>();
        var resumed = TrainingRunner.Run(TrainingRunner.LoadRunConfig(killed.RunDirectory), killed.RunDirectory, resume: true, notice: notices.Add);

        Assert.True(resumed.AlreadyFinished);
        Assert.Equal(closed, new FileInfo(log).Length);
        RunComparison.AssertSameRun(full.RunDirectory, resumed.RunDirectory);
        EpisodeLogReader.ReadAll(log).ThrowIfDamaged();
        // Resuming the finished run again leaves the closed log as it is.
        byte[] before = File.ReadAllBytes(log);
        Assert.True(TrainingRunner.Run(TrainingRunner.LoadRunConfig(killed.RunDirectory), killed.RunDirectory, resume: true).AlreadyFinished);
        Assert.Equal(before, File.ReadAllBytes(log));
    }

    [Fact]
    public void ALibTorchErrorMidRunResumesFromTheLastCheckpointAndFinishesAsTheUninterruptedRun()
    {
        using var dir = new TempDirectory();
        var full = TrainingRunner.Run(Load("ppo"), dir.Combine("full"));
        bool thrown = false;
        var notices = new List<string>();
        // Once, between two checkpoints: what TorchSharp raises when libtorch reads a Scalar the GC has finalized.
        var result = TrainingRunner.Run(Load("ppo"), dir.Combine("flaky"), progress: p =>
        {
            if (thrown || p.EnvSteps < 400) return;
            thrown = true;
            throw new ExternalException("Expected false to be true, but got false.\nException raised from toFloat at /pytorch/c10/core/Scalar.h:140");
        }, notice: notices.Add);

        Assert.True(thrown);
        var notice = Assert.Single(notices, n => n.Contains("resuming from it", StringComparison.Ordinal));
        Assert.Contains("libtorch failed: Expected false to be true, but got false; the run keeps its last good checkpoint", notice);
        Assert.Contains("(retry 1 of 3)", notice);
        Assert.DoesNotContain("Scalar.h", notice);
        RunComparison.AssertSameRun(full.RunDirectory, result.RunDirectory);
    }

    [Fact]
    public void ALibTorchErrorThatComesBackStopsTheRunAfterTheRetriesWithOneLine()
    {
        using var dir = new TempDirectory();
        var notices = new List<string>();
        var fault = Assert.Throws<TrainingFaultException>(() => TrainingRunner.Run(Load("ppo"), dir.Combine("broken"), progress: p =>
        {
            if (p.EnvSteps >= 400) throw new ExternalException("shape '[3]' is invalid for input of size 2\nException raised from infer_size_impl");
        }, notice: notices.Add));

        Assert.Equal(TrainingRunner.NativeFaultRetries, notices.Count(n => n.Contains("resuming from it", StringComparison.Ordinal)));
        Assert.StartsWith("training stopped at env step ", fault.Message);
        Assert.Contains("libtorch failed: shape '[3]' is invalid for input of size 2; the run keeps its last good checkpoint", fault.Message);
        Assert.DoesNotContain("\n", fault.Message);
        Assert.NotNull(fault.LastCheckpoint);
    }

    [Fact]
    public void ARunKilledBeforeItsFirstCheckpointStartsOverFromStepZero()
    {
        using var dir = new TempDirectory();
        var full = TrainingRunner.Run(Load("ppo"), dir.Combine("full"));
        var killed = TrainingRunner.Run(Load("ppo"), dir.Combine("killed"));
        // A run killed before its first checkpoint: config, metrics rows and recorded episodes, no checkpoint.
        Directory.Delete(Path.Combine(killed.RunDirectory, Checkpoint.Folder), recursive: true);
        File.AppendAllText(Path.Combine(killed.RunDirectory, TrainingRunner.MetricsFile), "{\"step\":");

        var notices = new List<string>();
        var resumed = TrainingRunner.Run(TrainingRunner.LoadRunConfig(killed.RunDirectory), killed.RunDirectory, resume: true, notice: notices.Add);

        Assert.Contains(notices, n => n.Contains("starts over from step 0", StringComparison.Ordinal));
        Assert.Equal(full.EnvSteps, resumed.EnvSteps);
        RunComparison.AssertSameRun(full.RunDirectory, resumed.RunDirectory);
    }
}
