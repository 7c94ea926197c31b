using RLAgents.Environments.ClassicControl;

namespace RLAgents.Environments.Tests.ClassicControl;

public sealed class AcrobotTests
{
    private static readonly IReadOnlyList<ControlEpisode> Episodes = ControlEpisode.Load("acrobot_v1_fixture.jsonl");

    public static TheoryData<int> EpisodeIndices() => ControlEpisode.Indices(Episodes.Count);

    [Fact]
    public void FixtureHoldsTerminatingTruncatedAndWrappingEpisodesOfEveryPolicy()
    {
        Assert.Equal(["none", "pump", "pump_inv", "random"], Episodes.Select(e => e.Policy).Distinct().Order());
        Assert.Contains(Episodes, e => e.FinalTerminated);
        Assert.Contains(Episodes, e => e.FinalTruncated && e.Steps.Length == Acrobot.MaxEpisodeSteps);
        Assert.True(Episodes.Sum(e => e.Steps.Count(s => s.Rk4Raw is not null)) > 20, "steps whose angles were wrapped");
        // Gymnasium's reset state is float32.
        Assert.All(Episodes, e => Assert.All(e.ResetState, v => Assert.Equal(v, (double)(float)v)));
    }

    [Theory]
    [MemberData(nameof(EpisodeIndices))]
    public void ReplaysTheGymnasiumEpisodeExactlyThroughTheRegistry(int index)
    {
        var episode = Episodes[index];
        using var env = EnvRegistry.CreateDefault().Make("Acrobot-v1");
        var acrobot = Assert.IsType<Acrobot>(env.Unwrapped());
        env.Reset(seed: episode.Seed);
        ExactAssert.Floats(episode.ResetObs, acrobot.SetState(episode.ResetState).Floats(0), $"{episode} reset");

        for (int t = 0; t < episode.Steps.Length; t++)
        {
            var expected = episode.Steps[t];
            var r = env.Step(expected.Discrete);
            string where = $"{episode} step {t}";
            ExactAssert.Floats(expected.Obs, r.Observation.Floats(0), where);
            ExactAssert.Doubles(expected.State!, acrobot.State, where);
            Assert.Equal(expected.Reward, r.Reward);
            Assert.True(expected.Terminated == r.Terminated, $"{where}: terminated {r.Terminated}");
            Assert.True(expected.Truncated == r.Truncated, $"{where}: truncated {r.Truncated}");
        }
        Assert.Throws<InvalidOperationException>(() => env.Step(1));
    }

    [Fact]
    public void RungeKuttaStepBeforeWrappingMatchesGymnasium()
    {
        int checkedSteps = 0;
        foreach (var episode in Episodes)
        {
            var from = episode.ResetState;
            foreach (var step in episode.Steps)
            {
                if (step.Rk4Raw is { } raw)
                {
                    var s = Acrobot.Rk4(new Acrobot.State4(from[0], from[1], from[2], from[3]), step.Discrete - 1.0, book: true);
                    ExactAssert.Doubles(raw, [s.Theta1, s.Theta2, s.DTheta1, s.DTheta2], $"{episode} t {Array.IndexOf(episode.Steps, step)}");
                    Assert.True(Math.Abs(s.Theta1) > Math.PI || Math.Abs(s.Theta2) > Math.PI, "the fixture records raw values only when wrapping changed them");
                    checkedSteps++;
                }
                from = step.State!;
            }
        }
        Assert.True(checkedSteps > 20);
    }

    [Fact]
    public void WrapSubtractsWholeTurnsOneAtATime()
    {
        Assert.Equal(4.0 - 2 * Math.PI, Acrobot.Wrap(4.0));
        Assert.Equal(-4.0 + 2 * Math.PI, Acrobot.Wrap(-4.0));
        Assert.Equal(Math.PI, Acrobot.Wrap(Math.PI));
        Assert.Equal(-Math.PI, Acrobot.Wrap(-Math.PI));
        // Repeated subtraction, as Gymnasium's loop does, not a single floating-point remainder.
        Assert.Equal(10.0 - 2 * Math.PI - 2 * Math.PI, Acrobot.Wrap(10.0));
    }

    [Fact]
    public void NipsDynamicsChangeTheTrajectoryOfAMovingArm()
    {
        var book = new Acrobot();
        var nips = new Acrobot(new AcrobotOptions { Dynamics = AcrobotDynamics.Nips });
        Assert.Equal(AcrobotDynamics.Book, book.Options.Dynamics);
        book.Reset(seed: 1);
        nips.Reset(seed: 1);
        book.SetState([0.3, 0.7, 2.0, -1.0]);
        nips.SetState([0.3, 0.7, 2.0, -1.0]);
        // The book's extra −m₂l₁l_c₂θ̇₁² sin θ₂ term is non-zero here.
        Assert.NotEqual(book.Step(2).Observation.Floats(0).ToArray(), nips.Step(2).Observation.Floats(0).ToArray());
    }

    [Fact]
    public void ResetDrawsFloat32StateNearHangingDown()
    {
        var env = new Acrobot();
        for (int seed = 0; seed < 50; seed++)
        {
            var obs = env.Reset(seed).Observation.Floats(0).ToArray();
            foreach (double v in env.State)
            {
                Assert.InRange(v, -0.1, 0.1);
                Assert.Equal(v, (double)(float)v);
            }
            Assert.InRange(obs[0], 0.99f, 1f);
            Assert.InRange(obs[2], 0.99f, 1f);
        }
    }

    [Fact]
    public void TerminatingStepRewardsZero()
    {
        var env = new Acrobot();
        env.Reset(seed: 0);
        // Both links almost straight up: the tip is about 2 link lengths above the pivot.
        env.SetState([Math.PI - 0.01, 0.0, 0.0, 0.0]);
        var r = env.Step(1);
        Assert.True(r.Terminated);
        Assert.Equal(0.0, r.Reward);
    }
}
