using RLAgents.Environments.ClassicControl;
using RLAgents.Environments.Tests.ClassicControl;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Tests.Vector;

/// <summary>The batched MountainCar, MountainCarContinuous, Acrobot and Pendulum against their scalar envs and Gymnasium's fixtures.</summary>
public sealed class ClassicControlVectorEnvTests
{
    /// <summary>How a test builds, drives and inspects one family.</summary>
    public sealed record Family(string Id, string Fixture, Func<int, AutoresetMode, int, bool, BatchedVectorEnv> Create,
        Func<IEnv> Scalar, Action<BatchedVectorEnv, int, double[]> SetState, Func<BatchedVectorEnv, int, double[]> GetState, Func<Rng, double[]> RandomState)
    {
        public override string ToString() => Id;
    }

    private static readonly Dictionary<string, Family> Families = new[]
    {
        new Family("MountainCar-v0", "mountaincar_v0_fixture.jsonl",
            (n, mode, limit, exact) => new MountainCarVectorEnv(n, mode, maxEpisodeSteps: limit, exactTrigonometry: exact),
            () => new MountainCar(), (v, i, s) => ((MountainCarVectorEnv)v).SetState(i, s[0], s[1]), CarState,
            rng => [rng.Uniform(-1.2, 0.6), rng.Uniform(-0.07, 0.07)]),
        new Family("MountainCarContinuous-v0", "mountaincarcontinuous_v0_fixture.jsonl",
            (n, mode, limit, exact) => new MountainCarVectorEnv(n, mode, continuous: true, maxEpisodeSteps: limit, exactTrigonometry: exact),
            () => new MountainCarContinuous(), (v, i, s) => ((MountainCarVectorEnv)v).SetState(i, s[0], s[1]), CarState,
            rng => [rng.Uniform(-1.2, 0.6), rng.Uniform(-0.07, 0.07)]),
        new Family("Acrobot-v1", "acrobot_v1_fixture.jsonl",
            (n, mode, limit, exact) => new AcrobotVectorEnv(n, mode, maxEpisodeSteps: limit, exactTrigonometry: exact),
            () => new Acrobot(), (v, i, s) => ((AcrobotVectorEnv)v).SetState(i, s), (v, i) => ((AcrobotVectorEnv)v).GetState(i),
            rng => [rng.Uniform(-Math.PI, Math.PI), rng.Uniform(-Math.PI, Math.PI), rng.Uniform(-12, 12), rng.Uniform(-28, 28)]),
        new Family("Pendulum-v1", "pendulum_v1_fixture.jsonl",
            (n, mode, limit, exact) => new PendulumVectorEnv(n, mode, maxEpisodeSteps: limit, exactTrigonometry: exact),
            () => new Pendulum(), (v, i, s) => ((PendulumVectorEnv)v).SetState(i, s[0], s[1]),
            (v, i) => ((PendulumVectorEnv)v).GetState(i) is var (t, td) ? [t, td] : [],
            rng => [rng.Uniform(-20, 20), rng.Uniform(-8, 8)]),
    }.ToDictionary(f => f.Id);

    private static double[] CarState(BatchedVectorEnv v, int i) => ((MountainCarVectorEnv)v).GetState(i) is var (p, vel) ? [p, vel] : [];

    public static TheoryData<string> Ids() => new(Families.Keys);

    public static TheoryData<string, AutoresetMode> IdsAndModes()
    {
        var data = new TheoryData<string, AutoresetMode>();
        foreach (string id in Families.Keys)
            foreach (var mode in Enum.GetValues<AutoresetMode>()) data.Add(id, mode);
        return data;
    }

    /// <summary>Random actions; Box elements drawn from twice the bounds so that clipping is exercised.</summary>
    private static void Draw(ActionBatch batch, Rng rng)
    {
        batch.Sample(rng);
        for (int k = 0; k < batch.Continuous.Length; k++) batch.Continuous[k] *= 2;
    }

    [Theory]
    [MemberData(nameof(IdsAndModes))]
    public void ExactBatchedEqualsASyncVectorOfTheRegistrysEnvs(string id, AutoresetMode mode)
    {
        var family = Families[id];
        const int n = 9, limit = 25;
        using var batched = family.Create(n, mode, limit, true);
        using var sync = new SyncVectorEnv(_ => EnvRegistry.CreateDefault().Make(id, maxEpisodeSteps: limit), n, mode);
        Assert.Same(sync.SingleActionSpace, batched.SingleActionSpace);
        batched.Reset(seed: 2024);
        sync.Reset(seed: 2024);
        VectorAssert.SameStep(sync, batched, -1);
        var batch = new ActionBatch(batched.SingleActionSpace, n);
        var rng = new Rng(5UL);
        int ended = 0;
        for (int t = 0; t < 120; t++)
        {
            Draw(batch, rng);
            batched.Step(batch);
            sync.Step(batch);
            VectorAssert.SameStep(sync, batched, t);
            for (int i = 0; i < n; i++)
            {
                if (!(sync.Terminated[i] || sync.Truncated[i])) continue;
                ended++;
                if (mode != AutoresetMode.Disabled) continue;
                batched.ResetAt(i);
                sync.ResetAt(i);
                VectorAssert.SameStep(sync, batched, t);
            }
        }
        Assert.True(ended >= n * 4, "the run should cover several episodes per env");
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void ExactModeReplaysTheGymnasiumFixtureInParallel(string id)
    {
        var family = Families[id];
        var episodes = ControlEpisode.Load(family.Fixture);
        int steps = episodes.Min(e => e.Steps.Length);
        using var vec = family.Create(episodes.Count, AutoresetMode.Disabled, 1000, true);
        vec.Reset(seed: 0);
        for (int i = 0; i < episodes.Count; i++) family.SetState(vec, i, episodes[i].ResetState);
        var batch = new ActionBatch(vec.SingleActionSpace, episodes.Count);
        int size = vec.SingleObservationSpace[0].Size;
        for (int t = 0; t < steps; t++)
        {
            for (int i = 0; i < episodes.Count; i++)
            {
                var s = episodes[i].Steps[t];
                batch.Set(i, s.Continuous.Length > 0 ? new EnvAction(default, s.Continuous) : new EnvAction([s.Discrete], default));
            }
            vec.Step(batch);
            for (int i = 0; i < episodes.Count; i++)
            {
                var expected = episodes[i].Steps[t];
                ExactAssert.Floats(expected.Obs, vec.Observations.Floats(0).AsSpan(i * size, size), $"{episodes[i]} step {t}");
                Assert.Equal(expected.Reward, vec.Rewards[i]);
                Assert.Equal(expected.Terminated, vec.Terminated[i]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void OneSimdStepMatchesTheScalarStepFromTheSameStatesToFloat32Precision(string id)
    {
        var family = Families[id];
        const int n = 4099; // not a multiple of 4: the vector body and the scalar tail
        var rng = new Rng(17UL);
        var states = Enumerable.Range(0, n).Select(_ => family.RandomState(rng)).ToArray();
        using var vec = family.Create(n, AutoresetMode.Disabled, 1000, false);
        vec.Reset(seed: 0);
        for (int i = 0; i < n; i++) family.SetState(vec, i, states[i]);
        var batch = new ActionBatch(vec.SingleActionSpace, n);
        Draw(batch, rng);
        vec.Step(batch);

        using var scalar = family.Scalar();
        scalar.Reset(seed: 0);
        int size = vec.SingleObservationSpace[0].Size, terminations = 0, inexact = 0;
        for (int i = 0; i < n; i++)
        {
            if (!((EnvBase)scalar).InEpisode) scalar.Reset();
            SetScalarState(scalar, states[i]);
            var r = scalar.Step(batch[i]);
            var expected = r.Observation.Floats(0);
            var actual = vec.Observations.Floats(0).AsSpan(i * size, size);
            for (int k = 0; k < size; k++)
                Assert.True(Math.Abs(BitConverter.SingleToInt32Bits(expected[k]) - BitConverter.SingleToInt32Bits(actual[k])) <= 1 || Math.Abs(expected[k] - actual[k]) < 1e-6f,
                    $"env {i} obs[{k}]: {expected[k]:R} vs {actual[k]:R}");
            Assert.Equal(r.Terminated, vec.Terminated[i]);
            Assert.Equal(r.Reward, vec.Rewards[i], 1e-9 * (1 + Math.Abs(r.Reward)));
            double[] scalarState = ScalarState(scalar), batchedState = family.GetState(vec, i);
            for (int k = 0; k < scalarState.Length; k++) Assert.Equal(scalarState[k], batchedState[k], 1e-12 * (1 + Math.Abs(scalarState[k])));
            if (!scalarState.SequenceEqual(batchedState) || r.Reward != vec.Rewards[i]) inexact++;
            terminations += r.Terminated ? 1 : 0;
        }
        if (id != "Pendulum-v1") Assert.True(terminations > 0, "some random states should end the episode");
        // Where 256-bit vectors run in hardware the vector path (its own cos/sin) really ran; MountainCarContinuous
        // rounds its state to float32 every step, which hides those last bits.
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated && id != "MountainCarContinuous-v0") Assert.True(inexact > 0, "the SIMD path should differ from libm in a few last bits");
    }

    private static double[] ScalarState(IEnv env) => env switch
    {
        MountainCar e => e.State,
        MountainCarContinuous e => e.State,
        Acrobot e => e.State,
        Pendulum e => e.State,
        _ => throw new ArgumentException(env.Id.ToString()),
    };

    private static void SetScalarState(IEnv env, double[] state)
    {
        switch (env)
        {
            case MountainCar e: e.SetState(state); break;
            case MountainCarContinuous e: e.SetState(state); break;
            case Acrobot e: e.SetState(state); break;
            case Pendulum e: e.SetState(state); break;
        }
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void SimdBatchedStartsLikeSyncAndRepeatsWithTheSeed(string id)
    {
        var family = Families[id];
        const int n = 13;
        using var a = VectorEnvs.Make(EnvRegistry.CreateDefault(), id, n, AutoresetMode.SameStep, VectorizationMode.Batched);
        using var b = family.Create(n, AutoresetMode.SameStep, EnvRegistry.CreateDefault().Get(id).MaxEpisodeSteps!.Value, false);
        using var sync = VectorEnvs.Make(EnvRegistry.CreateDefault(), id, n, AutoresetMode.SameStep);
        Assert.IsAssignableFrom<BatchedVectorEnv>(a);
        a.Reset(seed: 11);
        b.Reset(seed: 11);
        sync.Reset(seed: 11);
        Assert.Equal(sync.Observations.Floats(0), a.Observations.Floats(0));
        var batch = new ActionBatch(a.SingleActionSpace, n);
        var rng = new Rng(12UL);
        for (int t = 0; t < 300; t++)
        {
            Draw(batch, rng);
            a.Step(batch);
            b.Step(batch);
            VectorAssert.SameStep(a, b, t);
        }
        Assert.Throws<ArgumentException>(() => VectorEnvs.Make(EnvRegistry.CreateDefault(), id, 2, AutoresetMode.SameStep, VectorizationMode.Batched, options: new CartPoleOptions()));
    }

    [Fact]
    public void BatchedContinuousEnvsRejectInvalidActionsBeforeStepping()
    {
        using var vec = new PendulumVectorEnv(5, AutoresetMode.SameStep);
        vec.Reset(seed: 0);
        var before = vec.Observations.Floats(0).ToArray();
        var batch = new ActionBatch(vec.SingleActionSpace, 5);
        batch.Continuous[3] = float.PositiveInfinity;
        var e = Assert.Throws<InvalidActionException>(() => vec.Step(batch));
        Assert.Contains("Pendulum-v1 (env 3)", e.Message);
        Assert.Equal(before, vec.Observations.Floats(0));
        Assert.Contains(nameof(ActionBatch), Assert.Throws<ArgumentException>(() => vec.Step([0, 0, 0, 0, 0])).Message);
        using var car = new MountainCarVectorEnv(3, AutoresetMode.SameStep);
        car.Reset(seed: 0);
        Assert.Contains("MountainCar-v0 (env 1)", Assert.Throws<InvalidActionException>(() => car.Step([0, 3, 1])).Message);
    }

    [Fact]
    public void PendulumTruncatesAtTheLimitWithTheEpisodeReturn()
    {
        using var vec = new PendulumVectorEnv(4, AutoresetMode.NextStep, maxEpisodeSteps: 3, exactTrigonometry: true);
        using var scalar = new RecordEpisodeStatistics(new TimeLimit(new Pendulum(), 3));
        vec.Reset(seed: 1);
        scalar.Reset(unchecked((long)Rng.DeriveSeed(1UL, "env", 2)));
        var batch = new ActionBatch(vec.SingleActionSpace, 4);
        StepResult last = default;
        for (int t = 0; t < 3; t++)
        {
            batch.Continuous.AsSpan().Fill(0.5f * t);
            vec.Step(batch);
            last = scalar.Step([0.5f * t]);
        }
        Assert.True(vec.Truncated[2] && last.Truncated);
        Assert.Equal(last.Info.Episode!.Value.Return, vec.Infos[2].Episode!.Value.Return);
        Assert.Equal(3, vec.Infos[2].Episode!.Value.Length);
        vec.Step(batch);
        Assert.Equal(0.0, vec.Rewards[2]);
        Assert.Equal(0, vec.ElapsedSteps(2));
    }
}
