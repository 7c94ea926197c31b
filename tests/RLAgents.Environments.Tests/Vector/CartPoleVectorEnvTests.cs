using RLAgents.Environments.ClassicControl;
using RLAgents.Environments.Tests.ClassicControl;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Tests.Vector;

public sealed class CartPoleVectorEnvTests
{
    /// <summary>Random states spread over the non-terminal region and a little beyond it.</summary>
    private static double[][] RandomStates(int n, ulong seed, double thetaRange = 0.25)
    {
        var rng = new Rng(seed);
        return Enumerable.Range(0, n).Select(_ => new[]
        {
            rng.Uniform(-2.5, 2.5), rng.Uniform(-3, 3), rng.Uniform(-thetaRange, thetaRange), rng.Uniform(-3.5, 3.5),
        }).ToArray();
    }

    private static float UlpDistance(float a, float b) => Math.Abs(BitConverter.SingleToInt32Bits(a) - BitConverter.SingleToInt32Bits(b));

    [Theory]
    [InlineData(false, 0.25)]
    [InlineData(true, 0.25)]
    [InlineData(false, 3.0)] // angles beyond the series' range take the general SIMD sin/cos
    public void OneBatchedStepMatchesTheScalarStepFromTheSameStates(bool exact, double thetaRange)
    {
        const int n = 4099; // not a multiple of 4: exercises the SIMD body and the scalar tail
        var states = RandomStates(n, 17, thetaRange);
        var actions = VectorAssert.Actions(1, n, 2, 18)[0];
        using var vec = new CartPoleVectorEnv(n, AutoresetMode.Disabled, exactTrigonometry: exact);
        vec.Reset(seed: 0);
        for (int i = 0; i < n; i++) vec.SetState(i, states[i]);
        vec.Step(actions);

        var scalar = new CartPole();
        scalar.Reset(seed: 0);
        var batchedState = new double[4];
        int terminations = 0;
        for (int i = 0; i < n; i++)
        {
            if (!scalar.InEpisode) scalar.Reset();
            scalar.SetState(states[i]);
            var r = scalar.Step(actions[i]);
            var expected = r.Observation.Floats(0);
            var actual = vec.Observations.Floats(0).AsSpan(i * 4, 4);
            vec.GetState(i, batchedState);
            double[] s = scalar.State;
            for (int k = 0; k < 4; k++)
            {
                if (exact)
                {
                    Assert.Equal(expected[k], actual[k]);
                    Assert.Equal(s[k], batchedState[k]);
                }
                else
                {
                    Assert.True(UlpDistance(expected[k], actual[k]) <= 1, $"env {i} obs[{k}]: {expected[k]:R} vs {actual[k]:R}");
                    Assert.Equal(s[k], batchedState[k], 1e-12 * (1 + Math.Abs(s[k])));
                }
            }
            Assert.Equal(r.Terminated, vec.Terminated[i]);
            Assert.Equal(r.Reward, vec.Rewards[i]);
            Assert.False(vec.Truncated[i]);
            if (r.Terminated) terminations++;
        }
        Assert.InRange(terminations, 1, n - 1);
    }

    [Fact]
    public void ExactModeReplaysTheGymnasiumFixtureInParallel()
    {
        var episodes = GymEpisode.Load();
        using var vec = new CartPoleVectorEnv(episodes.Count, AutoresetMode.Disabled, exactTrigonometry: true);
        vec.Reset(seed: 0);
        for (int i = 0; i < episodes.Count; i++) vec.SetState(i, episodes[i].ResetState);
        int longest = episodes.Max(e => e.Steps.Length);
        var actions = new int[episodes.Count];
        var active = Enumerable.Repeat(true, episodes.Count).ToArray();
        for (int t = 0; t < longest; t++)
        {
            for (int i = 0; i < episodes.Count; i++)
            {
                if (!active[i]) continue;
                actions[i] = episodes[i].Steps[t].Action;
            }
            // Ended envs stay parked: restart them so Disabled mode lets the others go on.
            for (int i = 0; i < episodes.Count; i++)
                if (!active[i] && vec.Terminated[i] | vec.Truncated[i]) vec.ResetAt(i);
            vec.Step(actions);
            for (int i = 0; i < episodes.Count; i++)
            {
                if (!active[i]) continue;
                var expected = episodes[i].Steps[t];
                Assert.Equal(expected.Obs, vec.Observations.Floats(0).AsSpan(i * 4, 4).ToArray());
                Assert.Equal(expected.Terminated, vec.Terminated[i]);
                Assert.Equal(expected.Truncated, vec.Truncated[i]);
                Assert.Equal(expected.Reward, vec.Rewards[i]);
                if (t == episodes[i].Steps.Length - 1)
                {
                    active[i] = false;
                    Assert.Equal(t + 1, vec.Infos[i].Episode!.Value.Length);
                }
            }
        }
    }

    [Theory]
    [InlineData(AutoresetMode.SameStep)]
    [InlineData(AutoresetMode.NextStep)]
    [InlineData(AutoresetMode.Disabled)]
    public void ExactBatchedEqualsSyncVectorOfScalarCartpoles(AutoresetMode mode)
    {
        const int n = 9, limit = 40;
        using var batched = new CartPoleVectorEnv(n, mode, maxEpisodeSteps: limit, exactTrigonometry: true);
        using var sync = new SyncVectorEnv(_ => new RecordEpisodeStatistics(new TimeLimit(new CartPole(), limit)), n, mode);
        batched.Reset(seed: 2024);
        sync.Reset(seed: 2024);
        VectorAssert.SameStep(sync, batched, -1);
        var actions = VectorAssert.Actions(200, n, 2, 5);
        int truncations = 0, terminations = 0;
        for (int t = 0; t < actions.Length; t++)
        {
            batched.Step(actions[t]);
            sync.Step(actions[t]);
            VectorAssert.SameStep(sync, batched, t);
            for (int i = 0; i < n; i++)
            {
                truncations += sync.Truncated[i] ? 1 : 0;
                terminations += sync.Terminated[i] ? 1 : 0;
                if (mode == AutoresetMode.Disabled && (sync.Terminated[i] || sync.Truncated[i]))
                {
                    batched.ResetAt(i);
                    sync.ResetAt(i);
                    VectorAssert.SameStep(sync, batched, t); // the reset slot: first observation, reward 0, flags and info cleared
                }
            }
        }
        Assert.True(truncations > 0 && terminations > 0, "the run should cover both ways of ending");
        batched.Reset(seed: 5);
        sync.Reset(seed: 5);
        VectorAssert.SameStep(sync, batched, actions.Length);
    }

    [Fact]
    public void SimdBatchedStartsLikeSyncAndSameSeedGivesSameTrajectory()
    {
        const int n = 64;
        using var a = new CartPoleVectorEnv(n, AutoresetMode.SameStep);
        using var b = new CartPoleVectorEnv(n, AutoresetMode.SameStep);
        using var sync = new SyncVectorEnv(_ => new TimeLimit(new CartPole(), 500), n, AutoresetMode.SameStep);
        a.Reset(seed: 11);
        b.Reset(seed: 11);
        sync.Reset(seed: 11);
        Assert.Equal(sync.Observations.Floats(0), a.Observations.Floats(0));
        var actions = VectorAssert.Actions(300, n, 2, 12);
        int ended = 0;
        for (int t = 0; t < actions.Length; t++)
        {
            a.Step(actions[t]);
            b.Step(actions[t]);
            VectorAssert.SameStep(a, b, t);
            for (int i = 0; i < n; i++) ended += a.Terminated[i] ? 1 : 0;
        }
        Assert.True(ended > n);

        using var c = new CartPoleVectorEnv(n, AutoresetMode.SameStep);
        c.Reset(seed: 12);
        Assert.NotEqual(a.Observations.Floats(0), c.Observations.Floats(0));
    }

    [Theory]
    [InlineData(AutoresetMode.SameStep)]
    [InlineData(AutoresetMode.NextStep)]
    public void SimdAndExactModesAgreeOnFlagsAndResetsOverShortEpisodes(AutoresetMode mode)
    {
        const int n = 16, limit = 8;
        using var simd = new CartPoleVectorEnv(n, mode, maxEpisodeSteps: limit);
        using var exact = new CartPoleVectorEnv(n, mode, maxEpisodeSteps: limit, exactTrigonometry: true);
        simd.Reset(seed: 3);
        exact.Reset(seed: 3);
        var actions = VectorAssert.Actions(100, n, 2, 4);
        int truncations = 0;
        for (int t = 0; t < actions.Length; t++)
        {
            simd.Step(actions[t]);
            exact.Step(actions[t]);
            Assert.Equal(exact.Terminated.ToArray(), simd.Terminated.ToArray());
            Assert.Equal(exact.Truncated.ToArray(), simd.Truncated.ToArray());
            Assert.Equal(exact.Rewards.ToArray(), simd.Rewards.ToArray());
            var (e, s) = (exact.Observations.Floats(0), simd.Observations.Floats(0));
            for (int k = 0; k < e.Length; k++) Assert.Equal(e[k], s[k], 1e-5f);
            for (int i = 0; i < n; i++) truncations += simd.Truncated[i] ? 1 : 0;
        }
        Assert.True(truncations > 0);
    }

    [Fact]
    public void TruncatesAtTheLimitWithEpisodeStatistics()
    {
        using var vec = new CartPoleVectorEnv(4, AutoresetMode.NextStep, maxEpisodeSteps: 3);
        vec.Reset(seed: 1);
        vec.Step([0, 1, 0, 1]);
        vec.Step([1, 0, 1, 0]);
        Assert.All(vec.Infos.ToArray(), info => Assert.Null(info.Episode));
        vec.Step([0, 1, 0, 1]);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(vec.Truncated[i]);
            Assert.Equal(3, vec.Infos[i].Episode!.Value.Length);
            Assert.Equal(3.0, vec.Infos[i].Episode!.Value.Return);
        }
        vec.Step([0, 0, 0, 0]);
        Assert.All(vec.Rewards.ToArray(), r => Assert.Equal(0.0, r));
        Assert.All(vec.Infos.ToArray(), info => Assert.Null(info.Episode));
        Assert.Equal(0, vec.ElapsedSteps(2));
    }

    [Fact]
    public void SuttonBartoRewardsAndTerminalReturn()
    {
        using var vec = new CartPoleVectorEnv(4, AutoresetMode.SameStep, new CartPoleOptions { SuttonBartoReward = true });
        vec.Reset(seed: 1);
        vec.SetState(2, [2.399, 2.0, 0.0, 0.0]);
        vec.Step([0, 0, 1, 0]);
        Assert.Equal([0.0, 0.0, -1.0, 0.0], vec.Rewards.ToArray());
        Assert.True(vec.Terminated[2]);
        Assert.Equal(-1.0, vec.Infos[2].Episode!.Value.Return);
        Assert.True(vec.FinalObservations.Floats(0)[8] > 2.4f);
        Assert.InRange(vec.Observations.Floats(0)[8], -0.05f, 0.05f);
    }

    [Fact]
    public void RejectsBadCalls()
    {
        using var vec = new CartPoleVectorEnv(5, AutoresetMode.SameStep);
        Assert.Throws<InvalidOperationException>(() => vec.Step([0, 0, 0, 0, 0]));
        vec.Reset(seed: 0);
        var ex = Assert.Throws<InvalidActionException>(() => vec.Step([0, 1, 0, -1, 0]));
        Assert.Contains("env 3", ex.Message);
        Assert.Throws<ArgumentException>(() => vec.Step([0, 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => vec.ResetAt(5));
    }
}
