using System.Text.Json;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.EpisodeLogs;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.Policies;
using RLAgents.Policies.Encoding;
using static TorchSharp.torch;

namespace RLAgents.Agents.Tests.Training;

/// <summary>
/// Training runs record what the agent thought: each recorded step carries the distribution that
/// chose the action and the value estimate, equal to what the acting weights compute on the
/// recorded observation.
/// </summary>
public class RecordingTests
{
    // 2 envs × 32 steps per PPO iteration; a checkpoint after every iteration, so the weights that
    // acted in iteration j are the initial ones (j = 0) or those of checkpoint step-64·j.
    private static readonly string[] TinyPpo =
    [
        "env.numEnvs=2", "env.vectorization=sync", "algorithm.ppo.rolloutSteps=32", "algorithm.ppo.epochs=4", "algorithm.ppo.minibatches=1",
        "algorithm.ppo.learningRate=0.01", "training.totalSteps=192", "training.checkpointInterval=64", "training.evalInterval=0",
        "training.evalEpisodes=1", "training.logInterval=64", "recording={}",
    ];

    /// <summary>The initial agent of a run (as the factory seeds it) followed by the agent of each checkpoint, by step.</summary>
    private static List<Agent> ActingAgents(ExperimentOptions options, string runDir, ObservationSpace space, DiscreteSpace actions)
    {
        var agents = new List<Agent> { AgentFactory.CreateAgent(options, space, actions) };
        foreach (var weights in Directory.GetFiles(Path.Combine(runDir, "checkpoints"), "phase-*.safetensors").Order(StringComparer.Ordinal))
        {
            var checkpoint = Checkpoint.Load(weights);
            var agent = AgentFactory.CreateAgent(options, space, actions);
            ModelWeights.Load(agent.Policy, checkpoint.Tensors, checkpoint.WeightsPath, _ => true, "policy.");
            checkpoint.DisposeTensors();
            agents.Add(agent);
        }
        return agents;
    }

    private static ObservationInput Input(ObservationSpace space, RecordedEpisode e) =>
        new(space, [tensor(e.Observations[0].Floats!, [e.Length + 1, space[0].Size])]);

    [Theory]
    [InlineData("sync")]
    [InlineData("threaded")] // recorders step on worker threads; outputs are attached on the collector's thread before the step
    public void PpoRunRecordsTheActingDistributionAndValueOfEveryStep(string vectorization)
    {
        using var dir = new TempDirectory();
        var options = TestPaths.Load("cartpole-ppo.json", [.. TinyPpo, $"env.vectorization={vectorization}"]);
        var result = TrainingRunner.Run(options, dir.Combine("run"));
        var log = EpisodeLogReader.ReadAll(Path.Combine(result.RunDirectory, TrainingRunner.EpisodeLogFile)).ThrowIfDamaged();
        var episodes = log.Episodes.Where(e => e.Phase == "ppo").ToList();
        Assert.True(episodes.Count >= 4, $"{episodes.Count} training episodes recorded");

        var registry = EnvRegistry.CreateDefault();
        using var sample = registry.Make("CartPole-v1");
        var agents = ActingAgents(options, result.RunDirectory, sample.ObservationSpace, sample.ActionSpace.AsDiscrete("this test"));
        var policies = agents.Select(a => a.Policy).ToList();
        Assert.Equal(4, policies.Count); // initial, step 64, 128, 192
        var laterIterations = 0;
        foreach (var e in episodes)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var input = Input(sample.ObservationSpace, e);
            // Candidates [P, L+1, K] and [P, L+1]: what each set of weights computes on the recorded observations.
            var probs = policies.Select(p => ((ActorCriticPolicy)p).Logits(input).softmax(-1).data<float>().ToArray()).ToArray();
            var values = policies.Select(p => ((ActorCriticPolicy)p).Value(input).data<float>().ToArray()).ToArray();
            int acting = 0;
            for (int t = 0; t < e.Length; t++)
            {
                var p = e.ActionProbabilities[t] ?? throw new Xunit.Sdk.XunitException($"episode {e.Index} step {t} has no probabilities");
                Assert.Equal(2, p.Length);
                Assert.Equal(1.0, p.Sum(), 5);
                float v = e.Values[t] ?? throw new Xunit.Sdk.XunitException($"episode {e.Index} step {t} has no value");
                // Weights only move forward in time: the acting policy of step t is the same as, or later than, step t-1's.
                bool Matches(int j) => Math.Abs(values[j][t] - v) < 1e-4 && Math.Abs(probs[j][2 * t] - p[0]) < 1e-5 && Math.Abs(probs[j][2 * t + 1] - p[1]) < 1e-5;
                while (acting < policies.Count - 1 && !Matches(acting)) acting++;
                Assert.True(Matches(acting), $"episode {e.Index} step {t}: recorded p={p[0]:R},{p[1]:R} v={v:R} match no acting policy at or after #{acting}");
            }
            if (acting > 0) laterIterations++;
        }
        // The run updated its weights between iterations and later episodes were acted by them.
        Assert.True(laterIterations > 0, "every episode matched the initial policy");
        foreach (var a in agents) a.Dispose();
    }

    [Fact]
    public void DqnRunRecordsTheEpsilonGreedyDistributionAndQOfTheChosenAction()
    {
        using var dir = new TempDirectory();
        // No learning within the budget (learningStarts above it): the initial Q-network acts throughout.
        var options = TestPaths.Load("cartpole-dqn.json", "env.numEnvs=2", "env.vectorization=sync", "algorithm.dqn.learningStarts=10000",
            "training.totalSteps=160", "training.evalInterval=0", "training.evalEpisodes=1", "training.checkpointInterval=0",
            "training.logInterval=80", "recording={\"includeEvaluations\":false}");
        var result = TrainingRunner.Run(options, dir.Combine("run"));
        var episodes = EpisodeLogReader.ReadAll(Path.Combine(result.RunDirectory, TrainingRunner.EpisodeLogFile)).ThrowIfDamaged().Episodes.Where(e => e.Phase == "dqn").ToList();
        Assert.NotEmpty(episodes);
        using var sample = EnvRegistry.CreateDefault().Make("CartPole-v1");
        using var agent = ActingAgents(options, result.RunDirectory, sample.ObservationSpace, sample.ActionSpace.AsDiscrete("this test"))[0];
        var policy = (QNetworkPolicy)agent.Policy;
        foreach (var e in episodes)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var q = policy.QValues(Input(sample.ObservationSpace, e)).data<float>().ToArray();
            for (int t = 0; t < e.Length; t++)
            {
                var p = e.ActionProbabilities[t]!;
                Assert.Equal(1.0, p.Sum(), 5);
                int greedy = q[2 * t] >= q[2 * t + 1] ? 0 : 1;
                // ε-greedy: the greedy action holds ε/K + 1 − ε ≥ the other's ε/K.
                Assert.True(p[greedy] >= p[1 - greedy], $"episode {e.Index} step {t}: greedy action {greedy} has p={p[greedy]}, the other {p[1 - greedy]}");
                Assert.Equal(q[2 * t + e.Actions[t]], e.Values[t]!.Value, 4);
            }
        }
    }

    // 2 envs × 32 steps per iteration, evaluations of 3 episodes at steps 64, 128 and 192 (the end).
    private static readonly string[] EvaluatingPpo =
    [
        "env.numEnvs=2", "env.vectorization=sync", "algorithm.ppo.rolloutSteps=32", "algorithm.ppo.epochs=2", "algorithm.ppo.minibatches=1",
        "training.totalSteps=192", "training.checkpointInterval=64", "training.evalInterval=64", "training.evalEpisodes=3", "training.logInterval=64",
    ];

    /// <summary>A recording PPO run stopped (as by Ctrl+C) after step 64, to be resumed with the returned options.</summary>
    private static ExperimentOptions InterruptedRecordingRun(string runDir)
    {
        using var cancel = new CancellationTokenSource();
        TrainingRunner.Run(TestPaths.Load("cartpole-ppo.json", [.. EvaluatingPpo, "recording={}"]), runDir,
            progress: p => { if (p.EnvSteps >= 64) cancel.Cancel(); }, cancellation: cancel.Token);
        return TestPaths.Load("cartpole-ppo.json", [.. EvaluatingPpo, "recording={}"]);
    }

    private static EpisodeLog ReadLog(string runDir) => EpisodeLogReader.ReadAll(Path.Combine(runDir, TrainingRunner.EpisodeLogFile)).ThrowIfDamaged();

    /// <summary>Step → mean evaluation return, from metrics.jsonl.</summary>
    private static Dictionary<long, double> EvaluationMeans(string runDir) => File.ReadLines(Path.Combine(runDir, TrainingRunner.MetricsFile))
        .Select(l => JsonDocument.Parse(l).RootElement)
        .Where(r => r.TryGetProperty("eval_return_mean", out _))
        .ToDictionary(r => r.GetProperty("step").GetInt64(), r => r.GetProperty("eval_return_mean").GetDouble());

    private static void AssertReplaysExactly(string runDir, int expectedEpisodes)
    {
        var report = new Replayer().Verify(Path.Combine(runDir, TrainingRunner.EpisodeLogFile));
        Assert.True(report.Success, report.Summary());
        Assert.Equal(expectedEpisodes, report.Episodes.Count);
    }

    [Fact]
    public void EvaluationOnlyRecordsExactlyTheEvaluatedEpisodesWithTheirCheckpointAndReplaysThem()
    {
        using var dir = new TempDirectory();
        var options = TestPaths.Load("cartpole-ppo.json", [.. EvaluatingPpo, "recording={\"mode\":\"evaluationOnly\",\"observationHashes\":true}"]);
        var result = TrainingRunner.Run(options, dir.Combine("run"));
        var episodes = ReadLog(result.RunDirectory).Episodes;

        Assert.All(episodes, e => { Assert.Equal("eval", e.Phase); Assert.True(e.Evaluation); });
        var byCheckpoint = episodes.GroupBy(e => e.CheckpointId!).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(["phase-000-step-0000000064", "phase-000-step-0000000128", "phase-000-step-0000000192"], byCheckpoint.Keys.Order(StringComparer.Ordinal));
        // The recorded episodes are the evaluated ones: their mean return is what metrics.jsonl reports for that evaluation.
        foreach (var (step, mean) in EvaluationMeans(result.RunDirectory))
        {
            var evaluated = byCheckpoint[Checkpoint.IdAt(0, step)];
            Assert.Equal(3, evaluated.Count);
            Assert.Equal(mean, evaluated.Average(e => e.Return), 9);
        }
        Assert.Equal(episodes.Count, episodes.Select(e => e.Index).Distinct().Count());
        // Greedy evaluation records the policy's distribution and V(s) too.
        Assert.All(episodes, e => Assert.All(Enumerable.Range(0, e.Length), t =>
        {
            Assert.Equal(1.0, e.ActionProbabilities[t]!.Sum(), 5);
            Assert.NotNull(e.Values[t]);
        }));
        AssertReplaysExactly(result.RunDirectory, 9);
    }

    [Fact]
    public void AllModeRecordsTrainingAndEvaluationEpisodesWithUniqueIndicesAcrossAResume()
    {
        using var dir = new TempDirectory();
        var cfg = InterruptedRecordingRun(dir.Combine("run"));
        int beforeResume = ReadLog(dir.Combine("run")).Episodes.Count;
        var result = TrainingRunner.Run(cfg, dir.Combine("run"), resume: true);
        var episodes = ReadLog(result.RunDirectory).Episodes;

        Assert.True(episodes.Count > beforeResume, "the resumed run appended nothing");
        var training = episodes.Where(e => e.Phase == "ppo").ToList();
        var evaluation = episodes.Where(e => e.Phase == "eval").ToList();
        Assert.NotEmpty(training);
        Assert.All(training, e => { Assert.False(e.Evaluation); Assert.StartsWith("phase-000-step-", e.CheckpointId); });
        Assert.Equal(9, evaluation.Count);
        Assert.All(evaluation, e => Assert.True(e.Evaluation));
        Assert.Equal(episodes.Count, episodes.Select(e => e.Index).Distinct().Count());
        AssertReplaysExactly(result.RunDirectory, episodes.Count);
    }

    [Fact]
    public void AResumedRunOfAnEarlierBuildKeepsAppendingToItsEpisodesArrow()
    {
        using var dir = new TempDirectory();
        var cfg = InterruptedRecordingRun(dir.Combine("run"));
        // Earlier builds named the run's log episodes.arrow (the same Arrow IPC stream).
        string legacy = Path.Combine(dir.Combine("run"), "episodes.arrow");
        File.Move(Path.Combine(dir.Combine("run"), TrainingRunner.EpisodeLogFile), legacy);
        int beforeResume = EpisodeLogReader.ReadAll(legacy).ThrowIfDamaged().Episodes.Count;
        Assert.Equal(legacy, TrainingRunner.EpisodeLogPath(dir.Combine("run")));

        TrainingRunner.Run(cfg, dir.Combine("run"), resume: true);
        Assert.False(File.Exists(Path.Combine(dir.Combine("run"), TrainingRunner.EpisodeLogFile)));
        Assert.True(EpisodeLogReader.ReadAll(legacy).ThrowIfDamaged().Episodes.Count > beforeResume, "the resumed run did not append to episodes.arrow");
    }

    [Fact]
    public void EveryNthAppliesToTrainingAndEvaluationEpisodesAlike()
    {
        using var dir = new TempDirectory();
        var options = TestPaths.Load("cartpole-ppo.json", [.. EvaluatingPpo, "recording={\"mode\":\"everyNth\",\"everyN\":3,\"observationHashes\":true}"]);
        var result = TrainingRunner.Run(options, dir.Combine("run"));
        var episodes = ReadLog(result.RunDirectory).Episodes;
        Assert.Contains(episodes, e => e.Phase == "ppo");
        Assert.All(episodes, e => Assert.Equal(0, e.Index % 3));
        AssertReplaysExactly(result.RunDirectory, episodes.Count);
    }

    [Fact]
    public void EvaluationOnlyWithoutEvaluationsIsAConfigurationError()
    {
        var options = TestPaths.Load("cartpole-ppo.json", [.. EvaluatingPpo, "recording={\"mode\":\"evaluationOnly\",\"includeEvaluations\":false}"]);
        var error = Assert.Throws<ConfigurationException>(options.Validate);
        Assert.Equal("recording.includeEvaluations", error.Path);
    }
}
