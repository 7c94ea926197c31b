using MathNet.Numerics.Statistics;
using RLAgents.Environments;

namespace RLAgents.Agents.Evaluation;

/// <summary>A point estimate and its 95% percentile-bootstrap confidence interval.</summary>
/// <param name="Value">The statistic on the data.</param>
/// <param name="Lower">2.5th percentile of the bootstrap distribution.</param>
/// <param name="Upper">97.5th percentile of the bootstrap distribution.</param>
public readonly record struct Estimate(double Value, double Lower, double Upper);

/// <summary>Summary statistics RL researchers trust (rliable, Agarwal et al. 2021).</summary>
/// <param name="Count">Number of scores.</param>
/// <param name="Mean">Mean with bootstrap CI.</param>
/// <param name="Median">Median with bootstrap CI.</param>
/// <param name="InterquartileMean">IQM (mean of the middle 50%) with bootstrap CI.</param>
/// <param name="StandardDeviation">Sample standard deviation.</param>
/// <param name="Min">Smallest score.</param>
/// <param name="Max">Largest score.</param>
public sealed record ScoreSummary(int Count, Estimate Mean, Estimate Median, Estimate InterquartileMean, double StandardDeviation, double Min, double Max);

/// <summary>Mean, median, interquartile mean and percentile-bootstrap CIs, computed with MathNet.Numerics.</summary>
public static class EvaluationStatistics
{
    /// <summary>Summarises <paramref name="scores"/> (episodes of one seed, or per-seed means across seeds).</summary>
    public static ScoreSummary Summarize(IReadOnlyList<double> scores, Rng rng, int resamples = 2000)
    {
        if (scores.Count == 0) throw new ArgumentException("No scores to summarise.", nameof(scores));
        var data = scores.ToArray();
        var means = new double[resamples];
        var medians = new double[resamples];
        var iqms = new double[resamples];
        var sample = new double[data.Length];
        for (int b = 0; b < resamples; b++)
        {
            for (int i = 0; i < sample.Length; i++) sample[i] = data[rng.NextInt(data.Length)];
            means[b] = sample.Mean();
            medians[b] = sample.Median();
            iqms[b] = InterquartileMean(sample);
        }
        return new ScoreSummary(data.Length,
            Ci(data.Mean(), means), Ci(data.Median(), medians), Ci(InterquartileMean(data), iqms),
            data.Length > 1 ? data.StandardDeviation() : 0, data.Minimum(), data.Maximum());
    }

    /// <summary>
    /// The interquartile mean: the mean after dropping ⌊n/4⌋ scores from each end of the sorted
    /// scores (scipy's <c>trim_mean(x, 0.25)</c>, as rliable computes it).
    /// </summary>
    public static double InterquartileMean(IReadOnlyList<double> scores)
    {
        var sorted = scores.ToArray();
        Array.Sort(sorted);
        int cut = sorted.Length / 4;
        return sorted.AsSpan(cut, sorted.Length - 2 * cut).ToArray().Mean();
    }

    private static Estimate Ci(double value, double[] bootstrap) =>
        new(value, bootstrap.Quantile(0.025), bootstrap.Quantile(0.975));
}
