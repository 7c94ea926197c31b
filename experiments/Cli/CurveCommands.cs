using System.CommandLine;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using RLAgents.Agents.Evaluation;
using RLAgents.Core.Metrics;

namespace RLAgents.Experiments.Cli;

/// <summary>
/// <c>rlagents plot &lt;run dir&gt;... [--out curves.png]</c> draws learning curves (a metric against env steps and
/// against wall-clock time; runs of one experiment name are seeds of one group, drawn thin, with their interquartile
/// mean and its 95% bootstrap band), and <c>rlagents compare &lt;run dir&gt;...</c> prints the numbers behind the figure.
/// </summary>
internal static class CurveCommands
{
    public static Command Plot(IServiceProvider services)
    {
        var runs = RunsArgument();
        var metric = MetricOption();
        var output = new Option<string>("--out") { Description = "PNG file to write.", DefaultValueFactory = _ => "curves.png" };
        var width = new Option<int>("--width") { Description = "Image width in pixels (two panels side by side).", DefaultValueFactory = _ => 1400 };
        var height = new Option<int>("--height") { Description = "Image height in pixels.", DefaultValueFactory = _ => 560 };
        var command = new Command("plot", "Plot learning curves of runs (a metric vs env steps and vs wall-clock; seeds of one experiment as IQM with a 95% bootstrap band).")
            { runs, metric, output, width, height };
        command.SetAction(parse =>
        {
            var console = services.GetRequiredService<CliConsole>();
            var curves = Read(parse.GetValue(runs)!, parse.GetValue(metric));
            int w = parse.GetValue(width), h = parse.GetValue(height);
            if (w < 200 || h < 150) throw new UserError($"--width and --height must be at least 200 × 150, got {w} × {h}");
            string path = parse.GetValue(output)!;
            CurvePlot.Save(curves, path, w, h);
            console.Out.WriteLine($"wrote {path}: {curves[0].Metric} of {curves.Count} run(s) in {curves.Select(c => c.Name).Distinct().Count()} group(s)");
            return RLAgentsCli.Ok;
        });
        return command;
    }

    public static Command Compare(IServiceProvider services)
    {
        var runs = RunsArgument();
        var metric = MetricOption();
        var points = new Option<int>("--points") { Description = "Rows of the curve table (even env-step positions).", DefaultValueFactory = _ => 11 };
        var command = new Command("compare", "Print the table behind 'rlagents plot': per experiment the final IQM with its 95% bootstrap CI, and the curve at even env steps.")
            { runs, metric, points };
        command.SetAction(parse =>
        {
            var console = services.GetRequiredService<CliConsole>();
            int n = parse.GetValue(points);
            if (n < 2) throw new UserError($"--points must be at least 2, got {n}");
            console.Out.Write(Table(Read(parse.GetValue(runs)!, parse.GetValue(metric)), n));
            return RLAgentsCli.Ok;
        });
        return command;
    }

    private static Argument<string[]> RunsArgument() => new("runs")
    {
        Description = "Run directories (or folders of run directories, e.g. runs/); runs with one experiment name are seeds of one group.",
        Arity = ArgumentArity.OneOrMore,
    };

    private static Option<string?> MetricOption() => new("--metric")
    {
        Description = $"metrics.jsonl key to plot, e.g. eval_return_mean or eval_success (default: the first of {string.Join(", ", LearningCurves.DefaultMetrics)} the runs have).",
    };

    /// <summary>The runs' curves; a folder that is not a run stands for the runs inside it.</summary>
    internal static IReadOnlyList<RunCurve> Read(IEnumerable<string> paths, string? metric)
    {
        var dirs = new List<string>();
        foreach (string path in paths)
        {
            if (!Directory.Exists(path)) throw new UserError($"run directory '{path}' does not exist");
            if (File.Exists(Path.Combine(path, MetricsWriter.FileName))) { dirs.Add(path); continue; }
            var inside = Directory.GetDirectories(path).Where(d => File.Exists(Path.Combine(d, MetricsWriter.FileName))).Order(StringComparer.Ordinal).ToList();
            if (inside.Count == 0) throw new UserError($"'{path}' is not a run directory and holds none (no {MetricsWriter.FileName})");
            dirs.AddRange(inside);
        }
        var first = LearningCurves.Read(dirs[0], metric);
        // Every run is read with the first run's metric, so one figure shows one quantity.
        return [first, .. dirs.Skip(1).Select(d => LearningCurves.Read(d, first.Metric))];
    }

    internal static string Table(IReadOnlyList<RunCurve> curves, int points)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        string metric = curves[0].Metric;
        var byStep = LearningCurves.Aggregate(curves, CurveAxis.Steps, points);
        sb.AppendLine(string.Create(inv, $"{metric}: interquartile mean across runs, 95% percentile-bootstrap CI"));
        sb.AppendLine();
        int nameWidth = Math.Max(10, byStep.Max(g => g.Name.Length));
        sb.AppendLine(string.Create(inv, $"{"experiment".PadRight(nameWidth)}  runs  seeds            env steps    wall s  final IQM [95% CI]"));
        foreach (var g in byStep)
        {
            // Final: each run's last value, aggregated across runs.
            var finals = g.Runs.Where(r => r.Points.Count > 0).Select(r => r.Points[^1]).ToList();
            var iqm = LearningCurves.Final(g.Runs);
            string seeds = string.Join(",", g.Runs.Select(r => r.Seed.ToString(inv)));
            sb.AppendLine(string.Create(inv,
                $"{g.Name.PadRight(nameWidth)}  {g.Runs.Count,4}  {Cut(seeds, 15),-15}  {finals.Average(p => (double)p.Step),11:F0}  {finals.Average(p => p.Seconds),8:F1}  {Format(iqm)}"));
        }
        sb.AppendLine();
        sb.Append("env steps".PadLeft(11));
        foreach (var g in byStep) sb.Append("  ").Append(Cut(g.Name, 28).PadRight(28));
        sb.AppendLine();
        var grid = byStep.SelectMany(g => g.Points.Select(p => p.X)).Distinct().Order().ToList();
        double lo = grid.Min(), hi = grid.Max();
        for (int i = 0; i < points; i++)
        {
            double x = hi > lo ? lo + (hi - lo) * i / (points - 1) : lo;
            sb.Append(x.ToString("F0", inv).PadLeft(11));
            foreach (var g in byStep)
            {
                // Each group's own grid spans its own runs; show its nearest point within half a grid step.
                var near = g.Points.Where(p => Math.Abs(p.X - x) <= (hi - lo) / (2.0 * (points - 1)) + 1e-9).ToList();
                string cell = near.Count == 0 ? "-" : Format(near.MinBy(p => Math.Abs(p.X - x)).Iqm) + (near[0].Runs < g.Runs.Count ? $" n={near[0].Runs}" : "");
                sb.Append("  ").Append(cell.PadRight(28));
            }
            sb.AppendLine();
        }
        return sb.ToString();
    }

    private static string Format(Estimate e) => string.Create(CultureInfo.InvariantCulture, $"{e.Value:G4} [{e.Lower:G4}, {e.Upper:G4}]");

    private static string Cut(string s, int n) => s.Length <= n ? s : s[..(n - 1)] + "…";
}
