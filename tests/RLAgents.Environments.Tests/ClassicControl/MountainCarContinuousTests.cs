using RLAgents.Environments.ClassicControl;

namespace RLAgents.Environments.Tests.ClassicControl;

public sealed class MountainCarContinuousTests
{
    private static readonly IReadOnlyList<ControlEpisode> Episodes = ControlEpisode.Load("mountaincarcontinuous_v0_fixture.jsonl");

    public static TheoryData<int> EpisodeIndices() => ControlEpisode.Indices(Episodes.Count);

    [Fact]
    public void FixtureHoldsGoalReachingOutOfBoundsAndTruncatedEpisodes()
    {
        Assert.Equal(["pump", "pump_oob", "sinusoid", "uniform"], Episodes.Select(e => e.Policy).Distinct().Order());
        Assert.Contains(Episodes, e => e.FinalTerminated);
        Assert.Contains(Episodes, e => e.FinalTruncated && e.Steps.Length == MountainCarContinuous.MaxEpisodeSteps);
        Assert.Contains(Episodes, e => e.Steps.Any(s => Math.Abs(s.Continuous[0]) > 1f));
    }

    [Theory]
    [MemberData(nameof(EpisodeIndices))]
    public void ReplaysTheGymnasiumEpisodeExactlyThroughTheRegistry(int index)
    {
        var episode = Episodes[index];
        using var env = EnvRegistry.CreateDefault().Make("MountainCarContinuous-v0");
        var car = Assert.IsType<MountainCarContinuous>(env.Unwrapped());
        env.Reset(seed: episode.Seed);
        ExactAssert.Floats(episode.ResetObs, car.SetState(episode.ResetState).Floats(0), $"{episode} reset");

        for (int t = 0; t < episode.Steps.Length; t++)
        {
            var expected = episode.Steps[t];
            var r = env.Step(expected.Continuous);
            string where = $"{episode} step {t}";
            ExactAssert.Floats(expected.Obs, r.Observation.Floats(0), where);
            // The state after a step is the float32 observation.
            ExactAssert.Doubles([expected.Obs[0], expected.Obs[1]], car.State, where);
            Assert.True(expected.Reward == r.Reward, $"{where}: reward {r.Reward:R}, expected {expected.Reward:R}");
            Assert.True(expected.Terminated == r.Terminated, $"{where}: terminated {r.Terminated}");
            Assert.True(expected.Truncated == r.Truncated, $"{where}: truncated {r.Truncated}");
        }
        Assert.Throws<InvalidOperationException>(() => env.Step([0f]));
    }

    [Fact]
    public void PenaltyUsesTheRawActionWhileTheForceIsClipped()
    {
        var a = new MountainCarContinuous();
        var b = new MountainCarContinuous();
        a.Reset(seed: 1);
        b.Reset(seed: 1);
        var ra = a.Step([1.5f]);
        var rb = b.Step([1f]);
        Assert.Equal(rb.Observation.Floats(0).ToArray(), ra.Observation.Floats(0).ToArray());
        Assert.Equal(-0.1 * 1.5 * 1.5, ra.Reward, 15);
        Assert.Equal(-0.1, rb.Reward, 15);
    }

    [Fact]
    public void GoalTestSeesTheStateBeforeFloat32Rounding()
    {
        // Positions in [0.45, 0.4500000029) round to the float32 0.44999998807907104, below the goal.
        const double velocity = 0.01;
        double start = MountainCarContinuous.GoalPosition;
        for (int k = 0; k < 5; k++) start = MountainCarContinuous.GoalPosition - (velocity - MountainCar.Gravity * Math.Cos(3 * start));
        start -= 1e-8;
        for (int k = 0; k < 10_000; k++, start += 1e-11)
        {
            var (p, _, terminated, _) = MountainCarContinuous.Advance(start, velocity, 0f, 0.0);
            if (!terminated) continue;
            Assert.True(p < MountainCarContinuous.GoalPosition, "the first terminating start lands in the rounding window");
            var env = new MountainCarContinuous();
            env.Reset(seed: 0);
            env.SetState([start, velocity]);
            var r = env.Step([0f]);
            Assert.True(r.Terminated);
            Assert.True(r.Observation.Floats(0)[0] < MountainCarContinuous.GoalPosition);
            Assert.Equal(100.0, r.Reward);
            return;
        }
        Assert.Fail("no start position lands in the rounding window");
    }

    [Fact]
    public void ResetStateIsFloat64AndEveryStepRoundsItToFloat32()
    {
        var env = new MountainCarContinuous();
        env.Reset(seed: 4);
        double p0 = env.State[0];
        Assert.InRange(p0, -0.6, -0.4);
        Assert.NotEqual((double)(float)p0, p0);
        env.Step([0.3f]);
        Assert.All(env.State, v => Assert.Equal((double)(float)v, v));
    }
}
