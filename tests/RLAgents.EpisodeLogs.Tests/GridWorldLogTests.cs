using RLAgents.Environments;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Bot;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.EpisodeLogs;

namespace RLAgents.EpisodeLogs.Tests;

public sealed class GridWorldLogTests
{
    /// <summary>
    /// Records <paramref name="episodes"/> episodes of a BabyAI level: even episodes played by the
    /// expert bot (with a one-hot action distribution attached), odd ones by a random policy.
    /// </summary>
    internal static string RecordLevel(string id, int episodes, EpisodeRecorderOptions? options = null, long seed = 0, string phase = "bot")
    {
        string path = TempDirectory.ForProcess.NewFile($"{id}.arrows");
        var recorder = EpisodeRecorder.Create(EnvRegistry.CreateDefault().Make(id), path, out var writer, options);
        recorder.Phase = phase;
        var policy = new Rng(seed + 1000);
        var probs = new float[GridConstants.ActionCount];
        for (int e = 0; e < episodes; e++)
        {
            recorder.Reset(seed + e);
            var bot = new BabyAIBot((GridWorldEnv)recorder.Unwrapped());
            while (true)
            {
                int a = e % 2 == 0 ? bot.Act() : policy.NextInt(GridConstants.ActionCount);
                Array.Clear(probs);
                probs[a] = 1;
                recorder.AttachAgentOutput(probs, value: 0.5f);
                if (recorder.Step(a).Done) break;
            }
        }
        recorder.Dispose();
        writer.Dispose();
        return path;
    }

    [Fact]
    public void EveryLevelRoundTripsThroughRecordAndVerifiedReplay()
    {
        var replayer = new Replayer();
        int i = 0;
        foreach (var id in BabyAILevels.All.Values.Where(l => l.AlwaysSolvable).Select(l => l.Id))
        {
            bool hashes = i++ % 2 == 1;
            string path = RecordLevel(id, 2, new EpisodeRecorderOptions { ObservationHashes = hashes }, seed: 10 * i);
            var log = EpisodeLogReader.ReadAll(path);
            Assert.Equal(["image", "direction", "mission", "description"], log.Header.Modalities.Select(m => m.Name));
            Assert.True(log.Episodes[0].Success, $"{id}: the bot's episode should succeed");
            var report = replayer.Verify(path);
            Assert.True(report.Success, $"{id}: {report.Summary()}");
            Assert.Equal(2, report.Matched);
        }
    }

    [Fact]
    public void TamperedGridLogNamesEpisodeStepAndModality()
    {
        string path = RecordLevel("BabyAI-GoToLocal-v0", 2, seed: 3);
        var tampered = ReplayerTests.Rewrite(path, h => h, e =>
        {
            if (e.Index == 1) e.Observations[3].Texts![5] += " and a purple key";
        });
        var d = new Replayer().Verify(tampered).FirstDivergence!;
        Assert.Equal((1L, 5, DivergenceKind.Observation, "description"), (d.Episode, d.Step, d.Kind, d.Modality));
        Assert.EndsWith(" and a purple key\"", d.Recorded);
    }
}
