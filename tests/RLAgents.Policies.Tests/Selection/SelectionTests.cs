using RLAgents.Environments;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Selection;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests.Selection;

/// <summary>Action selection strategies and the ε schedule.</summary>
public class SelectionTests
{
    private static readonly ObservationSpace Space = ObservationSpace.Single("state", new BoxSpace(-1, 1, [3]));

    [Fact]
    public void LinearScheduleAnnealsThenHolds()
    {
        var s = new LinearSchedule { Start = 1.0, End = 0.1, Fraction = 0.5 };
        Assert.Equal(1.0, s.ValueAt(0, 1000), 12);
        Assert.Equal(0.55, s.ValueAt(250, 1000), 12);  // halfway through the 500 annealing steps
        Assert.Equal(0.1, s.ValueAt(500, 1000), 12);
        Assert.Equal(0.1, s.ValueAt(900, 1000), 12);
        Assert.Equal(0.1, new LinearSchedule { Start = 1, End = 0.1, Fraction = 0 }.ValueAt(0, 1000), 12);
    }

    private static (QNetworkPolicy Policy, ObservationInput Input, float[] Q) QPolicy(int batch)
    {
        var policy = new QNetworkPolicy(Space, new DiscreteSpace(4), new PolicyOptions { HiddenSizes = [8] }, new Rng(3UL));
        var input = new ObservationInput(Space, [rand(batch, 3, generator: manual_seed(1))]);
        var q = policy.QValues(input).detach().data<float>().ToArray();
        return (policy, input, q);
    }

    [Fact]
    public void GreedyPicksTheArgmaxAndReportsItsQValue()
    {
        using var scope = NewDisposeScope();
        var (policy, input, q) = QPolicy(16);
        var result = new ActResult(16);
        policy.Act(input, ActionSelection.Greedy, new Rng(1UL), result);
        for (int i = 0; i < 16; i++)
        {
            var row = q.AsSpan(i * 4, 4);
            int best = RLAgents.Policies.Distributions.CategoricalSampler.ArgMax(row);
            Assert.Equal(best, result.Actions[i]);
            Assert.Equal(row[best], result.Values[i], 5);
        }
    }

    [Fact]
    public void EpsilonGreedyExploresAtRateEpsilonWithBehaviourLogProbs()
    {
        using var scope = NewDisposeScope();
        var (policy, input, q) = QPolicy(1000);
        var result = new ActResult(1000);
        policy.Act(input, ActionSelection.EpsilonGreedy(0.4), new Rng(5UL), result);
        int greedy = 0;
        for (int i = 0; i < 1000; i++)
        {
            bool isGreedy = result.Actions[i] == RLAgents.Policies.Distributions.CategoricalSampler.ArgMax(q.AsSpan(i * 4, 4));
            if (isGreedy) greedy++;
            double expected = isGreedy ? 1 - 0.4 + 0.4 / 4 : 0.4 / 4;
            Assert.Equal(Math.Log(expected), result.LogProbs[i], 5);
        }
        // P(greedy) = 0.6 + 0.1 = 0.7; the standard error with 1000 draws is 0.0145.
        Assert.InRange(greedy / 1000.0, 0.64, 0.76);
    }

    [Fact]
    public void ColdBoltzmannIsGreedyAndSamplingIsReproducible()
    {
        using var scope = NewDisposeScope();
        var (policy, input, q) = QPolicy(50);
        var cold = new ActResult(50);
        policy.Act(input, ActionSelection.Boltzmann(1e-4), new Rng(9UL), cold);
        for (int i = 0; i < 50; i++) Assert.Equal(RLAgents.Policies.Distributions.CategoricalSampler.ArgMax(q.AsSpan(i * 4, 4)), cold.Actions[i]);
        var a = new ActResult(50);
        var b = new ActResult(50);
        policy.Act(input, ActionSelection.Sample, new Rng(11UL), a);
        policy.Act(input, ActionSelection.Sample, new Rng(11UL), b);
        Assert.Equal(a.Actions, b.Actions);
        Assert.Throws<ArgumentException>(() => policy.Act(input, ActionSelection.Boltzmann(0), new Rng(1UL), a));
    }
}
