using RLAgents.Environments.ClassicControl;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Tests.Wrappers;

public sealed class NormalizeObservationTests
{
    [Fact]
    public void WelfordUpdatesMatchTwoPassMoments()
    {
        var rng = new Rng(5UL);
        var samples = Enumerable.Range(0, 200).Select(_ => new[] { (float)(3 + 2 * rng.NextNormal()), (float)rng.NextDouble() }).ToArray();
        var stats = new RunningMeanStd(2);
        foreach (var s in samples) stats.Update(s);
        for (int k = 0; k < 2; k++)
        {
            double mean = samples.Average(s => (double)s[k]);
            double variance = samples.Average(s => (s[k] - mean) * (s[k] - mean));
            Assert.Equal(mean, stats.Mean[k], 1e-12);
            Assert.Equal(variance, stats.Variance[k], 1e-10);
        }
        Assert.Equal(200, stats.Count);
    }

    [Fact]
    public void ParallelMergeEqualsSequentialUpdates()
    {
        var rng = new Rng(9UL);
        var data = Enumerable.Range(0, 101).Select(_ => new[] { (float)rng.NextNormal(), (float)(10 * rng.NextDouble()) }).ToArray();
        var all = new RunningMeanStd(2);
        var a = new RunningMeanStd(2);
        var b = new RunningMeanStd(2);
        for (int i = 0; i < data.Length; i++)
        {
            all.Update(data[i]);
            (i < 37 ? a : b).Update(data[i]);
        }
        a.Merge(b);
        Assert.Equal(all.Count, a.Count);
        for (int k = 0; k < 2; k++)
        {
            Assert.Equal(all.Mean[k], a.Mean[k], 1e-12);
            Assert.Equal(all.Variance[k], a.Variance[k], 1e-10);
        }
    }

    [Fact]
    public void NormalizesWithUpdatedStatisticsAndClips()
    {
        var stats = new RunningMeanStd(1);
        stats.Update([1f]);
        stats.Update([3f]);
        Span<float> v = [4f];
        stats.Normalize(v, 0, 10);
        Assert.Equal(2f, v[0]); // mean 2, variance 1
        Span<float> far = [1000f];
        stats.Normalize(far, 0, 5);
        Assert.Equal(5f, far[0]);
    }

    [Fact]
    public void WrapperBoundsTheSpaceAndObservationsLieInIt()
    {
        using var env = new NormalizeObservation(new CartPole(), new NormalizeObservationOptions { Clip = 3 });
        var box = (BoxSpace)env.ObservationSpace[0].Space;
        Assert.Equal(3f, box.High[0]);
        Assert.Equal(-3f, box.Low[1]);
        env.Reset(seed: 0);
        int resets = 1;
        for (int t = 0; t < 100; t++)
        {
            var r = env.Step(t % 3 == 0 ? 1 : 0);
            Assert.Null(env.ObservationSpace.Violation(r.Observation));
            if (r.Done) { env.Reset(); resets++; }
        }
        Assert.True(resets > 1);
        Assert.Equal(100 + resets, env.Statistics(0)!.Count);
    }

    [Fact]
    public void FrozenStatisticsDoNotChangeAndSavedStateRoundTrips()
    {
        using var train = new NormalizeObservation(new CartPole());
        train.Reset(seed: 4);
        for (int t = 0; t < 20; t++) train.Step(t % 2);
        var saved = train.SaveStatistics();

        using var eval = new NormalizeObservation(new CartPole()) { Frozen = true };
        eval.LoadStatistics(saved);
        var first = eval.Reset(seed: 11).Observation.Floats(0).ToArray();
        Assert.Equal(saved[0]!.Count, eval.Statistics(0)!.Count);
        Assert.Equal(saved[0]!.Mean, eval.Statistics(0)!.Mean.ToArray());

        // Same normalisation applied by hand from the raw observation.
        var raw = new CartPole();
        var rawObs = raw.Reset(seed: 11).Observation.Floats(0).ToArray();
        for (int k = 0; k < 4; k++)
        {
            double z = (rawObs[k] - saved[0]!.Mean[k]) / Math.Sqrt(saved[0]!.Variance[k] + 1e-8);
            Assert.Equal((float)Math.Clamp(z, -10, 10), first[k]);
        }
        Assert.Throws<ArgumentException>(() => eval.LoadStatistics([]));
    }
}
