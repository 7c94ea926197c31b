using RLAgents.Agents.Buffers;

namespace RLAgents.Agents.Tests.Buffers;

/// <summary>GAE, discounted and n-step returns against values computed by hand (in the comments).</summary>
public class ReturnsTests
{
    // Two envs, three steps, time-major (index t·2 + i). Env 0 is truncated at t = 1 (V(final obs) = 9),
    // env 1 terminates at t = 1 (its next value 7 must be ignored).
    private static readonly float[] Rewards = [1, 1, 2, 1, 3, 1];
    private static readonly float[] Values = [0.5f, 0.2f, 1.0f, 0.4f, 1.5f, 0.6f];
    private static readonly float[] NextValues = [1.0f, 0.4f, 9.0f, 7.0f, 2.0f, 0.3f];
    private static readonly bool[] Terminated = [false, false, false, true, false, false];
    private static readonly bool[] Ended = [false, false, true, true, false, false];

    [Fact]
    public void GaeBootstrapsThroughTruncationButNotTermination()
    {
        var adv = new float[6];
        var ret = new float[6];
        Returns.Gae(3, 2, Rewards, Values, NextValues, Terminated, Ended, 0.9, 0.8, adv, ret);
        // Env 0: δ2 = 3 + 0.9·2 − 1.5 = 3.3; δ1 = 2 + 0.9·9 − 1 = 9.1 (truncated: bootstrap, no carry);
        //        δ0 = 1 + 0.9·1 − 0.5 = 1.4, A0 = 1.4 + 0.72·9.1 = 7.952.
        Assert.Equal(7.952f, adv[0], 4);
        Assert.Equal(9.1f, adv[2], 4);
        Assert.Equal(3.3f, adv[4], 4);
        // Env 1: δ2 = 1 + 0.9·0.3 − 0.6 = 0.67; δ1 = 1 − 0.4 = 0.6 (terminated); A0 = 1.16 + 0.72·0.6 = 1.592.
        Assert.Equal(1.592f, adv[1], 4);
        Assert.Equal(0.6f, adv[3], 4);
        Assert.Equal(0.67f, adv[5], 4);
        for (int k = 0; k < 6; k++) Assert.Equal(adv[k] + Values[k], ret[k], 5);
    }

    [Fact]
    public void DiscountedReturnsAreMonteCarloWithBootstrapOnlyWhereCut()
    {
        var ret = new float[6];
        Returns.Discounted(3, 2, Rewards, NextValues, Terminated, Ended, 0.9, ret);
        // Env 0: G2 = 3 + 0.9·2 = 4.8 (rollout end); G1 = 2 + 0.9·9 = 10.1 (truncated); G0 = 1 + 0.9·10.1 = 10.09.
        Assert.Equal(new[] { 10.09f, 4.8f, 10.1f }, new[] { ret[0], ret[4], ret[2] }, new Tolerance(1e-4f));
        // Env 1: G2 = 1 + 0.9·0.3 = 1.27; G1 = 1 (terminated); G0 = 1 + 0.9·1 = 1.9.
        Assert.Equal(new[] { 1.9f, 1f, 1.27f }, new[] { ret[1], ret[3], ret[5] }, new Tolerance(1e-4f));
        // λ = 1 GAE gives the same value targets.
        var adv = new float[6];
        var gae = new float[6];
        Returns.Gae(3, 2, Rewards, Values, NextValues, Terminated, Ended, 0.9, 1.0, adv, gae);
        Assert.Equal(ret, gae, new Tolerance(1e-4f));
    }

    [Fact]
    public void NStepReturnSumsDiscountedRewardsAndZeroesTheDiscountOnTermination()
    {
        // 1 + 0.5·2 + 0.25·3 = 2.75, bootstrap discount 0.5³.
        Assert.Equal((2.75, 0.125), Returns.NStep([1, 2, 3], 0.5, terminated: false));
        Assert.Equal((2.75, 0.0), Returns.NStep([1, 2, 3], 0.5, terminated: true));
        Assert.Equal((4.0, 0.5), Returns.NStep([4], 0.5, terminated: false));
    }

    [Fact]
    public void ExplainedVarianceIsOneForPerfectValuesAndZeroForConstantOnes()
    {
        float[] returns = [1, 2, 3, 4];
        Assert.Equal(1.0, RLAgents.Agents.Algorithms.OnPolicyAlgorithm.ExplainedVariance(returns, returns), 10);
        Assert.Equal(0.0, RLAgents.Agents.Algorithms.OnPolicyAlgorithm.ExplainedVariance([2.5f, 2.5f, 2.5f, 2.5f], returns), 10);
    }

    private sealed class Tolerance(float eps) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= eps;
        public int GetHashCode(float obj) => 0;
    }
}
