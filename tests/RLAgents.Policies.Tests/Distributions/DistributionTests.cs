using RLAgents.Environments;
using RLAgents.Policies.Distributions;
using TorchSharp;
using static TorchSharp.torch;
using Categorical = RLAgents.Policies.Distributions.Categorical;

namespace RLAgents.Policies.Tests.Distributions;

/// <summary>Categorical log-probabilities and entropies against hand-computed values.</summary>
public class DistributionTests
{
    [Fact]
    public void CategoricalLogProbAndEntropyMatchHandValues()
    {
        using var scope = NewDisposeScope();
        // Row 0: p = (1/4, 3/4) from logits (ln 1, ln 3); row 1: uniform over 2 (logits shifted by 5 change nothing).
        var logits = tensor(new float[] { 0f, MathF.Log(3), 5f, 5f }, [2, 2]);
        var logp = Categorical.LogProb(logits, tensor(new long[] { 1, 0 })).data<float>().ToArray();
        Assert.Equal(Math.Log(0.75), logp[0], 5);
        Assert.Equal(Math.Log(0.5), logp[1], 5);
        var h = Categorical.Entropy(logits).data<float>().ToArray();
        Assert.Equal(-(0.25 * Math.Log(0.25) + 0.75 * Math.Log(0.75)), h[0], 5);
        Assert.Equal(Math.Log(2), h[1], 5);
    }

    [Fact]
    public void MultiDiscreteActionsAddLogProbsAndEntropiesOverEntries()
    {
        using var scope = NewDisposeScope();
        var dist = new ActionDistribution(new MultiDiscreteSpace(2, 3).ActionLayout);
        Assert.Equal(5, dist.LogitsSize);
        Assert.Equal(5, dist.ParameterSize);
        // Entry 0: p = (1/4, 3/4); entry 1: uniform over 3.
        var logits = tensor(new float[] { 0f, MathF.Log(3), 1f, 1f, 1f }, [1, 5]);
        double logp = dist.LogProb(logits, tensor(new long[] { 0, 2 }, [1, 2])).item<float>();
        Assert.Equal(Math.Log(0.25) + Math.Log(1.0 / 3), logp, 5);
        double h = dist.Entropy(logits).item<float>();
        Assert.Equal(-(0.25 * Math.Log(0.25) + 0.75 * Math.Log(0.75)) + Math.Log(3), h, 5);
    }

    [Fact]
    public void SamplerLogSoftmaxMatchesDefinitionAndRespectsTemperature()
    {
        var logp = new double[3];
        CategoricalSampler.LogSoftmax([1f, 2f, 3f], 1, logp);
        double z = Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3));
        Assert.Equal(1 - z, logp[0], 10);
        Assert.Equal(3 - z, logp[2], 10);
        CategoricalSampler.LogSoftmax([1f, 2f, 3f], 0.5, logp);
        double z2 = Math.Log(Math.Exp(2) + Math.Exp(4) + Math.Exp(6));
        Assert.Equal(6 - z2, logp[2], 10);
    }

    [Fact]
    public void SamplerFrequenciesFollowTheProbabilities()
    {
        var rng = new Rng(7UL);
        double[] logp = [Math.Log(0.2), Math.Log(0.5), Math.Log(0.3)];
        var counts = new int[3];
        const int n = 100_000;
        for (int i = 0; i < n; i++) counts[CategoricalSampler.Sample(logp, rng)]++;
        // Standard error of a frequency near 0.5 with n = 1e5 is ≈ 0.0016; 0.01 is > 6 σ.
        Assert.InRange(counts[0] / (double)n, 0.19, 0.21);
        Assert.InRange(counts[1] / (double)n, 0.49, 0.51);
        Assert.InRange(counts[2] / (double)n, 0.29, 0.31);
    }

    [Fact]
    public void ArgMaxTakesTheFirstLargest()
    {
        Assert.Equal(1, CategoricalSampler.ArgMax([0f, 3f, 3f, -1f]));
        Assert.Equal(0, CategoricalSampler.ArgMax([5f]));
    }
}
