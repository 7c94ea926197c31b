using RLAgents.Environments.ClassicControl;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Tests.Vector;

public sealed class SyncVectorEnvTests
{
    private const int Limit = 5;

    internal static IEnv LimitedCartPole() => new RecordEpisodeStatistics(new TimeLimit(new CartPole(), Limit));

    internal static IVectorEnv Create(bool threaded, int n, AutoresetMode mode) => threaded
        ? new ThreadedVectorEnv(_ => LimitedCartPole(), n, mode, workers: 2)
        : new SyncVectorEnv(_ => LimitedCartPole(), n, mode);

    /// <summary>A standalone env seeded as vector env i would be.</summary>
    private static IEnv Standalone(long seed, int i, out ResetResult first)
    {
        var env = LimitedCartPole();
        first = env.Reset(unchecked((long)Rng.DeriveSeed((ulong)seed, "env", i)));
        return env;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reset_seeds_env_i_with_the_derived_seed(bool threaded)
    {
        using var vec = Create(threaded, 3, AutoresetMode.SameStep);
        vec.Reset(seed: 42);
        for (int i = 0; i < 3; i++)
        {
            using var env = Standalone(42, i, out var first);
            Assert.Equal(first.Observation.Floats(0).ToArray(), vec.Observations.Floats(0).AsSpan(i * 4, 4).ToArray());
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Same_step_autoreset_returns_final_and_next_first_observation(bool threaded)
    {
        using var vec = Create(threaded, 2, AutoresetMode.SameStep);
        using var reference = Standalone(7, 1, out _);
        vec.Reset(seed: 7);
        StepResult last = default;
        for (int t = 0; t < Limit; t++)
        {
            vec.Step([0, 1]);
            last = reference.Step(1);
        }
        Assert.True(vec.Truncated[1] && last.Truncated);
        Assert.Equal(last.Observation.Floats(0).ToArray(), vec.FinalObservations.Floats(0).AsSpan(4, 4).ToArray());
        Assert.Equal(1.0, vec.Rewards[1]);
        Assert.Equal(Limit, vec.Infos[1].Episode!.Value.Length);
        Assert.Equal(Limit, vec.Infos[1].Episode!.Value.Return);
        var next = reference.Reset();
        Assert.Equal(next.Observation.Floats(0).ToArray(), vec.Observations.Floats(0).AsSpan(4, 4).ToArray());

        vec.Step([0, 1]);
        Assert.False(vec.Truncated[1]);
        Assert.Null(vec.Infos[1].Episode);
        Assert.Equal(reference.Step(1).Observation.Floats(0).ToArray(), vec.Observations.Floats(0).AsSpan(4, 4).ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Next_step_autoreset_ignores_the_action_and_reports_zero_reward(bool threaded)
    {
        using var a = Create(threaded, 2, AutoresetMode.NextStep);
        using var b = Create(threaded, 2, AutoresetMode.NextStep);
        using var reference = Standalone(3, 0, out _);
        a.Reset(seed: 3);
        b.Reset(seed: 3);
        StepResult last = default;
        for (int t = 0; t < Limit; t++)
        {
            a.Step([1, 0]);
            b.Step([1, 0]);
            last = reference.Step(1);
        }
        Assert.True(a.Truncated[0]);
        Assert.Equal(last.Observation.Floats(0).ToArray(), a.Observations.Floats(0).AsSpan(0, 4).ToArray());
        Assert.NotNull(a.Infos[0].Episode);

        a.Step([0, 0]);
        b.Step([1, 0]); // a different action for env 0 must not matter
        Assert.Equal(a.Observations.Floats(0), b.Observations.Floats(0));
        Assert.Equal(0.0, a.Rewards[0]);
        Assert.False(a.Terminated[0] || a.Truncated[0]);
        Assert.Null(a.Infos[0].Episode);
        Assert.Equal(reference.Reset().Observation.Floats(0).ToArray(), a.Observations.Floats(0).AsSpan(0, 4).ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Disabled_autoreset_requires_reset_at(bool threaded)
    {
        using var vec = Create(threaded, 2, AutoresetMode.Disabled);
        vec.Reset(seed: 1);
        for (int t = 0; t < Limit; t++) vec.Step([0, 1]);
        Assert.True(vec.Truncated[0] && vec.Truncated[1]);
        var ex = Assert.Throws<InvalidOperationException>(() => vec.Step([0, 1]));
        Assert.Contains("ResetAt(0)", ex.Message);
        vec.ResetAt(0, seed: 5);
        Assert.Throws<InvalidOperationException>(() => vec.Step([0, 1]));
        vec.ResetAt(1);
        vec.Step([0, 1]);
        Assert.False(vec.Truncated[0]);
        using var env = LimitedCartPole();
        env.Reset(5);
        Assert.Equal(env.Step(0).Observation.Floats(0).ToArray(), vec.Observations.Floats(0).AsSpan(0, 4).ToArray());
    }

    [Theory]
    [InlineData(AutoresetMode.SameStep)]
    [InlineData(AutoresetMode.NextStep)]
    [InlineData(AutoresetMode.Disabled)]
    public void Threaded_equals_sync_for_the_same_seed(AutoresetMode mode)
    {
        const int n = 7;
        using var sync = new SyncVectorEnv(_ => new RecordEpisodeStatistics(new TimeLimit(new CartPole(), 30)), n, mode);
        using var threaded = new ThreadedVectorEnv(_ => new RecordEpisodeStatistics(new TimeLimit(new CartPole(), 30)), n, mode, workers: 3);
        Assert.Equal(3, threaded.Workers);
        sync.Reset(seed: 99);
        threaded.Reset(seed: 99);
        var actions = VectorAssert.Actions(150, n, 2, 1);
        int episodes = 0;
        for (int t = 0; t < actions.Length; t++)
        {
            sync.Step(actions[t]);
            threaded.Step(actions[t]);
            VectorAssert.SameStep(sync, threaded, t);
            for (int i = 0; i < n; i++)
            {
                if (!(sync.Terminated[i] || sync.Truncated[i])) continue;
                episodes++;
                if (mode == AutoresetMode.Disabled)
                {
                    sync.ResetAt(i);
                    threaded.ResetAt(i);
                }
            }
        }
        Assert.True(episodes > n, "the run should cover several episodes per env");
    }

    [Fact]
    public void Invalid_actions_and_wrong_counts_are_rejected_before_any_env_steps()
    {
        using var vec = Create(false, 2, AutoresetMode.SameStep);
        Assert.Throws<InvalidOperationException>(() => vec.Step([0, 0]));
        vec.Reset(seed: 0);
        var before = vec.Observations.Floats(0).ToArray();
        var ex = Assert.Throws<InvalidActionException>(() => vec.Step([0, 3]));
        Assert.Contains("env 1", ex.Message);
        Assert.Equal(before, vec.Observations.Floats(0));
        Assert.Throws<ArgumentException>(() => vec.Step([0]));
    }

    [Fact]
    public void Mismatched_envs_are_rejected()
    {
        var registry = EnvRegistry.CreateDefault();
        var corridor = registry.Make(Registry.EnvRegistryTests.CorridorSpec);
        var ex = Assert.Throws<ArgumentException>(() => new SyncVectorEnv([new CartPole(), corridor], AutoresetMode.SameStep));
        Assert.Contains("Environment 1", ex.Message);
    }

    [Fact]
    public void Threaded_worker_count_is_clamped_to_the_envs_and_validated()
    {
        using (var vec = new ThreadedVectorEnv(_ => new CartPole(), 2, AutoresetMode.SameStep, workers: 8))
            Assert.Equal(2, vec.Workers);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ThreadedVectorEnv(_ => new CartPole(), 2, AutoresetMode.SameStep, workers: 0));
        var disposed = new ThreadedVectorEnv(_ => new CartPole(), 3, AutoresetMode.SameStep, workers: 3);
        disposed.Reset(seed: 0);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => disposed.Step([0, 0, 0]));
    }

    [Fact]
    public void Threaded_rethrows_an_env_exception_on_the_caller()
    {
        using var vec = new ThreadedVectorEnv(i => new FailingEnv(failAtStep: i == 3 ? 2 : int.MaxValue), 4, AutoresetMode.SameStep, workers: 2);
        vec.Reset(seed: 0);
        vec.Step([0, 0, 0, 0]);
        // The env's exception becomes one line naming the env and the slot; the original is its inner exception.
        var ex = Assert.Throws<EnvFaultException>(() => vec.Step([0, 0, 0, 0]));
        Assert.Equal(3, ex.Slot);
        Assert.StartsWith("Failing-v0 (env 3): Step threw InvalidDataException: ", ex.Message);
        Assert.Contains("step 2", Assert.IsType<InvalidDataException>(ex.InnerException).Message);
    }

    [Fact]
    public void Registry_factory_builds_each_vectorization()
    {
        var registry = EnvRegistry.CreateDefault();
        using var sync = VectorEnvs.Make(registry, "CartPole-v1", 3, AutoresetMode.SameStep);
        using var threaded = VectorEnvs.Make(registry, "CartPole-v1", 3, AutoresetMode.SameStep, VectorizationMode.Threaded);
        using var batched = VectorEnvs.Make(registry, "CartPole-v1", 3, AutoresetMode.SameStep, VectorizationMode.Batched);
        Assert.IsType<SyncVectorEnv>(sync);
        Assert.IsType<ThreadedVectorEnv>(threaded);
        Assert.IsType<CartPoleVectorEnv>(batched);
        foreach (var v in new[] { sync, threaded, batched }) v.Reset(seed: 8);
        Assert.Equal(sync.Observations.Floats(0), batched.Observations.Floats(0));
        Assert.Equal(sync.Observations.Floats(0), threaded.Observations.Floats(0));
        Assert.Throws<ArgumentException>(() => VectorEnvs.Make(registry, Registry.EnvRegistryTests.CorridorSpec, 2, AutoresetMode.SameStep, VectorizationMode.Batched));
    }
}

/// <summary>A one-float env that throws on a chosen step, for error propagation tests.</summary>
internal sealed class FailingEnv(int failAtStep) : Env
{
    private static readonly ObservationSpace Space = ObservationSpace.Single("state", new BoxSpace(0f, 1f, [1]));
    private readonly Observation _obs = new(Space);
    private int _t;

    public override EnvId Id => new("Failing", 0);
    public override ObservationSpace ObservationSpace => Space;
    public override DiscreteSpace ActionSpace { get; } = new(2);

    protected override ResetResult ResetCore()
    {
        _t = 0;
        return new ResetResult(_obs, default);
    }

    protected override StepResult StepCore(int action)
    {
        if (++_t == failAtStep) throw new InvalidDataException($"failing at step {_t}");
        return new StepResult(_obs, 0, false, false, default);
    }
}
