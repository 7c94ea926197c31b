using RLAgents.Environments;
using RLAgents.Environments.Wrappers;

namespace RLAgents.EpisodeLogs.Tests;

/// <summary>Logged episodes replayed under observation wrappers the log does not hold (an agent's image pipeline).</summary>
public sealed class ObservedReplayTests
{
    private static IEnv GreyPairs(IEnv env) =>
        new FrameStackObservation(new GrayscaleObservation(env, new GrayscaleOptions()), new FrameStackOptions { Frames = 2 });

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WrappedObservationsFollowTheLoggedOnesFromSeedsAndStartStates(bool seeded)
    {
        var registry = LogTestKit.Registry();
        var options = new EpisodeRecorderOptions { UnseededResets = UnseededResetPolicy.CaptureStartState };
        string path = LogTestKit.Record("Beacon-v2", 3, options, seeded: seeded, seed: 6, registry: registry);
        var log = EpisodeLogReader.ReadAll(path);
        Assert.All(log.Episodes, e => Assert.Equal(seeded, e.Seed is not null));
        Assert.All(log.Episodes, e => Assert.Equal(!seeded, e.StartState is not null));
        using var replay = new ObservedReplay(new Replayer(registry), log.Header, GreyPairs);
        var space = replay.ObservationSpace;
        Assert.Equal([32, 32, 2], ((BoxSpace)space["image"].Space).Shape);
        var logged = new Observation(new ObservationSpace([.. log.Header.Modalities.Select(m => m.ToModality())]));
        var grey = new byte[32 * 32];
        foreach (var episode in log.Episodes)
        {
            var seen = replay.Replay(episode);
            Assert.Equal(episode.Length, seen.Length);
            var previous = new byte[32 * 32];
            for (int t = 0; t < episode.Length; t++)
            {
                for (int m = 0; m < episode.Observations.Length; m++) episode.Observations[m].CopyTo(t, logged, m);
                GrayscaleObservation.Convert(logged.Bytes("image"), grey, LumaWeights.Rec601);
                if (t == 0) grey.CopyTo(previous, 0);
                // Channel 0 holds the previous frame (the first one again at the start), channel 1 the current one.
                var stack = seen[t].Bytes("image");
                for (int p = 0; p < grey.Length; p++)
                {
                    Assert.Equal(previous[p], stack[2 * p]);
                    Assert.Equal(grey[p], stack[2 * p + 1]);
                }
                Assert.True(logged.Floats("state").SequenceEqual(seen[t].Floats("state")));
                grey.CopyTo(previous, 0);
            }
        }
    }

    [Fact]
    public void AReplayThatLeavesTheLogFailsNamingEpisodeAndStep()
    {
        var registry = LogTestKit.Registry();
        string path = LogTestKit.Record("Beacon-v2", 2, seed: 3, registry: registry);
        var log = EpisodeLogReader.ReadAll(path);
        using var replay = new ObservedReplay(new Replayer(registry), log.Header, GreyPairs);
        var episode = log.Episodes[1];
        Assert.True(episode.Length > 1);
        episode.Rewards[1] += 0.5;
        var e = Assert.Throws<InvalidDataException>(() => replay.Replay(episode));
        Assert.Contains($"episode {episode.Index}, step 1: reward differs", e.Message);
        // The replay is reusable after a divergence: the next episode starts afresh.
        Assert.Equal(log.Episodes[0].Length, replay.Replay(log.Episodes[0]).Length);
    }
}
