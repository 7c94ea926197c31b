using System.Globalization;
using System.Text;
using System.Text.Json;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs;

/// <summary>Summary statistics of a sample (population standard deviation, as numpy's default).</summary>
public sealed record SampleSummary(int Count, double Mean, double Median, double Std, double Min, double Max)
{
    /// <summary>Summarises <paramref name="values"/>; all NaN when empty.</summary>
    public static SampleSummary Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) return new(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        double mean = sorted.Average();
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        double std = Math.Sqrt(sorted.Sum(v => (v - mean) * (v - mean)) / n);
        return new(n, mean, median, std, sorted[0], sorted[^1]);
    }
}

/// <summary>Statistics of the episodes of one level (env id) and phase.</summary>
/// <param name="Level">Environment id, e.g. <c>BabyAI-GoToLocal-v0</c>.</param>
/// <param name="Phase">Training phase, or <c>-</c> when none was recorded.</param>
/// <param name="Returns">Episode returns.</param>
/// <param name="Lengths">Episode lengths.</param>
/// <param name="SuccessRate">Fraction of successful episodes, or null when no episode reports success (once one does, an episode that reports none counts as a failure).</param>
/// <param name="Terminated">Episodes that ended by termination.</param>
/// <param name="Truncated">Episodes that ended by truncation.</param>
/// <param name="ValueMean">Mean of the agent's value estimates over the steps that carry one (V(s), or Q(s, a) for Q-learners), or null when none does.</param>
/// <param name="PolicyEntropy">Mean entropy (nats) of the recorded action distributions over the steps that carry one, or null when none does.</param>
public sealed record EpisodeGroupStats(string Level, string Phase, SampleSummary Returns, SampleSummary Lengths, double? SuccessRate, int Terminated, int Truncated,
    double? ValueMean = null, double? PolicyEntropy = null)
{
    /// <summary>Number of episodes.</summary>
    public int Episodes => Returns.Count;
}

/// <summary>
/// Returns, lengths, success rates and the agent's mean value estimate and policy entropy of logged episodes, by level (env id) and phase and over
/// all episodes (<c>rlagents episodes stats</c>). Damaged logs contribute their complete episodes
/// and are listed in <see cref="Damaged"/>.
/// </summary>
public sealed class EpisodeStats
{
    private EpisodeStats(IReadOnlyList<EpisodeGroupStats> groups, EpisodeGroupStats overall, IReadOnlyList<EpisodeLogDamage> damaged)
    {
        Groups = groups;
        Overall = overall;
        Damaged = damaged;
    }

    /// <summary>One entry per (level, phase), ordered by level then phase.</summary>
    public IReadOnlyList<EpisodeGroupStats> Groups { get; }

    /// <summary>Every episode together (level and phase <c>*</c>).</summary>
    public EpisodeGroupStats Overall { get; }

    /// <summary>Damage found while reading the logs.</summary>
    public IReadOnlyList<EpisodeLogDamage> Damaged { get; }

    /// <summary>Reads the logs at <paramref name="paths"/> and computes the statistics.</summary>
    public static EpisodeStats FromFiles(IEnumerable<string> paths) => FromLogs(paths.Select(EpisodeLogReader.ReadAll));

    /// <summary>Computes the statistics of logs already read.</summary>
    public static EpisodeStats FromLogs(IEnumerable<EpisodeLog> logs)
    {
        var all = new List<(string Level, string Phase, RecordedEpisode E)>();
        var damaged = new List<EpisodeLogDamage>();
        foreach (var log in logs)
        {
            damaged.AddRange(log.Damages);
            all.AddRange(log.Episodes.Select(e => (log.Header.EnvId, e.Phase ?? "-", e)));
        }
        var groups = all.GroupBy(x => (x.Level, x.Phase))
            .OrderBy(g => g.Key.Level, StringComparer.Ordinal).ThenBy(g => g.Key.Phase, StringComparer.Ordinal)
            .Select(g => Summarise(g.Key.Level, g.Key.Phase, g.Select(x => x.E).ToList()))
            .ToList();
        return new EpisodeStats(groups, Summarise("*", "*", all.Select(x => x.E).ToList()), damaged);
    }

    private static EpisodeGroupStats Summarise(string level, string phase, List<RecordedEpisode> episodes)
    {
        var known = episodes.Where(e => e.Success.HasValue).ToList();
        // What the agent thought, averaged over steps: value estimates and the entropy of its action distributions.
        double valueSum = 0, entropySum = 0;
        long valueSteps = 0, distributionSteps = 0;
        foreach (var e in episodes)
            for (int t = 0; t < e.Length; t++)
            {
                if (t < e.Values.Length && e.Values[t] is float v) { valueSum += v; valueSteps++; }
                if (t < e.ActionProbabilities.Length && e.ActionProbabilities[t] is { } p)
                {
                    double h = 0;
                    foreach (float q in p) if (q > 0) h -= q * Math.Log(q);
                    entropySum += h;
                    distributionSteps++;
                }
            }
        return new EpisodeGroupStats(level, phase,
            SampleSummary.Of(episodes.Select(e => e.Return).ToList()),
            SampleSummary.Of(episodes.Select(e => (double)e.Length).ToList()),
            // An env that sets IsSuccess only on success leaves failed episodes null: once any episode reports, null is a failure.
            known.Count == 0 ? null : episodes.Count(e => e.Success == true) / (double)episodes.Count,
            episodes.Count(e => e.EndedTerminated), episodes.Count(e => e.EndedTruncated && !e.EndedTerminated),
            valueSteps == 0 ? null : valueSum / valueSteps,
            distributionSteps == 0 ? null : entropySum / distributionSteps);
    }

    /// <summary>A fixed-width text table for the terminal.</summary>
    public string ToTable()
    {
        var rows = new List<string[]> { new[] { "level", "phase", "episodes", "return mean", "return median", "return std", "length mean", "length median", "success", "value mean", "entropy" } };
        foreach (var g in Groups.Append(Overall))
            rows.Add([g.Level, g.Phase, I(g.Episodes), F(g.Returns.Mean), F(g.Returns.Median), F(g.Returns.Std), F(g.Lengths.Mean), F(g.Lengths.Median),
                g.SuccessRate is double s ? (100 * s).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "-",
                F(g.ValueMean ?? double.NaN), F(g.PolicyEntropy ?? double.NaN)]);
        int[] widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        foreach (var r in rows)
            sb.AppendLine(string.Join("  ", r.Select((cell, c) => c < 2 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).TrimEnd());
        foreach (var d in Damaged) sb.AppendLine(d.ToString());
        return sb.ToString();
    }

    /// <summary>The statistics as JSON (camelCase).</summary>
    public string ToJson() => JsonSerializer.Serialize(new { groups = Groups, overall = Overall, damaged = Damaged },
        new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals });

    private static string F(double v) => double.IsNaN(v) ? "-" : v.ToString("0.###", CultureInfo.InvariantCulture);

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}
