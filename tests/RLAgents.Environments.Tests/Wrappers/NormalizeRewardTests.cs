using System.Text.Json;
using RLAgents.Environments.Tests.Core;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Tests.Wrappers;

public sealed class NormalizeRewardTests
{
    // EchoEnv rewards 1, 2, 3, … and terminates on its last step.
    private static NormalizeReward Wrapped(int length, double gamma, out EchoEnv echo, double epsilon = 1e-8)
    {
        echo = new EchoEnv(new DiscreteSpace(2), length);
        return new NormalizeReward(echo, new NormalizeRewardOptions { Gamma = gamma, Epsilon = epsilon });
    }

    private static double PopulationVariance(IReadOnlyList<double> xs)
    {
        double mean = xs.Average();
        return xs.Sum(x => (x - mean) * (x - mean)) / xs.Count;
    }

    [Fact]
    public void RewardsAreDividedByTheStandardDeviationOfTheDiscountedReturnSoFar()
    {
        using var env = Wrapped(length: 3, gamma: 0.5, out _);
        env.Reset(seed: 0);
        // G_t = G_{t-1}·γ·(1 − terminated_t) + r_t, Gymnasium's form: 1, 2.5, then the terminating
        // step drops the carried sum (G = 3), and the next episode continues from it: 2.5, 3.25.
        double[] returns = [1, 2.5, 3, 2.5, 3.25];
        double[] rewards = [1, 2, 3, 1, 2];
        for (int t = 0; t < returns.Length; t++)
        {
            var r = env.Step(0);
            double expected = rewards[t] / Math.Sqrt(PopulationVariance(returns[..(t + 1)]) + 1e-8);
            Assert.Equal(expected, r.Reward, 9);
            Assert.Equal(returns[t], env.DiscountedReturn, 12);
            if (r.Done) env.Reset();
        }
        Assert.Equal(5, env.Statistics.Count);
        Assert.Equal(returns.Average(), env.Statistics.Mean[0], 12);
    }

    [Fact]
    public void TruncationCarriesTheReturnIntoTheNextEpisodeAsInGymnasium()
    {
        using var env = new NormalizeReward(new TimeLimit(new EchoEnv(new DiscreteSpace(2), length: 100), 2), new NormalizeRewardOptions { Gamma = 0.5 });
        env.Reset(seed: 0);
        env.Step(0);
        Assert.True(env.Step(0).Truncated);
        Assert.Equal(2.5, env.DiscountedReturn);
        env.Reset();
        env.Step(0);
        Assert.Equal(0.5 * 2.5 + 1, env.DiscountedReturn);
    }

    [Fact]
    public void FrozenStatisticsStopUpdatingButStillScale()
    {
        using var env = Wrapped(length: 50, gamma: 0.9, out _);
        env.Reset(seed: 0);
        for (int t = 0; t < 10; t++) env.Step(0);
        var before = env.SaveState();
        env.Frozen = true;
        var r = env.Step(0);
        Assert.Equal(before.Returns.Count, env.Statistics.Count);
        Assert.Equal(before.Returns.Variance, env.Statistics.Variance.ToArray());
        Assert.Equal(11 / Math.Sqrt(before.Returns.Variance[0] + 1e-8), r.Reward, 9);
    }

    [Fact]
    public void SavedStateRoundTripsThroughJsonAndContinuesIdentically()
    {
        using var a = Wrapped(length: 7, gamma: 0.99, out _);
        a.Reset(seed: 0);
        for (int t = 0; t < 12; t++) if (a.Step(0).Done) a.Reset();
        string json = JsonSerializer.Serialize(a.SaveState());
        var state = JsonSerializer.Deserialize<NormalizeRewardState>(json)!;

        using var b = Wrapped(length: 7, gamma: 0.99, out _);
        b.LoadState(state);
        b.Reset(seed: 0);
        // Bring b's inner episode to a's position: a has taken 12 steps, 5 into its second episode.
        for (int t = 0; t < 5; t++) b.Step(0);
        b.LoadState(state);
        for (int t = 0; t < 10; t++)
        {
            var (ra, rb) = (a.Step(0), b.Step(0));
            Assert.Equal(ra.Reward, rb.Reward);
            if (ra.Done) { a.Reset(); b.Reset(); }
        }
        Assert.Throws<ArgumentException>(() => b.LoadState(state with { DiscountedReturn = double.NaN }));
        Assert.Throws<ArgumentException>(() => b.LoadState(state with { Returns = new RunningMeanStdState(1, [0, 0], [1, 1]) }));
    }

    [Fact]
    public void OptionsAreValidated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new NormalizeReward(new EchoEnv(new DiscreteSpace(2)), new NormalizeRewardOptions { Gamma = 1.5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NormalizeReward(new EchoEnv(new DiscreteSpace(2)), new NormalizeRewardOptions { Epsilon = -1 }));
    }
}
