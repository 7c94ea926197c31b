using RLAgents.Environments;
using RLAgents.Environments.Vector;
using RLAgents.EpisodeLogs;

namespace RLAgents.EpisodeLogs.Tests;

public sealed class RecorderGroupTests
{
    [Theory]
    [InlineData("BabyAI-GoToRedBall-v0", false)] // no start states: autoreset episodes get assigned seeds
    [InlineData("CartPole-v1", true)]            // start states captured on autoreset, worker threads write concurrently
    public void VectorEnvSubEnvsRecordIntoOneReplayableLog(string id, bool threaded)
    {
        var registry = EnvRegistry.CreateDefault();
        string path = TempDirectory.ForProcess.NewFile("vector.arrows");
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
            for (int i = 0; i < 4; i++) actions[i] = rng.NextInt(vec.SingleActionSpace.AsDiscrete("this test").N);
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

    [Fact]
    public void SiblingsShareTheEpisodeCounterStoppedSlotsRecordNothingAndAppendsContinueTheNumbering()
    {
        var registry = EnvRegistry.CreateDefault();
        string path = TempDirectory.ForProcess.NewFile("siblings.arrows");
        var header = EpisodeLogHeader.For(registry.Make("CartPole-v1"), new EpisodeRecorderOptions());
        var probs = new float[] { 0.25f, 0.75f };
        void Play(EpisodeRecorderGroup group, int episodes, bool stopSlot1)
        {
            using var vec = new SyncVectorEnv(i => group.Wrap(registry.Make("CartPole-v1"), i), 2, AutoresetMode.SameStep);
            vec.Reset(3);
            if (stopSlot1) group.Stop(1);
            int ended = 0;
            while (ended < episodes)
            {
                for (int i = 0; i < 2; i++) group.AttachAgentOutput(i, probs, value: i);
                vec.Step([0, 1]);
                if (vec.Terminated[0] || vec.Truncated[0]) ended++;
            }
        }
        using (var writer = EpisodeLogWriter.Create(path, header))
        {
            var training = new EpisodeRecorderGroup(writer) { Phase = "rl" };
            Play(training, 2, stopSlot1: false);
            var evaluation = training.CreateSibling();
            evaluation.Phase = "eval";
            Play(evaluation, 3, stopSlot1: true);
        }
        long before;
        using (var writer = EpisodeLogWriter.Append(path, header, out _))
        {
            before = writer.NextEpisodeIndex;
            Play(new EpisodeRecorderGroup(writer) { Phase = "rl" }, 1, stopSlot1: false);
        }

        var episodes = EpisodeLogReader.ReadAll(path).ThrowIfDamaged().Episodes;
        Assert.Equal(episodes.Count, episodes.Select(e => e.Index).Distinct().Count());
        var eval = episodes.Where(e => e.Phase == "eval").ToList();
        // Slot 1 (always pushing right) was stopped: only slot 0's three episodes, whose actions are all 0.
        Assert.Equal(3, eval.Count);
        Assert.All(eval, e => Assert.All(e.Actions, a => Assert.Equal(0, a)));
        Assert.All(eval, e => Assert.All(e.Values, v => Assert.Equal(0f, v)));
        Assert.All(episodes, e => Assert.All(e.ActionProbabilities, p => Assert.Equal(probs, p!)));
        Assert.Equal(episodes.Where(e => e.Index < before).Max(e => e.Index) + 1, before);
        Assert.All(episodes.Skip(episodes.Count - 1), e => Assert.True(e.Index >= before));
        Assert.True(new Replayer(registry).Verify(path).Success);
    }
}
