using System.Buffers.Binary;
using System.Globalization;

namespace RLAgents.Experiments.Tests.Cli;

/// <summary><c>rlagents plot</c> and <c>rlagents compare</c> on hand-made and real run directories.</summary>
public sealed class CurveVerbTests
{
    private static string WriteRun(string dir, string name, long seed, Func<long, double> value)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "run.json"), $$"""{ "format": 2, "kind": "training", "name": "{{name}}", "seed": {{seed}} }""");
        File.WriteAllLines(Path.Combine(dir, "metrics.jsonl"), Enumerable.Range(0, 11).Select(i => string.Create(CultureInfo.InvariantCulture,
            $$$"""{"step":{{{i * 1000}}},"update":{{{i}}},"rolling_return":{{{value(i * 1000):0.0###}}},"wall":{"time_s":{{{i * 0.5 * seed:0.0##}}}}}""")));
        return dir;
    }

    private static string TwoExperiments()
    {
        string root = TempDirectory.ForProcess.NewDirectory();
        for (int seed = 1; seed <= 3; seed++)
        {
            WriteRun(Path.Combine(root, $"fast-{seed}"), "fast", seed, s => s / 100.0 + seed);
            WriteRun(Path.Combine(root, $"slow-{seed}"), "slow", seed, s => s / 1000.0 * seed);
        }
        return root;
    }

    [Fact]
    public void PlotWritesAPngOfTheRequestedSize()
    {
        string root = TwoExperiments();
        string png = Path.Combine(root, "out", "curves.png");
        var r = CliRunner.Run("plot", root, "--out", png, "--width", "900", "--height", "400");
        Assert.True(r.ExitCode == 0, r.Out + r.Error);
        Assert.Contains("6 run(s) in 2 group(s)", r.Out);
        byte[] bytes = File.ReadAllBytes(png);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        Assert.Equal(900, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
        Assert.Equal(400, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
        Assert.True(bytes.Length > 10_000, "the figure should hold curves, axes and text");
    }

    [Fact]
    public void CompareTabulatesTheFinalIqmOfEachExperimentAndItsCurve()
    {
        string root = TwoExperiments();
        var r = CliRunner.Run("compare", Path.Combine(root, "fast-1"), Path.Combine(root, "fast-2"), Path.Combine(root, "fast-3"),
            Path.Combine(root, "slow-1"), Path.Combine(root, "slow-2"), Path.Combine(root, "slow-3"), "--points", "3");
        Assert.True(r.ExitCode == 0, r.Out + r.Error);
        var lines = r.Out.Split('\n');
        // fast ends at 100 + seed (101, 102, 103): IQM over 3 runs drops none (⌊3/4⌋ = 0), so 102.
        Assert.Contains(lines, l => l.StartsWith("fast ", StringComparison.Ordinal) && l.Contains("   3  1,2,3") && l.Contains("  102 ["));
        // slow ends at 10 × seed: 20.
        Assert.Contains(lines, l => l.StartsWith("slow ", StringComparison.Ordinal) && l.Contains("  20 ["));
        // The curve at step 5000: fast = 50 + seed → 52; slow = 5 × seed → 10.
        Assert.Contains(lines, l => l.TrimStart().StartsWith("5000 ", StringComparison.Ordinal) && l.Contains("52 [") && l.Contains("10 ["));
    }

    [Fact]
    public void PlotAndCompareReadARealRun()
    {
        using var temp = new TempDirectory();
        string output = temp.Path;
        var run = CliRunner.Run("run", Path.Combine(CliRunner.RepoRoot, "experiments", "configs", "cartpole-ppo.json"), "--output", output,
            "--set", "training.totalSteps=1024", "--set", "training.logInterval=256", "--set", "training.evalInterval=512", "--set", "training.evalEpisodes=2");
        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        string runDir = Assert.Single(Directory.GetDirectories(output));
        var compare = CliRunner.Run("compare", runDir, "--metric", "eval_return_mean");
        Assert.True(compare.ExitCode == 0, compare.Out + compare.Error);
        Assert.Contains("cartpole-ppo", compare.Out);
        var plot = CliRunner.Run("plot", runDir, "--out", Path.Combine(output, "c.png"));
        Assert.True(plot.ExitCode == 0, plot.Out + plot.Error);
        Assert.Contains("rolling_return", plot.Out);
    }

    [Fact]
    public void BadRunsAndMetricsAreOneLineErrors()
    {
        string root = TwoExperiments();
        var missing = CliRunner.Run("plot", Path.Combine(root, "nope"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("does not exist", missing.Error);
        var metric = CliRunner.Run("compare", Path.Combine(root, "fast-1"), "--metric", "eval_success");
        Assert.Equal(2, metric.ExitCode);
        Assert.Contains("'eval_success'", metric.Error);
        Assert.Single(metric.Error.Trim().Split('\n'));
        using var temp = new TempDirectory();
        var empty = CliRunner.Run("compare", temp.Path);
        Assert.Equal(2, empty.ExitCode);
        Assert.Contains("holds none", empty.Error);
    }
}
