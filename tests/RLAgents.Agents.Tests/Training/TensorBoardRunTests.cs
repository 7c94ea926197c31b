using System.Text.Json;
using RLAgents.Agents.Training;
using RLAgents.Core.Metrics;
using RLAgents.Core.Tests.Metrics;

namespace RLAgents.Agents.Tests.Training;

/// <summary>A training run's TensorBoard view: the same rows as metrics.jsonl, plus the acting distribution's histogram.</summary>
public sealed class TensorBoardRunTests
{
    [Fact]
    public void ARunDirectoryHoldsAnEventPerMetricsRowWithActionProbabilityHistograms()
    {
        using var dir = new TempDirectory();
        var result = TrainingRunner.Run(TestPaths.Load("cartpole-ppo.json",
            "env.numEnvs=4", "algorithm.ppo.rolloutSteps=16", "algorithm.ppo.epochs=1", "training.totalSteps=256",
            "training.logInterval=64", "training.evalInterval=0", "training.evalEpisodes=2", "training.checkpointInterval=0"), dir.Combine("run"));
        var rows = File.ReadLines(Path.Combine(result.RunDirectory, TrainingRunner.MetricsFile)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var (events, damage) = TensorBoardEventReader.Read(Assert.Single(TensorBoardWriter.EventFiles(result.RunDirectory)));
        Assert.Null(damage);
        var summaries = events.Skip(1).ToList();
        Assert.Equal(rows.Count, summaries.Count);
        long previous = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            long step = rows[i].GetProperty("step").GetInt64();
            Assert.Equal(step, summaries[i].Step);
            // Every float of the row is a scalar of its event.
            foreach (var p in rows[i].EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number && p.Value.GetRawText().Contains('.')))
                Assert.Equal((float)p.Value.GetDouble(), summaries[i].Scalars[p.Name]);
            Assert.True(summaries[i].Scalars.ContainsKey("wall/sps"));
            // One π(a|s) per env step since the previous row, each a probability.
            var h = summaries[i].Histograms["action_probability"];
            Assert.Equal(step - previous, (long)h.Num);
            Assert.Equal(h.Num, h.Buckets.Sum());
            Assert.InRange(h.Min, 0, 1);
            Assert.InRange(h.Max, 0, 1);
            previous = step;
        }
    }

    [Fact]
    public void WithTensorBoardOffARunWritesTheSameMetricsAndNoEventFile()
    {
        using var dir = new TempDirectory();
        string[] cfg = ["env.numEnvs=4", "algorithm.ppo.rolloutSteps=16", "algorithm.ppo.epochs=1", "training.totalSteps=128",
            "training.logInterval=64", "training.evalInterval=0", "training.evalEpisodes=2", "training.checkpointInterval=0"];
        var on = TrainingRunner.Run(TestPaths.Load("cartpole-ppo.json", cfg), dir.Combine("on"));
        var off = TrainingRunner.Run(TestPaths.Load("cartpole-ppo.json", [.. cfg, "training.tensorBoard=false"]), dir.Combine("off"));
        Assert.Empty(TensorBoardWriter.EventFiles(off.RunDirectory));
        // The same rows apart from wall-clock figures.
        static IEnumerable<string> Rows(string run) => File.ReadLines(Path.Combine(run, TrainingRunner.MetricsFile))
            .Select(l => System.Text.RegularExpressions.Regex.Replace(l, "\"wall\":\\{[^}]*\\}", ""));
        Assert.Equal(Rows(on.RunDirectory), Rows(off.RunDirectory));
    }
}
