using System.Text.Json;
using RLAgents.Core;
using RLAgents.Core.Metrics;
using RLAgents.Environments;

namespace RLAgents.Agents.Evaluation;

/// <summary>One metrics row's position and value on a learning curve.</summary>
/// <param name="Step">The row's <c>step</c> (env steps; updates in a pretraining run).</param>
/// <param name="Seconds">The row's wall-clock <c>wall.time_s</c> (seconds since the run started, over resumes).</param>
/// <param name="Value">The metric.</param>
public readonly record struct CurvePoint(long Step, double Seconds, double Value);

/// <summary>One run's curve of one metric.</summary>
/// <param name="RunDirectory">The run.</param>
/// <param name="Name">The run's name (run.json), which groups seeds of one experiment.</param>
/// <param name="Seed">The run seed.</param>
/// <param name="Metric">The metrics key plotted.</param>
/// <param name="Points">The rows that carry the metric, in file order.</param>
public sealed record RunCurve(string RunDirectory, string Name, long Seed, string Metric, IReadOnlyList<CurvePoint> Points);

/// <summary>The x axis a group's runs are aligned on.</summary>
public enum CurveAxis
{
    /// <summary>Env steps (the rows' <c>step</c>).</summary>
    Steps,
    /// <summary>Wall-clock seconds (the rows' <c>wall.time_s</c>).</summary>
    Seconds,
}

/// <summary>The runs of a group at one x: the interquartile mean across runs and its 95% percentile-bootstrap interval.</summary>
/// <param name="X">Position on the axis.</param>
/// <param name="Runs">How many runs reach this x (no run is extrapolated past its last row).</param>
/// <param name="Iqm">IQM of the runs' values with its 95% bootstrap CI (a single run: its value, no band).</param>
public readonly record struct CurveEstimate(double X, int Runs, Estimate Iqm);

/// <summary>The aggregated curve of one group (the seeds of one experiment).</summary>
/// <param name="Name">The group's name.</param>
/// <param name="Axis">The x axis.</param>
/// <param name="Runs">The group's runs.</param>
/// <param name="Points">The curve on an even grid of the axis.</param>
public sealed record GroupCurve(string Name, CurveAxis Axis, IReadOnlyList<RunCurve> Runs, IReadOnlyList<CurveEstimate> Points);

/// <summary>
/// Learning curves from run directories' <c>metrics.jsonl</c>: each run's curve of one metric, and per group of runs
/// (one experiment name, several seeds) the interquartile mean across runs with a 95% percentile-bootstrap band
/// (rliable's aggregate, <see cref="EvaluationStatistics"/>), each run linearly interpolated onto an even grid of env
/// steps or wall-clock seconds. <c>rlagents plot</c> draws these and <c>rlagents compare</c> prints them.
/// </summary>
public static class LearningCurves
{
    /// <summary>The metric a run is plotted by default: the rolling training success where the env reports success, else the rolling training return.</summary>
    public static readonly string[] DefaultMetrics = ["rolling_success", "rolling_return", "eval_loss"];

    /// <summary>Reads <paramref name="runDirectory"/>'s curve of <paramref name="metric"/> (null: the first of <see cref="DefaultMetrics"/> the run has).</summary>
    /// <exception cref="InvalidDataException">Not a run directory, or the metric is in none of its rows.</exception>
    public static RunCurve Read(string runDirectory, string? metric = null)
    {
        string path = Path.Combine(runDirectory, MetricsWriter.FileName);
        if (!File.Exists(path)) throw new InvalidDataException($"'{runDirectory}' is not a run directory (no {MetricsWriter.FileName})");
        var rows = new List<JsonElement>();
        string[] lines = File.ReadAllLines(path);
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            try
            {
                using var doc = JsonDocument.Parse(lines[i]);
                rows.Add(doc.RootElement.Clone());
            }
            catch (JsonException) when (i == lines.Length - 1)
            {
                // A torn last line of a killed run: the rows before it are the curve.
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{i + 1}: not a JSON row ({e.Message})");
            }
        }
        bool Has(string key) => rows.Any(r => r.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number);
        string chosen = metric ?? DefaultMetrics.FirstOrDefault(Has)
            ?? throw new InvalidDataException($"{path}: none of {string.Join(", ", DefaultMetrics)} is in its rows; name one with --metric");
        if (!Has(chosen))
        {
            var keys = rows.SelectMany(r => r.EnumerateObject()).Where(p => p.Value.ValueKind == JsonValueKind.Number && p.Value.GetRawText().IndexOfAny(['.', 'e', 'E']) >= 0)
                .Select(p => p.Name).Distinct().Order(StringComparer.Ordinal);
            throw new InvalidDataException($"{path}: no row has metric '{chosen}' (metrics: {string.Join(", ", keys)})");
        }
        var points = new List<CurvePoint>();
        foreach (var r in rows)
        {
            if (!r.TryGetProperty(chosen, out var v) || v.ValueKind != JsonValueKind.Number) continue;
            long step = r.TryGetProperty("step", out var s) && s.TryGetInt64(out long st) ? st : points.Count;
            double seconds = r.TryGetProperty("wall", out var w) && w.TryGetProperty("time_s", out var t) ? t.GetDouble() : double.NaN;
            points.Add(new CurvePoint(step, seconds, v.GetDouble()));
        }
        var (name, seed) = NameAndSeed(runDirectory);
        return new RunCurve(runDirectory, name, seed, chosen, points);
    }

    /// <summary>Groups <paramref name="runs"/> by name (in first-seen order) and aggregates each on <paramref name="axis"/> at <paramref name="gridPoints"/> even positions.</summary>
    public static IReadOnlyList<GroupCurve> Aggregate(IReadOnlyList<RunCurve> runs, CurveAxis axis, int gridPoints = 50, int resamples = 2000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(gridPoints, 2);
        var groups = new List<GroupCurve>();
        foreach (var group in runs.GroupBy(r => r.Name))
        {
            var members = group.ToList();
            var series = members.Select(r => Series(r, axis)).Where(s => s.X.Length > 0).ToList();
            var points = new List<CurveEstimate>();
            if (series.Count > 0)
            {
                double lo = series.Min(s => s.X[0]), hi = series.Max(s => s.X[^1]);
                // A fixed bootstrap seed per group: the same runs always give the same band.
                var rng = new Rng(Rng.DeriveSeed(0, "learning-curve", groups.Count));
                for (int g = 0; g < gridPoints; g++)
                {
                    double x = hi > lo ? lo + (hi - lo) * g / (gridPoints - 1) : lo;
                    var values = series.Select(s => Interpolate(s.X, s.Y, x)).OfType<double>().ToList();
                    if (values.Count == 0) continue;
                    points.Add(new CurveEstimate(x, values.Count, Iqm(values, rng, resamples)));
                }
            }
            groups.Add(new GroupCurve(group.Key, axis, members, points));
        }
        return groups;
    }

    /// <summary>The IQM across runs of each run's last value, with its 95% bootstrap CI (the "final score" of a group).</summary>
    public static Estimate Final(IReadOnlyList<RunCurve> runs, int resamples = 2000) =>
        Iqm([.. runs.Where(r => r.Points.Count > 0).Select(r => r.Points[^1].Value)], new Rng(Rng.DeriveSeed(0, "learning-curve-final")), resamples);

    // One value has no spread to resample: its estimate is itself.
    private static Estimate Iqm(IReadOnlyList<double> values, Rng rng, int resamples) => values.Count == 1
        ? new Estimate(values[0], values[0], values[0])
        : EvaluationStatistics.Summarize(values, rng, resamples).InterquartileMean;

    /// <summary>A run's (x, value) pairs on <paramref name="axis"/>, rows without a wall time left out of the seconds axis.</summary>
    public static (double[] X, double[] Y) Series(RunCurve run, CurveAxis axis)
    {
        var pts = run.Points.Where(p => axis == CurveAxis.Steps || double.IsFinite(p.Seconds)).ToList();
        return ([.. pts.Select(p => axis == CurveAxis.Steps ? p.Step : p.Seconds)], [.. pts.Select(p => p.Value)]);
    }

    // Linear interpolation inside the run's range; null outside it (a run that ended earlier says nothing later).
    private static double? Interpolate(double[] x, double[] y, double at)
    {
        if (at < x[0] || at > x[^1]) return null;
        int i = Array.BinarySearch(x, at);
        if (i >= 0)
        {
            // Equal x (SFT rows share an env step): the last row there.
            while (i + 1 < x.Length && x[i + 1] == at) i++;
            return y[i];
        }
        i = ~i;
        double t = (at - x[i - 1]) / (x[i] - x[i - 1]);
        return y[i - 1] + t * (y[i] - y[i - 1]);
    }

    private static (string Name, long Seed) NameAndSeed(string runDirectory)
    {
        string info = Path.Combine(runDirectory, RunInfo.FileName);
        string fallback = Path.GetFileName(Path.TrimEndingDirectorySeparator(runDirectory));
        if (!File.Exists(info)) return (fallback, 0);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(info));
            var root = doc.RootElement;
            string name = root.TryGetProperty("name", out var n) && n.GetString() is { Length: > 0 } s ? s : fallback;
            long seed = root.TryGetProperty("seed", out var sd) && sd.TryGetInt64(out long v) ? v : 0;
            return (name, seed);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{info}: not valid JSON ({e.Message})");
        }
    }
}
