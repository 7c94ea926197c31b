using RLAgents.Environments.EpisodeLogs;
using RLAgents.Environments.Vector;

namespace RLAgents.Environments.Tests.EpisodeLogs;

public sealed class RecorderGroupTests
{
    [Theory]
    [InlineData("BabyAI-GoToRedBall-v0", false)] // no start states: autoreset episodes get assigned seeds
    [InlineData("CartPole-v1", true)]            // start states captured on autoreset, worker threads write concurrently
    public void Vector_env_sub_envs_record_into_one_replayable_log(string id, bool threaded)
    {
        var registry = EnvRegistry.CreateDefault();
        string path = LogTestKit.TempFile("vector.arrow");
        using var writer = EpisodeLogWriter.Create(path, EpisodeLogHeader.For(registry.Make(id), new EpisodeRecorderOptions { ObservationHashes = true }));
        var group = new EpisodeRecorderGroup(writer, new EpisodeRecorderOptions { ObservationHashes = true, Seed = 5 }) { Phase = "rl" };
        IVectorEnv vec = threaded
            ? new ThreadedVectorEnv(i => group.Wrap(registry.Make(id), i), 4, AutoresetMode.SameStep, workers: 2)
            : new SyncVectorEnv(i => group.Wrap(registry.Make(id), i), 4, AutoresetMode.SameStep);
        vec.Reset(11);
        var rng = new Rng(3);
        var actions = new int[4];
        int ended = 0;
        for (int s = 0; s < 400; s++)
        {
            for (int i = 0; i < 4; i++) actions[i] = rng.NextInt(vec.SingleActionSpace.N);
            vec.Step(actions);
            for (int i = 0; i < 4; i++) if (vec.Terminated[i] || vec.Truncated[i]) ended++;
        }
        vec.Dispose();
        writer.Dispose();

        var log = EpisodeLogReader.ReadAll(path);
        Assert.True(ended >= 4, $"only {ended} episodes ended");
        Assert.Equal(ended, log.Episodes.Count);
        Assert.Equal(ended, group.EpisodesRecorded);
        Assert.Equal(log.Episodes.Count, log.Episodes.Select(e => e.Index).Distinct().Count());
        Assert.All(log.Episodes, e => Assert.Equal("rl", e.Phase));
        var report = new Replayer(registry).Verify(path);
        Assert.True(report.Success, report.Summary());
    }
}
