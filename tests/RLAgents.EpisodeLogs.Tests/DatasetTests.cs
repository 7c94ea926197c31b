using System.Text.Json;
using Parquet;
using RLAgents.Environments;
using RLAgents.EpisodeLogs;

namespace RLAgents.EpisodeLogs.Tests;

public sealed class DatasetTests
{
    [Fact]
    public void StatsGroupByLevelAndPhase()
    {
        string path = LogTestKit.Record("Beacon-v2", 5, seed: 2);
        double[] returns = [1, 2, 3, 10, 5];
        bool?[] success = [true, false, true, null, true];
        string log = ReplayerTests.Rewrite(path, h => h, e =>
        {
            e.Return = returns[e.Index];
            e.Success = success[e.Index];
            e.Phase = e.Index == 4 ? "eval" : "rl";
        });
        var lengths = EpisodeLogReader.ReadAll(log).Episodes.Select(e => (double)e.Length).ToArray();
        string cartpole = LogTestKit.Record("CartPole-v1", 3, seed: 1);
        var stats = EpisodeStats.FromFiles([log, cartpole]);

        Assert.Equal([("Beacon-v2", "eval"), ("Beacon-v2", "rl"), ("CartPole-v1", "-")], stats.Groups.Select(g => (g.Level, g.Phase)));
        var rl = stats.Groups[1];
        Assert.Equal(4, rl.Episodes);
        Assert.Equal(4.0, rl.Returns.Mean, 12);
        Assert.Equal(2.5, rl.Returns.Median, 12);
        Assert.Equal(Math.Sqrt(12.5), rl.Returns.Std, 12);
        Assert.Equal((1.0, 10.0), (rl.Returns.Min, rl.Returns.Max));
        // An env that sets IsSuccess only when it succeeds leaves failures unknown: once any episode reports, unknown is a failure.
        Assert.Equal(2.0 / 4.0, rl.SuccessRate!.Value, 12);
        Assert.Equal(lengths[..4].Average(), rl.Lengths.Mean, 12);
        Assert.Equal(1.0, stats.Groups[0].SuccessRate);
        Assert.Equal(3, stats.Groups[2].Episodes);
        Assert.Null(stats.Groups[2].SuccessRate);
        Assert.Equal(8, stats.Overall.Episodes);
        string table = stats.ToTable();
        Assert.Contains("Beacon-v2", table);
        Assert.Contains("50.0%", table);
        using var doc = JsonDocument.Parse(stats.ToJson());
        Assert.Equal(8, doc.RootElement.GetProperty("overall").GetProperty("returns").GetProperty("count").GetInt32());
    }

    [Fact]
    public void StatsAverageTheRecordedValuesAndPolicyEntropy()
    {
        // The kit attaches uniform distributions (entropy ln K) and random values.
        string path = LogTestKit.Record("Beacon-v2", 4, seed: 5);
        var episodes = EpisodeLogReader.ReadAll(path).Episodes;
        int actions = episodes[0].ActionProbabilities[0]!.Length;
        var values = episodes.SelectMany(e => e.Values.Select(v => (double)v!.Value)).ToList();
        // One step loses its value (it drops out of the value mean) and gets a one-hot distribution (entropy 0).
        string log = ReplayerTests.Rewrite(path, h => h, e => { if (e.Index == 0) { e.Values[0] = null; e.ActionProbabilities[0] = [1f, .. new float[actions - 1]]; } });
        var g = Assert.Single(EpisodeStats.FromFiles([log]).Groups);
        Assert.Equal(values.Skip(1).Average(), g.ValueMean!.Value, 5);
        int steps = episodes.Sum(e => e.Length);
        Assert.Equal(Math.Log(actions) * (steps - 1) / steps, g.PolicyEntropy!.Value, 5);
        Assert.Contains("entropy", EpisodeStats.FromFiles([log]).ToTable());
    }

    [Fact]
    public void FilterParsesTermsAndNamesBadOnes()
    {
        var f = EpisodeFilter.Parse("success, minReturn=0.5,level=BabyAI-GoToLocal-v0,phase=bot");
        Assert.True(f.SuccessOnly);
        Assert.Equal(0.5, f.MinReturn);
        Assert.Equal(["BabyAI-GoToLocal-v0"], f.Levels);
        Assert.Equal("bot", f.Phase);
        Assert.Equal("--filter: unknown term 'sucess' (use success, minReturn=X, level=ID, phase=NAME).", Assert.Throws<FormatException>(() => EpisodeFilter.Parse("sucess")).Message);
        Assert.Contains("'abc'", Assert.Throws<FormatException>(() => EpisodeFilter.Parse("minReturn=abc")).Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SelectionKeepsTheEpisodesThatPassTheFilterWithTheirObservationsAndReplaysExactly(bool hashes)
    {
        const string id = "BabyAI-GoToLocal-v0";
        string log = GridWorldLogTests.RecordLevel(id, 4, new EpisodeRecorderOptions { ObservationHashes = hashes }, seed: 30);
        string reference = GridWorldLogTests.RecordLevel(id, 4, seed: 30);
        byte[] before = File.ReadAllBytes(log);
        string output = TempDirectory.ForProcess.NewFile("demos.arrows");
        var summary = new EpisodeSelection().Write([log], output, EpisodeFilter.Parse($"success,level={id}"));

        // Bot episodes (even) succeed; random ones (odd) on GoToLocal are expected to fail within budget.
        var expected = EpisodeLogReader.ReadAll(reference).Episodes.Where(e => e.Success == true).ToList();
        var selected = EpisodeLogReader.ReadAll(output);
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Count, summary.Episodes);
        Assert.Equal(4 - expected.Count, summary.Skipped);
        Assert.False(selected.Header.ObservationHashes);
        Assert.Equal(expected.Select(e => e.Seed), selected.Episodes.Select(e => e.Seed));
        Assert.Equal(Enumerable.Range(0, expected.Count).Select(i => (long)i), selected.Episodes.Select(e => e.Index));
        for (int k = 0; k < expected.Count; k++)
        {
            Assert.Equal(expected[k].Actions, selected.Episodes[k].Actions);
            for (int m = 0; m < expected[k].Observations.Length; m++)
                for (int t = 0; t <= expected[k].Length; t++)
                    Assert.Equal(expected[k].Observations[m].HashAt(t), selected.Episodes[k].Observations[m].HashAt(t));
        }
        Assert.True(new Replayer().Verify(output).Success);
        Assert.Equal(before, File.ReadAllBytes(log));
    }

    [Fact]
    public void SelectionRefusesMixedEnvironmentsAndNeverWritesOverAnInput()
    {
        string grid = GridWorldLogTests.RecordLevel("BabyAI-GoToLocal-v0", 2, seed: 30);
        string other = GridWorldLogTests.RecordLevel("BabyAI-GoToRedBall-v0", 2, seed: 30);
        var mixed = Assert.Throws<RLAgents.Core.InputException>(() => new EpisodeSelection().Write([grid, other], TempDirectory.ForProcess.NewFile("x.arrows")));
        Assert.Contains("BabyAI-GoToRedBall-v0", mixed.Message);
        Assert.Contains("one selection holds one environment", mixed.Message);

        byte[] before = File.ReadAllBytes(grid);
        var overwrite = Assert.Throws<RLAgents.Core.InputException>(() => new EpisodeSelection().Write([grid], grid));
        Assert.Contains("is also an input", overwrite.Message);
        Assert.Equal(before, File.ReadAllBytes(grid));
    }

    [Fact]
    public void JsonlExportHasOneRowPerObservationWithTheArrowColumns()
    {
        string path = LogTestKit.Record("Beacon-v2", 3, seed: 5);
        var log = EpisodeLogReader.ReadAll(path);
        string output = TempDirectory.ForProcess.NewFile("table.jsonl");
        var summary = EpisodeExporter.ToJsonl(log, output);
        var lines = File.ReadAllLines(output);
        Assert.Equal(log.Episodes.Sum(e => e.Length + 1), lines.Length);
        Assert.Equal(3, summary.Episodes);
        var e0 = log.Episodes[0];
        using var first = JsonDocument.Parse(lines[1]);
        var r = first.RootElement;
        Assert.Equal("0", r.GetProperty("episode").GetString());
        Assert.Equal(1, r.GetProperty("step").GetInt32());
        Assert.Equal(e0.Actions[1], r.GetProperty("action").GetInt32());
        Assert.Equal(e0.Rewards[1], r.GetProperty("reward").GetDouble());
        Assert.Equal(e0.Observations[1].Floats![3], r.GetProperty("obs_state")[0].GetSingle());
        Assert.Equal(e0.Observations[0].Bytes.AsSpan(3072, 3072).ToArray(), r.GetProperty("obs_image").GetBytesFromBase64());
        Assert.Equal(e0.Observations[3].Texts![1], r.GetProperty("obs_mission").GetString());
        using var last = JsonDocument.Parse(lines[e0.Length]);
        Assert.Equal(JsonValueKind.Null, last.RootElement.GetProperty("action").ValueKind);
    }

    [Fact]
    public async Task ParquetExportReadsBackWithParquetNet()
    {
        string path = LogTestKit.Record("CartPole-v1", 4, new EpisodeRecorderOptions { Mode = RecordMode.All }, seed: 8);
        var log = EpisodeLogReader.ReadAll(path);
        string output = TempDirectory.ForProcess.NewFile("table.parquet");
        var summary = await EpisodeExporter.ToParquetAsync(log, output, EpisodeFilter.Parse("minReturn=0"));
        Assert.Equal(4, summary.Episodes);
        int rows = log.Episodes.Sum(e => e.Length + 1);
        await using var reader = await ParquetReader.CreateAsync(output);
        Assert.Equal("CartPole-v1", reader.CustomMetadata["rlagents.env_id"]);
        Assert.Equal(1, reader.RowGroupCount);
        var fields = reader.Schema.GetDataFields();
        using var rg = reader.OpenRowGroupReader(0);
        Assert.Equal(rows, rg.RowCount);
        var actions = new int?[rows];
        await rg.ReadAsync<int>(fields.Single(f => f.Name == "action"), actions);
        var x = new float[rows];
        await rg.ReadAsync<float>(fields.Single(f => f.Name == "obs_state_0"), x);
        var p1 = new float?[rows];
        await rg.ReadAsync<float>(fields.Single(f => f.Name == "prob_1"), p1);
        int row = 0;
        foreach (var e in log.Episodes)
            for (int t = 0; t <= e.Length; t++, row++)
            {
                Assert.Equal(t < e.Length ? e.Actions[t] : null, actions[row]);
                Assert.Equal(e.Observations[0].Floats![t * 4], x[row]);
                Assert.Equal(t < e.Length ? 0.5f : null, p1[row]);
            }
    }
}
