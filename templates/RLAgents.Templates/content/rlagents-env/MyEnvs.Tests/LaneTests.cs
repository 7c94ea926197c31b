using RLAgents.Environments;
using RLAgents.Environments.Checking;

namespace MyEnvs.Tests;

public sealed class LaneTests
{
    [Fact]
    public void LanePassesTheEnvChecker()
    {
        // The checker RLAgents runs on every environment: spaces, seeding, determinism, reset/step bookkeeping.
        var report = EnvChecker.Check(() => new Lane(new LaneOptions()));
        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void TheExpertReachesTheGoalAndReportsSuccess()
    {
        using var env = new Lane(new LaneOptions { Length = 5 });
        var episode = Experts.Play(env, env.CreateExpert(), seed: 3);
        Assert.NotNull(episode);
        Assert.True(episode.Success);
        Assert.Equal(1.0, episode.Rewards[^1]);
        Assert.InRange(episode.Length, 1, 4);
    }

    [Fact]
    public void TheSameSeedGivesTheSameStart()
    {
        using var a = new Lane(new LaneOptions());
        using var b = new Lane(new LaneOptions());
        a.Reset(7);
        b.Reset(7);
        Assert.Equal(a.RenderText(), b.RenderText());
    }
}
