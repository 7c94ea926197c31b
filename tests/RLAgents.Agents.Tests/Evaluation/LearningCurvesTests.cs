using System.Globalization;
using RLAgents.Agents.Evaluation;

namespace RLAgents.Agents.Tests.Evaluation;

public sealed class LearningCurvesTests : IDisposable
{
    private readonly TempDirectory _dir = new TempDirectory();

    public void Dispose() => _dir.Dispose();

    /// <summary>A run directory with run.json and metrics.jsonl rows (step, metric value, seconds).</summary>
    internal static string WriteRun(string dir, string name, long seed, IEnumerable<(long Step, double Value, double Seconds)> rows, string metric = "rolling_return", string extra = "")
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "run.json"), $$"""{ "format": 2, "kind": "training", "name": "{{name}}", "seed": {{seed}} }""");
        File.WriteAllLines(Path.Combine(dir, "metrics.jsonl"), rows.Select(r => string.Create(CultureInfo.InvariantCulture,
            $$$"""{"step":{{{r.Step}}},"update":{{{r.Step / 10}}},"{{{metric}}}":{{{r.Value:0.0###}}}{{{extra}}},"wall":{"time_s":{{{r.Seconds:0.0##}}}}}""")));
        return dir;
    }

    [Fact]
    public void EachRunIsInterpolatedAndTheGroupCurveIsTheIqmAcrossRuns()
    {
        // Run k has value k·step/100, logged at its own interval (25, 50, 100, 200 steps) up to step 200:
        // interpolated at step 100 the runs hold 1, 2, 3, 4.
        int[] every = [25, 50, 100, 200];
        var runs = Enumerable.Range(1, 4).Select(k => LearningCurves.Read(WriteRun(_dir.Combine($"r{k}"), "ppo", k,
            Enumerable.Range(0, 200 / every[k - 1] + 1).Select(i => ((long)(every[k - 1] * i), k * every[k - 1] * i / 100.0, 0.5 * i))))).ToList();
        var group = Assert.Single(LearningCurves.Aggregate(runs, CurveAxis.Steps, gridPoints: 3));
        Assert.Equal("ppo", group.Name);
        Assert.Equal([0.0, 100.0, 200.0], group.Points.Select(p => p.X));
        var mid = group.Points[1];
        Assert.Equal(4, mid.Runs);
        // IQM of {1, 2, 3, 4}: drop one from each end, mean of 2 and 3.
        Assert.Equal(2.5, mid.Iqm.Value, 12);
        Assert.InRange(mid.Iqm.Lower, 1, 2.5);
        Assert.InRange(mid.Iqm.Upper, 2.5, 4);
        Assert.True(mid.Iqm.Upper > mid.Iqm.Lower);
        // Final: each run's last value (2, 4, 6, 8 at step 200), IQM 5.
        Assert.Equal(5, LearningCurves.Final(runs).Value, 12);
    }

    [Fact]
    public void NoRunIsExtrapolatedPastItsLastRowAndWallClockIsASecondAxis()
    {
        var shortRun = LearningCurves.Read(WriteRun(_dir.Combine("a"), "dqn", 1, [(0, 0, 0), (100, 10, 5)]));
        var longRun = LearningCurves.Read(WriteRun(_dir.Combine("b"), "dqn", 2, [(0, 0, 0), (200, 20, 40)]));
        var steps = Assert.Single(LearningCurves.Aggregate([shortRun, longRun], CurveAxis.Steps, gridPoints: 3));
        Assert.Equal([2, 2, 1], steps.Points.Select(p => p.Runs));
        Assert.Equal(20, steps.Points[^1].Iqm.Value, 12);
        var seconds = Assert.Single(LearningCurves.Aggregate([shortRun, longRun], CurveAxis.Seconds, gridPoints: 5));
        Assert.Equal(40, seconds.Points[^1].X, 12);
        // At 10 s: the short run is past its end (5 s); the long one is at a quarter of its 40 s, value 5.
        Assert.Equal(1, seconds.Points[1].Runs);
        Assert.Equal(5, seconds.Points[1].Iqm.Value, 12);
    }

    [Fact]
    public void SuccessIsTheDefaultWhereTheEnvReportsIt()
    {
        var withSuccess = LearningCurves.Read(WriteRun(_dir.Combine("s"), "babyai", 1, [(0, 0.5, 0), (10, 0.7, 1)], extra: ",\"rolling_success\":0.25"));
        Assert.Equal("rolling_success", withSuccess.Metric);
        Assert.All(withSuccess.Points, p => Assert.Equal(0.25, p.Value));
        Assert.Equal("rolling_return", LearningCurves.Read(WriteRun(_dir.Combine("r"), "cartpole", 1, [(0, 1, 0)])).Metric);
    }

    [Fact]
    public void ATornLastLineIsSkippedButDamageInsideIsNamed()
    {
        string dir = WriteRun(_dir.Combine("t"), "x", 1, [(0, 1, 0), (10, 2, 1)]);
        File.AppendAllText(Path.Combine(dir, "metrics.jsonl"), "{\"step\":20,\"rolli");
        Assert.Equal(2, LearningCurves.Read(dir).Points.Count);
        File.WriteAllText(Path.Combine(dir, "metrics.jsonl"), "{\"step\":0,\n{\"step\":1,\"rolling_return\":1.0}\n");
        Assert.Contains("metrics.jsonl:1", Assert.Throws<InvalidDataException>(() => LearningCurves.Read(dir)).Message);
    }

    [Fact]
    public void AMetricNoRowHasIsNamedWithTheMetricsThereAre()
    {
        string dir = WriteRun(_dir.Combine("m"), "x", 1, [(0, 1, 0)]);
        var e = Assert.Throws<InvalidDataException>(() => LearningCurves.Read(dir, "eval_success"));
        Assert.Contains("'eval_success'", e.Message);
        Assert.Contains("rolling_return", e.Message);
        Assert.Contains("not a run directory", Assert.Throws<InvalidDataException>(() => LearningCurves.Read(_dir.Combine("none"))).Message);
    }
}
