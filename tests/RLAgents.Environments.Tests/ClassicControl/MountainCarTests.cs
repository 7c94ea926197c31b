using RLAgents.Environments.ClassicControl;

namespace RLAgents.Environments.Tests.ClassicControl;

public sealed class MountainCarTests
{
    private static readonly IReadOnlyList<ControlEpisode> Episodes = ControlEpisode.Load("mountaincar_v0_fixture.jsonl");

    public static TheoryData<int> EpisodeIndices() => ControlEpisode.Indices(Episodes.Count);

    [Fact]
    public void FixtureHoldsGoalReachingAndTruncatedEpisodesOfEveryPolicy()
    {
        Assert.Equal(["left", "pump", "random", "right"], Episodes.Select(e => e.Policy).Distinct().Order());
        Assert.Contains(Episodes, e => e.FinalTerminated);
        Assert.Contains(Episodes, e => e.FinalTruncated && e.Steps.Length == MountainCar.MaxEpisodeSteps);
        // The left policy drives into the wall: the inelastic collision is exercised.
        Assert.Contains(Episodes, e => e.Steps.Any(s => s.State![0] == MountainCar.MinPosition));
    }

    [Theory]
    [MemberData(nameof(EpisodeIndices))]
    public void ReplaysTheGymnasiumEpisodeExactlyThroughTheRegistry(int index)
    {
        var episode = Episodes[index];
        using var env = EnvRegistry.CreateDefault().Make("MountainCar-v0");
        var car = Assert.IsType<MountainCar>(env.Unwrapped());
        env.Reset(seed: episode.Seed);
        ExactAssert.Floats(episode.ResetObs, car.SetState(episode.ResetState).Floats(0), $"{episode} reset");

        for (int t = 0; t < episode.Steps.Length; t++)
        {
            var expected = episode.Steps[t];
            var r = env.Step(expected.Discrete);
            string where = $"{episode} step {t}";
            ExactAssert.Floats(expected.Obs, r.Observation.Floats(0), where);
            ExactAssert.Doubles(expected.State!, car.State, where);
            Assert.Equal(expected.Reward, r.Reward);
            Assert.True(expected.Terminated == r.Terminated, $"{where}: terminated {r.Terminated}");
            Assert.True(expected.Truncated == r.Truncated, $"{where}: truncated {r.Truncated}");
        }
        Assert.Throws<InvalidOperationException>(() => env.Step(1));
    }

    [Fact]
    public void SpacesHaveGymnasiumBounds()
    {
        var env = new MountainCar();
        var box = Assert.IsType<BoxSpace>(env.ObservationSpace["state"].Space);
        Assert.Equal([-1.2f, -0.07f], box.Low.ToArray());
        Assert.Equal([0.6f, 0.07f], box.High.ToArray());
        Assert.Equal(3, env.ActionSpace.N);
    }

    [Fact]
    public void ResetPutsTheCarAtRestInTheValley()
    {
        var env = new MountainCar();
        for (int seed = 0; seed < 50; seed++)
        {
            var obs = env.Reset(seed).Observation.Floats(0).ToArray();
            Assert.InRange(env.State[0], -0.6, -0.4);
            Assert.Equal(0.0, env.State[1]);
            Assert.Equal((float)env.State[0], obs[0]);
        }
    }

    [Fact]
    public void GoalVelocityOptionDelaysTermination()
    {
        var strict = new MountainCar(new MountainCarOptions { GoalVelocity = 0.05 });
        var plain = new MountainCar();
        strict.Reset(seed: 0);
        plain.Reset(seed: 0);
        strict.SetState([0.49, 0.02]);
        plain.SetState([0.49, 0.02]);
        // Position passes 0.5 with a velocity near 0.02: the default goal accepts it, a 0.05 goal does not.
        Assert.True(plain.Step(2).Terminated);
        Assert.False(strict.Step(2).Terminated);
    }
}
