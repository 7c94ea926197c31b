using RLAgents.Environments.ClassicControl;

namespace RLAgents.Environments.Tests.ClassicControl;

public sealed class CartPoleTests
{
    private static readonly IReadOnlyList<GymEpisode> Episodes = GymEpisode.Load();

    public static TheoryData<int> EpisodeIndices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Episodes.Count; i++) data.Add(i);
        return data;
    }

    [Fact]
    public void FixtureHoldsTerminatingAndTruncatedEpisodes()
    {
        Assert.Equal(10, Episodes.Count);
        Assert.Contains(Episodes, e => e.FinalTerminated);
        Assert.Contains(Episodes, e => e.FinalTruncated && e.Steps.Length == CartPole.MaxEpisodeSteps);
    }

    [Theory]
    [MemberData(nameof(EpisodeIndices))]
    public void ReplaysGymnasiumEpisodeExactlyThroughTheRegistry(int index)
    {
        var episode = Episodes[index];
        using var env = EnvRegistry.CreateDefault().Make("CartPole-v1");
        var cartPole = Assert.IsType<CartPole>(env.Unwrapped());
        env.Reset(seed: episode.Seed);
        var first = cartPole.SetState(episode.ResetState);
        Assert.Equal(episode.ResetObs, first.Floats(0).ToArray());

        for (int t = 0; t < episode.Steps.Length; t++)
        {
            var expected = episode.Steps[t];
            var r = env.Step(expected.Action);
            float[] obs = r.Observation.Floats(0).ToArray();
            for (int k = 0; k < 4; k++)
                Assert.True(BitConverter.SingleToInt32Bits(expected.Obs[k]) == BitConverter.SingleToInt32Bits(obs[k]),
                    $"{episode} step {t} obs[{k}]: expected {expected.Obs[k]:R}, got {obs[k]:R}");
            Assert.Equal(expected.Reward, r.Reward);
            Assert.True(expected.Terminated == r.Terminated, $"{episode} step {t}: terminated {r.Terminated}");
            Assert.True(expected.Truncated == r.Truncated, $"{episode} step {t}: truncated {r.Truncated}");
            Assert.Equal(expected.State, cartPole.State);
        }

        Assert.Throws<InvalidOperationException>(() => env.Step(0));
    }

    [Fact]
    public void SingleStepsFromEveryRecordedStateMatchGymnasium()
    {
        // Independent of accumulated history: each transition starts from Gymnasium's own float64 state.
        var env = new CartPole();
        env.Reset(seed: 1);
        foreach (var episode in Episodes)
        {
            var from = episode.ResetState;
            foreach (var step in episode.Steps)
            {
                if (!env.InEpisode) env.Reset();
                env.SetState(from);
                var r = env.Step(step.Action);
                Assert.Equal(step.Obs, r.Observation.Floats(0).ToArray());
                Assert.Equal(step.Terminated, r.Terminated);
                Assert.False(r.Truncated);
                from = step.State;
            }
        }
    }

    [Fact]
    public void SpacesHaveGymnasiumBounds()
    {
        var env = new CartPole();
        var box = Assert.IsType<BoxSpace>(env.ObservationSpace["state"].Space);
        Assert.Equal(DType.Float32, box.DType);
        Assert.Equal([4], box.ShapeArray());
        Assert.Equal(4.8f, box.High[0]);
        Assert.Equal((float)(24 * Math.PI / 180), box.High[2]);
        Assert.Equal(-box.High[2], box.Low[2]);
        Assert.True(float.IsPositiveInfinity(box.High[1]) && float.IsNegativeInfinity(box.Low[3]));
        Assert.Equal(2, env.ActionSpace.N);
    }

    [Fact]
    public void ResetDrawsStateWithinBoundsAndObservationIsTheFloat32State()
    {
        var env = new CartPole();
        for (int seed = 0; seed < 50; seed++)
        {
            var obs = env.Reset(seed).Observation.Floats(0).ToArray();
            double[] s = env.State;
            for (int k = 0; k < 4; k++)
            {
                Assert.InRange(s[k], -0.05, 0.05);
                Assert.Equal((float)s[k], obs[k]);
            }
        }
    }

    [Fact]
    public void SameSeedGivesSameStartAndDifferentSeedsDiffer()
    {
        var a = new CartPole();
        var b = new CartPole();
        Assert.Equal(a.Reset(7).Observation.Floats(0).ToArray(), b.Reset(7).Observation.Floats(0).ToArray());
        Assert.NotEqual(a.Reset(8).Observation.Floats(0).ToArray(), b.Reset(9).Observation.Floats(0).ToArray());
    }

    [Fact]
    public void TerminatingStepRewardsOneThenStepThrows()
    {
        var env = new CartPole();
        env.Reset(seed: 3);
        env.SetState([2.39, 1.0, 0.0, 0.0]);
        var r = env.Step(1);
        Assert.True(r.Terminated);
        Assert.False(r.Truncated);
        Assert.Equal(1.0, r.Reward);
        var ex = Assert.Throws<InvalidOperationException>(() => env.Step(1));
        Assert.Contains("Reset", ex.Message);
    }

    [Fact]
    public void SuttonBartoRewardIsZeroPerStepAndMinusOneOnFailure()
    {
        var env = new CartPole(new CartPoleOptions { SuttonBartoReward = true });
        env.Reset(seed: 3);
        Assert.Equal(0.0, env.Step(0).Reward);
        env.SetState([0.0, 0.0, 0.2094, 1.0]);
        var r = env.Step(0);
        Assert.True(r.Terminated);
        Assert.Equal(-1.0, r.Reward);
    }

    [Fact]
    public void StepBeforeResetAndInvalidActionThrow()
    {
        var env = new CartPole();
        Assert.Throws<InvalidOperationException>(() => env.Step(0));
        env.Reset(seed: 0);
        var ex = Assert.Throws<InvalidActionException>(() => env.Step(2));
        Assert.Contains("Discrete(2)", ex.Message);
        Assert.Contains("2", ex.Message);
    }

    [Fact]
    public void SetStateRejectsWrongLength()
    {
        var env = new CartPole();
        env.Reset(0);
        Assert.Throws<ArgumentException>(() => env.SetState([1.0, 2.0]));
    }
}
