using RLAgents.Environments.ClassicControl;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Tests.Wrappers;

public sealed class WrapperTests
{
    [Fact]
    public void TimeLimitTruncatesAtTheLimitAndThenRequiresReset()
    {
        using var env = new TimeLimit(new CartPole(), 5);
        env.Reset(seed: 0);
        for (int t = 1; t <= 4; t++)
        {
            var r = env.Step(t % 2);
            Assert.False(r.Truncated, $"step {t}");
            Assert.Equal(t, env.ElapsedSteps);
        }
        var last = env.Step(0);
        Assert.True(last.Truncated);
        Assert.False(last.Terminated);
        // The inner CartPole has not ended, yet the wrapper enforces the reset.
        Assert.True(((CartPole)env.Inner).InEpisode);
        Assert.Throws<InvalidOperationException>(() => env.Step(0));
        env.Reset();
        Assert.Equal(0, env.ElapsedSteps);
        Assert.False(env.Step(0).Truncated);
    }

    [Fact]
    public void TimeLimitReportsTruncatedWithTerminatedOnTheLimitingStep()
    {
        using var env = new TimeLimit(new CartPole(), 1);
        env.Reset(seed: 0);
        ((CartPole)env.Inner).SetState([2.399, 1.0, 0.0, 0.0]);
        var r = env.Step(1);
        Assert.True(r.Terminated);
        Assert.True(r.Truncated);
    }

    [Fact]
    public void WrapperValidatesActionsAndResetLikeEnv()
    {
        using var env = new TimeLimit(new CartPole(), 10);
        var before = Assert.Throws<InvalidOperationException>(() => env.Step(0));
        Assert.Contains("before Reset", before.Message);
        env.Reset(seed: 1);
        var bad = Assert.Throws<InvalidActionException>(() => env.Step(-1));
        Assert.Contains("-1", bad.Message);
        Assert.Contains("CartPole-v1", bad.Message);
    }

    [Fact]
    public void EpisodeStatisticsAppearOnlyOnTheEndingStep()
    {
        using var env = new RecordEpisodeStatistics(new TimeLimit(new CartPole(), 7));
        env.Reset(seed: 2);
        double sum = 0;
        StepResult r;
        int n = 0;
        do
        {
            r = env.Step(n % 2);
            sum += r.Reward;
            n++;
            if (!r.Done) Assert.Null(r.Info.Episode);
        } while (!r.Done);
        var stats = Assert.NotNull(r.Info.Episode);
        Assert.Equal(n, stats.Length);
        Assert.Equal(sum, stats.Return);
        Assert.Equal(7, stats.Length);
        Assert.True(stats.Seconds >= 0);
        Assert.Equal(stats, env.LastEpisode);
    }

    [Fact]
    public void UnwrappedAndFindWalkTheChain()
    {
        using var env = EnvRegistry.CreateDefault().Make("CartPole-v1");
        Assert.IsType<RecordEpisodeStatistics>(env);
        Assert.IsType<CartPole>(env.Unwrapped());
        Assert.Equal(500, env.Find<TimeLimit>()!.MaxEpisodeSteps);
        Assert.Null(env.Find<NormalizeObservation>());
    }

    [Fact]
    public void MakeUsesTheGivenStepLimit()
    {
        using var env = EnvRegistry.CreateDefault().Make("CartPole-v1", new CartPoleOptions(), maxEpisodeSteps: 3);
        Assert.Equal(3, env.Find<TimeLimit>()!.MaxEpisodeSteps);
        Assert.Throws<ArgumentOutOfRangeException>(() => EnvRegistry.CreateDefault().Make("CartPole-v1", maxEpisodeSteps: 0));
    }
}
