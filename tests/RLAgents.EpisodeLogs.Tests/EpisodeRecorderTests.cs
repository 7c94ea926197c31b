using RLAgents.Environments;
using RLAgents.EpisodeLogs;

namespace RLAgents.EpisodeLogs.Tests;

public sealed class EpisodeRecorderTests
{
    /// <summary>Runs <paramref name="episodes"/> seeded episodes through a recorder; the policy walks east then south.</summary>
    private static (EpisodeRecorder rec, EpisodeLog log) Run(EpisodeRecorderOptions options, int episodes, Func<RecordedEpisode, bool>? filter = null, Action<EpisodeRecorder, int>? before = null)
    {
        string path = TempDirectory.ForProcess.NewFile("modes.arrows");
        var rec = EpisodeRecorder.Create(LogTestKit.Registry().Make("Beacon-v2"), path, out var writer, options, filter: filter);
        for (int e = 0; e < episodes; e++)
        {
            before?.Invoke(rec, e);
            rec.Reset(e);
            for (int t = 0; ; t++)
                if (rec.Step(t % 3 == 0 ? 1 : 0).Done) break;
        }
        rec.Dispose();
        writer.Dispose();
        return (rec, EpisodeLogReader.ReadAll(path));
    }

    [Fact]
    public void EveryNthRecordsIndicesDivisibleByN()
    {
        var (rec, log) = Run(new EpisodeRecorderOptions { Mode = RecordMode.EveryNth, EveryN = 3 }, 10);
        Assert.Equal([0L, 3, 6, 9], log.Episodes.Select(e => e.Index));
        Assert.Equal(10, rec.EpisodesStarted);
        Assert.Equal(4, rec.EpisodesRecorded);
    }

    [Fact]
    public void EvaluationOnlyRecordsEvaluationEpisodesWithCheckpointAndPhase()
    {
        var (_, log) = Run(new EpisodeRecorderOptions { Mode = RecordMode.EvaluationOnly }, 6, before: (r, e) =>
        {
            r.Evaluation = e >= 4;
            r.Phase = e >= 4 ? "eval" : "rl";
            r.CheckpointId = $"ckpt-{e / 2}";
        });
        Assert.Equal([4L, 5], log.Episodes.Select(e => e.Index));
        Assert.All(log.Episodes, e => Assert.True(e.Evaluation));
        Assert.All(log.Episodes, e => Assert.Equal("eval", e.Phase));
        Assert.Equal(["ckpt-2", "ckpt-2"], log.Episodes.Select(e => e.CheckpointId));
    }

    [Fact]
    public void FilterKeepsSuccessfulEpisodesAndAppliesAPredicate()
    {
        var (all, allLog) = Run(new EpisodeRecorderOptions(), 12);
        var successes = allLog.Episodes.Where(e => e.Success == true).Select(e => e.Index).ToList();
        Assert.NotEmpty(successes);
        Assert.True(successes.Count < 12);
        var (rec, log) = Run(new EpisodeRecorderOptions { Mode = RecordMode.Filter, FilterSuccessOnly = true }, 12);
        Assert.Equal(successes, log.Episodes.Select(e => e.Index));
        Assert.Equal(12 - successes.Count, rec.EpisodesFiltered);

        var longOnes = allLog.Episodes.Where(e => e.Length >= 10).Select(e => e.Index).ToList();
        var (_, byLength) = Run(new EpisodeRecorderOptions { Mode = RecordMode.Filter }, 12, filter: e => e.Length >= 10);
        Assert.Equal(longOnes, byLength.Episodes.Select(e => e.Index));

        double min = allLog.Episodes.Select(e => e.Return).Order().ElementAt(6);
        var (_, byReturn) = Run(new EpisodeRecorderOptions { Mode = RecordMode.Filter, FilterMinReturn = min }, 12);
        Assert.Equal(allLog.Episodes.Where(e => e.Return >= min).Select(e => e.Index), byReturn.Episodes.Select(e => e.Index));
    }

    [Fact]
    public void AgentOutputsAttachToTheNextStepOnly()
    {
        string path = TempDirectory.ForProcess.NewFile("agent.arrows");
        var rec = EpisodeRecorder.Create(LogTestKit.Registry().Make("Beacon-v2"), path, out var writer);
        rec.Reset(1);
        rec.AttachAgentOutput([0.1f, 0.2f, 0.3f, 0.4f], 2.5f);
        rec.Step(0);
        rec.Step(1); // nothing attached
        rec.AttachAgentOutput([], 7f);
        int t = 2;
        while (!rec.Step(t++ % 2 == 0 ? 0 : 1).Done) { }
        rec.Dispose();
        writer.Dispose();
        var e = Assert.Single(EpisodeLogReader.ReadAll(path).Episodes);
        Assert.Equal([0.1f, 0.2f, 0.3f, 0.4f], e.ActionProbabilities[0]!);
        Assert.Equal(2.5f, e.Values[0]);
        Assert.Null(e.ActionProbabilities[1]);
        Assert.Null(e.Values[1]);
        Assert.Null(e.ActionProbabilities[2]);
        Assert.Equal(7f, e.Values[2]);
    }

    [Fact]
    public void InvalidOptionsAndMismatchedLogsAreRejectedWithNamedErrors()
    {
        var env = LogTestKit.Registry().Make("Beacon-v2");
        string path = TempDirectory.ForProcess.NewFile("bad.arrows");
        var ex = Assert.Throws<ArgumentException>(() => EpisodeRecorder.Create(env, path, out _, new EpisodeRecorderOptions { EveryN = 0 }));
        Assert.Contains("EveryN", ex.Message);
        using var cartpoleLog = EpisodeLogWriter.Create(TempDirectory.ForProcess.NewFile("c.arrows"), EpisodeLogHeader.For(EnvRegistry.CreateDefault().Make("CartPole-v1"), new EpisodeRecorderOptions()));
        ex = Assert.Throws<ArgumentException>(() => new EpisodeRecorder(env, cartpoleLog));
        Assert.Contains("state", ex.Message);
        var corridor = new RLAgents.TestPlugin.Corridor(new RLAgents.TestPlugin.CorridorOptions());
        ex = Assert.Throws<ArgumentException>(() => EpisodeRecorder.Create(corridor, TempDirectory.ForProcess.NewFile("d.arrows"), out _, new EpisodeRecorderOptions { UnseededResets = UnseededResetPolicy.CaptureStartState }));
        Assert.Contains("AssignSeed", ex.Message);
    }

    [Fact]
    public void UnseededResetsOfAnEnvWithoutStartStatesGetDerivedSeeds()
    {
        string path = TempDirectory.ForProcess.NewFile("assigned.arrows");
        var rec = EpisodeRecorder.Create(new RLAgents.Environments.Wrappers.TimeLimit(new RLAgents.TestPlugin.Corridor(new RLAgents.TestPlugin.CorridorOptions()), 6), path, out var writer, new EpisodeRecorderOptions { Seed = 77 });
        for (int e = 0; e < 3; e++)
        {
            rec.Reset();
            while (!rec.Step(e % 2).Done) { }
        }
        rec.Dispose();
        writer.Dispose();
        var log = EpisodeLogReader.ReadAll(path);
        Assert.Equal(Enumerable.Range(0, 3).Select(i => (long?)unchecked((long)Rng.DeriveSeed(Rng.DeriveSeed(77, "episode-log-slot", 0), "episode-log-reset", i))), log.Episodes.Select(e => e.Seed));
    }

    [Theory]
    [InlineData("BabyAI-BossLevel-v0", false)]
    [InlineData("BabyAI-KeyInBox-v0", false)]
    [InlineData("BabyAI-PutNextS5N2Carrying-v0", true)]
    public void RecordingABabyAILevelLeavesItsUnseededEpisodesAsTheyWereAndTheyReplay(string id, bool seedsAssigned)
    {
        // The same actions on a plain and a recorded instance, through a seeded reset and then unseeded ones (a vector
        // env's autoresets): every observation and reward agree, because the recorder captures each episode's layout
        // instead of reseeding the level. Levels whose agent starts carrying cannot be captured and get seeds instead.
        var registry = EnvRegistry.CreateDefault();
        using var plain = registry.Make(id);
        string path = TempDirectory.ForProcess.NewFile("babyai-unseeded.arrows");
        var rec = EpisodeRecorder.Create(registry.Make(id), path, out var writer, new EpisodeRecorderOptions());
        var world = (RLAgents.Environments.GridWorld.GridWorldEnv)rec.Unwrapped();
        var rng = new Rng(3);
        const int episodes = 6;
        for (int e = 0; e < episodes; e++)
        {
            long? seed = e == 0 ? 21 : null;
            var a = plain.Reset(seed);
            var b = rec.Reset(seed);
            if (!seedsAssigned) Assert.Equal(Convert.ToHexString(a.Observation.Bytes("image")), Convert.ToHexString(b.Observation.Bytes("image")));
            // A few random actions, then the bot (planning on the recorded instance) to the end of the episode.
            RLAgents.Environments.GridWorld.Bot.BabyAIBot? bot = null;
            for (int t = 0; ; t++)
            {
                if (t == 5) bot = new RLAgents.Environments.GridWorld.Bot.BabyAIBot(world);
                int action = bot?.Act() ?? rng.NextInt(6);
                var y = rec.Step(action);
                if (!seedsAssigned) // the plain instance plays other episodes when the recorder seeds them
                {
                    var x = plain.Step(action);
                    Assert.Equal((x.Reward, x.Terminated, x.Truncated), (y.Reward, y.Terminated, y.Truncated));
                    Assert.Equal(Convert.ToHexString(x.Observation.Bytes("image")), Convert.ToHexString(y.Observation.Bytes("image")));
                }
                if (y.Done) break;
            }
        }
        rec.Dispose();
        writer.Dispose();
        var log = EpisodeLogReader.ReadAll(path);
        Assert.Equal(episodes, log.Episodes.Count);
        foreach (var episode in log.Episodes.Where(ep => ep.Index > 0))
        {
            Assert.Equal(seedsAssigned, episode.Seed is not null);
            Assert.Equal(!seedsAssigned, episode.StartState is not null);
        }
        var report = new Replayer().Verify(path);
        Assert.True(report.Success, report.Summary());
        Assert.Equal(log.Episodes.Count, report.Matched);
    }

    [Fact]
    public void ADamagedBabyAIStartStateIsReportedAsUnreplayableInOneLineAndTheLogIsLeftAsItWas()
    {
        var registry = EnvRegistry.CreateDefault();
        string path = TempDirectory.ForProcess.NewFile("babyai-start.arrows");
        var rec = EpisodeRecorder.Create(registry.Make("BabyAI-GoToLocal-v0"), path, out var writer, new EpisodeRecorderOptions());
        rec.Reset(); // unseeded: the recorder captures the layout
        var bot = new RLAgents.Environments.GridWorld.Bot.BabyAIBot((RLAgents.Environments.GridWorld.GridWorldEnv)rec.Unwrapped());
        while (!rec.Step(bot.Act()).Done) { }
        rec.Dispose();
        writer.Dispose();
        var log = EpisodeLogReader.ReadAll(path);
        var episode = Assert.Single(log.Episodes);
        Assert.NotNull(episode.StartState);
        // The same episode with its layout cut short, in a log of its own.
        string damaged = TempDirectory.ForProcess.NewFile("babyai-start-damaged.arrows");
        episode.StartState = episode.StartState![..(episode.StartState.Length / 2)];
        using (var copy = EpisodeLogWriter.Create(damaged, log.Header)) copy.Write(episode);
        byte[] before = File.ReadAllBytes(damaged);
        var report = new Replayer().Verify(damaged);
        Assert.False(report.Success);
        var divergence = report.FirstDivergence!;
        Assert.Equal(DivergenceKind.Unreplayable, divergence.Kind);
        Assert.Contains("BabyAI-GoToLocal-v0: the start state is not a grid-world layout", divergence.ToString());
        Assert.DoesNotContain('\n', divergence.ToString());
        Assert.Equal(before, File.ReadAllBytes(damaged));
    }

    [Theory]
    [InlineData("CartPole-v1", true)]
    [InlineData("CartPole-v1", false)]
    [InlineData("BabyAI-GoToLocal-v0", true)]
    public void RecordingAllocatesNothingPerStepAndOnlyEpisodeMetadataPerEpisode(string id, bool hashes)
    {
        // Measured in bytes allocated on this thread, not time: warm up (buffers grow to their
        // working size), then record more episodes of the same kind with agent outputs attached.
        var registry = EnvRegistry.CreateDefault();
        var baseline = registry.Make(id);
        string path = TempDirectory.ForProcess.NewFile("alloc.arrows");
        using var rec = EpisodeRecorder.Create(registry.Make(id), path, out var writer, new EpisodeRecorderOptions { ObservationHashes = hashes });
        var probs = new float[rec.ActionSpace.AsDiscrete("this test").N];
        probs[0] = 1;
        long Play(IEnv env, int episodes, bool attach)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int e = 0; e < episodes; e++)
            {
                env.Reset(e % 4);
                for (int t = 0; ; t++)
                {
                    if (attach) rec.AttachAgentOutput(probs, t);
                    if (env.Step(t % 3 == 0 ? 1 : 0).Done) break;
                }
            }
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Play(rec, 8, attach: true);
        Play(baseline, 8, attach: false);
        // The least of three rounds: a per-step allocation shows in every round, while a one-off
        // in the process (a runtime trimming its pools on a GC caused by tests running beside
        // this one, then refilling them) shows in one round at most.
        long excess = long.MaxValue, plain = 0;
        for (int round = 0; round < 3; round++)
        {
            long recorded = Play(rec, 8, attach: true);
            plain = Play(baseline, 8, attach: false);
            excess = Math.Min(excess, recorded - plain);
        }
        writer.Dispose();
        Assert.Equal(32, EpisodeLogReader.ReadAll(path).Episodes.Count);
        // Per episode: the RecordedEpisode holding its index, seed and flags (144 bytes); nothing per step.
        Assert.True(excess <= 8 * 256, $"recording allocated {excess} bytes over 8 episodes beyond the env's own {plain}");
    }
}
