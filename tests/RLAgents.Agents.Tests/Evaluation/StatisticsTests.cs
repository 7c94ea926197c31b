using RLAgents.Agents.Evaluation;
using RLAgents.Environments;

namespace RLAgents.Agents.Tests.Evaluation;

/// <summary>Evaluation statistics (rliable's recommendations) on hand-checkable data.</summary>
public class StatisticsTests
{
    [Fact]
    public void InterquartileMeanDropsAQuarterFromEachEnd()
    {
        // 1..8: drop 1, 2 and 7, 8 → mean(3, 4, 5, 6) = 4.5. With an outlier the IQM is unmoved.
        Assert.Equal(4.5, EvaluationStatistics.InterquartileMean([8, 1, 7, 2, 6, 3, 5, 4]), 12);
        Assert.Equal(4.5, EvaluationStatistics.InterquartileMean([1000, 1, 7, 2, 6, 3, 5, 4]), 12);
        Assert.Equal(2.0, EvaluationStatistics.InterquartileMean([1, 2, 3]), 12);
    }

    [Fact]
    public void SummaryHasPointEstimatesAndBootstrapIntervals()
    {
        double[] scores = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
        var s = EvaluationStatistics.Summarize(scores, new Rng(1UL));
        Assert.Equal(10, s.Count);
        Assert.Equal(55, s.Mean.Value, 9);
        Assert.Equal(55, s.Median.Value, 9);
        Assert.Equal(55, s.InterquartileMean.Value, 9);  // drops 2 from each end: mean(30..80)
        Assert.Equal(10, s.Min);
        Assert.Equal(100, s.Max);
        Assert.InRange(s.Mean.Lower, 30, 55);
        Assert.InRange(s.Mean.Upper, 55, 80);
        // The bootstrap standard error of the mean is σ/√n ≈ 9.1, so the 95% CI spans roughly ±18.
        Assert.InRange(s.Mean.Upper - s.Mean.Lower, 25, 45);
        var constant = EvaluationStatistics.Summarize([500, 500, 500], new Rng(1UL));
        Assert.Equal(new Estimate(500, 500, 500), constant.InterquartileMean);
        Assert.Equal(s, EvaluationStatistics.Summarize(scores, new Rng(1UL)));
    }
}
