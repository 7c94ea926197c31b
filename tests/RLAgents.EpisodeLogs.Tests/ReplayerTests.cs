using RLAgents.Environments;
using RLAgents.Environments.ClassicControl;
using RLAgents.EpisodeLogs;

namespace RLAgents.EpisodeLogs.Tests;

public sealed class ReplayerTests
{
    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public void CartPoleRoundTripsSeededAndFromStartState(bool hashes, bool seeded)
    {
        string path = LogTestKit.Record("CartPole-v1", 6, new EpisodeRecorderOptions { ObservationHashes = hashes }, seeded, seed: 21, envOptions: new CartPoleOptions());
        var log = EpisodeLogReader.ReadAll(path);
        if (!seeded)
            Assert.All(log.Episodes, e => { Assert.Null(e.Seed); Assert.StartsWith("{\"state\":[", e.StartState); });
        var report = new Replayer().Verify(path);
        Assert.True(report.Success, report.Summary());
        Assert.Equal(6, report.Matched);
        Assert.Equal(log.Episodes.Sum(e => e.Length), report.Episodes.Sum(e => e.StepsReplayed));
    }

    [Fact]
    public void ToyEnvWithEveryModalityRoundTripsInBothModes()
    {
        var registry = LogTestKit.Registry();
        foreach (bool hashes in new[] { false, true })
        {
            string path = LogTestKit.Record("Beacon-v2", 8, new EpisodeRecorderOptions { ObservationHashes = hashes }, seed: 4, registry: registry);
            var report = new Replayer(LogTestKit.Registry()).Verify(path);
            Assert.True(report.Success, report.Summary());
            Assert.Equal(8, report.Episodes.Count);
        }
    }

    [Fact]
    public void UnseededResetsCaptureStartStatesWithoutTouchingTheEnvStream()
    {
        // The recorder must not change what the env does: an unseeded reset continues the stream.
        var registry = LogTestKit.Registry();
        var plain = registry.Make("Beacon-v2");
        plain.Reset(3);
        plain.Step(0);
        var expected = plain.Reset().Observation.Clone();
        string path = TempDirectory.ForProcess.NewFile("s.arrows");
        var rec = EpisodeRecorder.Create(registry.Make("Beacon-v2"), path, out var writer);
        rec.Reset(3);
        rec.Step(0);
        Assert.True(expected.ContentEquals(rec.Reset().Observation));
        while (!rec.Step(1).Done) { }
        rec.Dispose();
        writer.Dispose();
        var log = EpisodeLogReader.ReadAll(path);
        var ep = Assert.Single(log.Episodes);
        Assert.Equal(1, ep.Index); // episode 0 was abandoned by the reset
        Assert.NotNull(ep.StartState);
        Assert.True(new Replayer(registry).Verify(path).Success);
    }

    [Fact]
    public void PlugInEnvIsReplayedFromItsAssemblyAndAMissingAssemblyIsNamed()
    {
        var registry = LogTestKit.Registry();
        string path = LogTestKit.Record("", 5, seed: 2, registry: registry, plugin: LogTestKit.CorridorSpec);
        var log = EpisodeLogReader.ReadAll(path);
        Assert.Equal("Corridor-v0", log.Header.EnvId);
        Assert.Equal(LogTestKit.CorridorSpec, log.Header.Plugin);
        var report = new Replayer(EnvRegistry.CreateDefault()).Verify(path);
        Assert.True(report.Success, report.Summary());

        // The same log whose plug-in assembly moved away.
        string moved = Rewrite(path, h => h with { Plugin = "/gone/Corridor.dll:RLAgents.TestPlugin.Corridor" });
        var ex = Assert.Throws<EpisodeLogEnvironmentException>(() => new Replayer().Verify(moved));
        Assert.Contains("'/gone/Corridor.dll'", ex.Message);
        Assert.Contains("RLAgents.TestPlugin.Corridor", ex.Message);
        // ...and replays when told where it is now.
        Assert.True(new Replayer().Verify(moved, new ReplayOptions { PluginAssembly = LogTestKit.PluginPath }).Success);
    }

    [Fact]
    public void OtherEnvVersionOrAssemblyIsAnErrorUnlessForced()
    {
        string path = LogTestKit.Record("CartPole-v1", 2, seed: 1);
        string v0 = Rewrite(path, h => h with { EnvId = "CartPole-v0" });
        var ex = Assert.Throws<EpisodeLogEnvironmentException>(() => new Replayer().Verify(v0));
        Assert.Equal("The log was recorded with CartPole-v0; this build has CartPole-v1. Use --force to replay on CartPole-v1.", ex.Message);
        Assert.True(new Replayer().Verify(v0, new ReplayOptions { Force = true }).Success);

        string asm = Rewrite(path, h => h with { EnvAssembly = "RLAgents.Environments, 0.0.0.1" });
        ex = Assert.Throws<EpisodeLogEnvironmentException>(() => new Replayer().Verify(asm));
        Assert.Contains("from RLAgents.Environments, 0.0.0.1", ex.Message);
        Assert.Contains("--force", ex.Message);
        Assert.True(new Replayer().Verify(asm, new ReplayOptions { Force = true }).Success);

        string unknown = Rewrite(path, h => h with { EnvId = "Unicycle-v3" });
        ex = Assert.Throws<EpisodeLogEnvironmentException>(() => new Replayer().Verify(unknown));
        Assert.Contains("Unicycle-v3", ex.Message);
        Assert.Contains("RLAgents.Environments", ex.Message);

        string badOptions = Rewrite(path, h => h with { EnvOptionsJson = "{\"gravity\":3}" });
        ex = Assert.Throws<EpisodeLogEnvironmentException>(() => new Replayer().Verify(badOptions));
        Assert.Contains("env.options.gravity", ex.Message);
    }

    [Fact]
    public void TamperedLogsReportTheFirstDivergence()
    {
        var registry = LogTestKit.Registry();
        string path = LogTestKit.Record("Beacon-v2", 4, seed: 9, registry: registry);
        var log = EpisodeLogReader.ReadAll(path);
        int longest = Enumerable.Range(0, 4).MaxBy(i => log.Episodes[i].Length);
        Assert.True(log.Episodes[longest].Length > 5);

        var image = Tamper(path, longest, e => e.Observations[0].Bytes![4 * 3072 + 100] ^= 1);
        var d = new Replayer(registry).Verify(image).FirstDivergence!;
        Assert.Equal((longest, 4, DivergenceKind.Observation, "image"), (d.Episode, d.Step, d.Kind, d.Modality));
        Assert.Equal($"episode {longest}, step 4, modality 'image': observation differs (recorded element 100 = {log.Episodes[longest].Observations[0].Bytes![4 * 3072 + 100] ^ 1}, replayed element 100 = {log.Episodes[longest].Observations[0].Bytes![4 * 3072 + 100]})", d.ToString());

        var mission = Tamper(path, longest, e => e.Observations[3].Texts![0] = "go somewhere else");
        d = new Replayer(registry).Verify(mission).FirstDivergence!;
        Assert.Equal((longest, 0, "mission"), (d.Episode, d.Step, d.Modality));

        var reward = Tamper(path, longest, e => e.Rewards[3] += 1e-12);
        d = new Replayer(registry).Verify(reward).FirstDivergence!;
        Assert.Equal((longest, 3, DivergenceKind.Reward), (d.Episode, d.Step, d.Kind));

        var flag = Tamper(path, longest, e => e.Terminated[2] = true);
        d = new Replayer(registry).Verify(flag).FirstDivergence!;
        Assert.Equal((longest, 2, DivergenceKind.Terminated), (d.Episode, d.Step, d.Kind));

        // A changed action makes the next observation differ (state and image are first in order).
        var action = Tamper(path, longest, e => e.Actions[1] = e.Actions[1] == 0 ? 2 : 0);
        d = new Replayer(registry).Verify(action).FirstDivergence!;
        Assert.Equal(longest, d.Episode);
        Assert.True(d.Step <= 2, d.ToString());

        // Hash mode: a changed hash is reported with both hashes.
        string hashed = LogTestKit.Record("Beacon-v2", 2, new EpisodeRecorderOptions { ObservationHashes = true }, seed: 9, registry: registry);
        var h = Tamper(hashed, 1, e => e.Observations[1].Hashes![2] ^= 0xFF);
        d = new Replayer(registry).Verify(h).FirstDivergence!;
        Assert.Equal((1L, 2, "state"), (d.Episode, d.Step, d.Modality));
        Assert.StartsWith("hash 0x", d.Recorded);

        // Replaying one episode only.
        var one = new Replayer(registry).Verify(image, new ReplayOptions { Episode = (longest + 1) % 4 });
        Assert.True(one.Success);
        Assert.Single(one.Episodes);
        Assert.Throws<RLAgents.Core.InputException>(() => new Replayer(registry).Verify(image, new ReplayOptions { Episode = 99 }));
    }

    [Fact]
    public void RegenerateRestoresFullObservationsOfAHashLog()
    {
        var registry = LogTestKit.Registry();
        string full = LogTestKit.Record("Beacon-v2", 2, seed: 12, registry: registry);
        string hashed = LogTestKit.Record("Beacon-v2", 2, new EpisodeRecorderOptions { ObservationHashes = true }, seed: 12, registry: registry);
        var a = EpisodeLogReader.ReadAll(full);
        var b = EpisodeLogReader.ReadAll(hashed);
        var replayer = new Replayer(registry);
        using var env = replayer.CreateEnvironment(b.Header);
        var regenerated = replayer.Regenerate(env, b.Header, b.Episodes[1]);
        Assert.Equal(a.Episodes[1].Observations[0].Bytes, regenerated.Observations[0].Bytes);
        Assert.Equal(a.Episodes[1].Observations[3].Texts, regenerated.Observations[3].Texts);
        Assert.Equal(a.Episodes[1].Values, regenerated.Values);
    }

    internal static string Rewrite(string path, Func<EpisodeLogHeader, EpisodeLogHeader> header, Action<RecordedEpisode>? change = null)
    {
        var log = EpisodeLogReader.ReadAll(path);
        string output = TempDirectory.ForProcess.NewFile("rewritten.arrows");
        using var writer = EpisodeLogWriter.Create(output, header(log.Header));
        foreach (var e in log.Episodes)
        {
            change?.Invoke(e);
            writer.Write(e);
        }
        return output;
    }

    private static string Tamper(string path, int episode, Action<RecordedEpisode> change) =>
        Rewrite(path, h => h, e => { if (e.Index == episode) change(e); });
}
