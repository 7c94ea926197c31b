using RLAgents.Environments;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Distributions;

/// <summary>
/// A batch of categorical distributions given by unnormalised logits [B, K] (a Discrete action
/// space). Differentiable log-probabilities and entropies for the update rules.
/// </summary>
public static class Categorical
{
    /// <summary>log π(a|s) of <paramref name="actions"/> (int64 [B]) under <paramref name="logits"/> [B, K] → [B].</summary>
    public static Tensor LogProb(Tensor logits, Tensor actions)
    {
        var logp = logits.log_softmax(-1);
        var index = actions.unsqueeze(-1);
        var picked = logp.gather(-1, index);
        return picked.squeeze(-1);
    }

    /// <summary>Entropy −Σ p log p of each distribution: [B, K] → [B].</summary>
    public static Tensor Entropy(Tensor logits)
    {
        var logp = logits.log_softmax(-1);
        var p = logp.exp();
        var plogp = p.mul(logp);
        var sum = plogp.sum(-1);
        return sum.neg();
    }
}

/// <summary>
/// Categorical arithmetic on plain arrays for the acting hot path: one row of logits is a few
/// floats, so sampling in C# with the run's <see cref="Rng"/> is cheaper than tensor calls and its
/// state is saved with checkpoints.
/// </summary>
public static class CategoricalSampler
{
    /// <summary>Writes log-softmax(<paramref name="logits"/> / <paramref name="temperature"/>) into <paramref name="logProbs"/>.</summary>
    public static void LogSoftmax(ReadOnlySpan<float> logits, double temperature, Span<double> logProbs)
    {
        double max = double.NegativeInfinity;
        for (int k = 0; k < logits.Length; k++) max = Math.Max(max, logits[k] / temperature);
        double sum = 0;
        for (int k = 0; k < logits.Length; k++) sum += Math.Exp(logits[k] / temperature - max);
        double logZ = max + Math.Log(sum);
        for (int k = 0; k < logits.Length; k++) logProbs[k] = logits[k] / temperature - logZ;
    }

    /// <summary>Draws an index from exp(<paramref name="logProbs"/>) by inversion of one uniform.</summary>
    public static int Sample(ReadOnlySpan<double> logProbs, Rng rng)
    {
        double u = rng.NextDouble(), cumulative = 0;
        for (int k = 0; k < logProbs.Length - 1; k++)
        {
            cumulative += Math.Exp(logProbs[k]);
            if (u < cumulative) return k;
        }
        return logProbs.Length - 1;
    }

    /// <summary>Index of the largest value (first on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int k = 1; k < values.Length; k++) if (values[k] > values[best]) best = k;
        return best;
    }
}
