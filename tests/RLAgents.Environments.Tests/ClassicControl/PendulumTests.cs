using RLAgents.Environments.ClassicControl;

namespace RLAgents.Environments.Tests.ClassicControl;

public sealed class PendulumTests
{
    private static readonly IReadOnlyList<ControlEpisode> Episodes = ControlEpisode.Load("pendulum_v1_fixture.jsonl");

    public static TheoryData<int> EpisodeIndices() => ControlEpisode.Indices(Episodes.Count);

    [Fact]
    public void FixtureHoldsEveryPolicyIncludingOutOfBoundsActions()
    {
        Assert.Equal(["const_neg", "const_pos", "oob_uniform", "sinusoid", "uniform", "zero"], Episodes.Select(e => e.Policy).Distinct().Order());
        Assert.All(Episodes, e => Assert.True(e.FinalTruncated && e.Steps.Length == Pendulum.MaxEpisodeSteps));
        Assert.Contains(Episodes, e => e.Steps.Any(s => Math.Abs(s.Continuous[0]) > Pendulum.MaxTorque));
        // The state angle is never wrapped: some episodes spin past ±π many times.
        Assert.Contains(Episodes, e => e.Steps.Any(s => Math.Abs(s.State![0]) > 10 * Math.PI));
    }

    [Theory]
    [MemberData(nameof(EpisodeIndices))]
    public void ReplaysTheGymnasiumEpisodeExactlyThroughTheRegistry(int index)
    {
        var episode = Episodes[index];
        using var env = EnvRegistry.CreateDefault().Make("Pendulum-v1");
        var pendulum = Assert.IsType<Pendulum>(env.Unwrapped());
        env.Reset(seed: episode.Seed);
        ExactAssert.Floats(episode.ResetObs, pendulum.SetState(episode.ResetState).Floats(0), $"{episode} reset");

        for (int t = 0; t < episode.Steps.Length; t++)
        {
            var expected = episode.Steps[t];
            var r = env.Step(expected.Continuous);
            string where = $"{episode} step {t}";
            ExactAssert.Floats(expected.Obs, r.Observation.Floats(0), where);
            ExactAssert.Doubles(expected.State!, pendulum.State, where);
            Assert.True(expected.Reward == r.Reward, $"{where}: reward {r.Reward:R}, expected {expected.Reward:R}");
            Assert.Equal(expected.Torque, pendulum.LastTorque);
            Assert.False(r.Terminated);
            Assert.True(expected.Truncated == r.Truncated, $"{where}: truncated {r.Truncated}");
        }
        Assert.Throws<InvalidOperationException>(() => env.Step([0f]));
    }

    [Fact]
    public void OutOfBoundsTorqueActsAsTheClippedTorque()
    {
        var a = new Pendulum();
        var b = new Pendulum();
        a.Reset(seed: 3);
        b.Reset(seed: 3);
        var ra = a.Step([5f]);
        var rb = b.Step([2f]);
        Assert.Equal(rb.Observation.Floats(0).ToArray(), ra.Observation.Floats(0).ToArray());
        Assert.Equal(rb.Reward, ra.Reward);
        Assert.Equal(2.0, a.LastTorque);
    }

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(Math.PI, -Math.PI)]
    [InlineData(-Math.PI, -Math.PI)]
    [InlineData(3 * Math.PI / 2, -Math.PI / 2)]
    [InlineData(-3 * Math.PI / 2, Math.PI / 2)]
    [InlineData(-7.0, -7.0 + 2 * Math.PI)]
    public void AngleNormalizeIsAFlooredModuloIntoMinusPiToPi(double theta, double expected) =>
        Assert.Equal(expected, Pendulum.AngleNormalize(theta), 12);

    [Fact]
    public void RewardAtTheTopAtRestWithoutTorqueIsZeroAndAtTheBottomMinusPiSquared()
    {
        var env = new Pendulum();
        env.Reset(seed: 0);
        env.SetState([0.0, 0.0]);
        Assert.Equal(0.0, env.Step([0f]).Reward);
        env.SetState([Math.PI, 0.0]);
        Assert.Equal(-Math.PI * Math.PI, env.Step([0f]).Reward, 12);
    }

    [Fact]
    public void GravityOptionChangesTheFall()
    {
        var earth = new Pendulum(new PendulumOptions { Gravity = 9.81 });
        var standard = new Pendulum();
        earth.Reset(seed: 0);
        standard.Reset(seed: 0);
        earth.SetState([1.0, 0.0]);
        standard.SetState([1.0, 0.0]);
        // θ̇' = 3g/2·sin θ·dt from rest: proportional to g.
        earth.Step([0f]);
        standard.Step([0f]);
        Assert.Equal(standard.State[1] * 9.81 / 10.0, earth.State[1], 12);
    }

    [Fact]
    public void SpacesHaveGymnasiumBounds()
    {
        var env = new Pendulum();
        var obs = Assert.IsType<BoxSpace>(env.ObservationSpace["state"].Space);
        Assert.Equal([-1f, -1f, -8f], obs.Low.ToArray());
        Assert.Equal([1f, 1f, 8f], obs.High.ToArray());
        Assert.Equal([1], env.ActionSpace.ShapeArray());
        Assert.Equal(-2f, env.ActionSpace.Low[0]);
        Assert.Equal(2f, env.ActionSpace.High[0]);
        Assert.Equal("Box(float32, [1], -2, 2)", env.ActionSpace.ToString());
    }
}
