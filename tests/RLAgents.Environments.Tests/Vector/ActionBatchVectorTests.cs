using RLAgents.Environments.ClassicControl;
using RLAgents.Environments.Tests.Core;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Tests.Vector;

/// <summary>Every vector env kind carries actions of any space; autoreset semantics do not depend on the action kind.</summary>
public sealed class ActionBatchVectorTests
{
    private const int Limit = 4;

    private static IEnv LimitedPendulum() => new RecordEpisodeStatistics(new TimeLimit(new Pendulum(), Limit));

    private static IVectorEnv Create(string kind, int n, AutoresetMode mode) => kind switch
    {
        "sync" => new SyncVectorEnv(_ => LimitedPendulum(), n, mode),
        "threaded" => new ThreadedVectorEnv(_ => LimitedPendulum(), n, mode, workers: 2),
        _ => new ObservationHistoryVectorEnv(new SyncVectorEnv(_ => LimitedPendulum(), n, mode), new ObservationHistoryOptions { Steps = 2, Modalities = ["state"] }),
    };

    [Theory]
    [InlineData("sync", AutoresetMode.SameStep)]
    [InlineData("sync", AutoresetMode.NextStep)]
    [InlineData("threaded", AutoresetMode.SameStep)]
    [InlineData("threaded", AutoresetMode.NextStep)]
    [InlineData("history", AutoresetMode.SameStep)]
    public void BoxActionsStepEachEnvAsAStandaloneEnvWithTheSameActions(string kind, AutoresetMode mode)
    {
        const int n = 3;
        using var vec = Create(kind, n, mode);
        Assert.Same(Pendulum.Actions, vec.SingleActionSpace);
        var standalone = new IEnv[n];
        vec.Reset(seed: 11);
        for (int i = 0; i < n; i++)
        {
            standalone[i] = LimitedPendulum();
            standalone[i].Reset(unchecked((long)Rng.DeriveSeed(11UL, "env", i)));
        }
        var batch = new ActionBatch(vec.SingleActionSpace, n);
        var rng = new Rng(3UL);
        var resetNext = new bool[n];
        int size = vec.SingleObservationSpace[0].Size;
        for (int t = 0; t < 3 * Limit + 1; t++)
        {
            batch.Sample(rng);
            batch.Continuous[0] *= 2; // some out-of-bounds torques too
            vec.Step(batch);
            for (int i = 0; i < n; i++)
            {
                float[] expected;
                if (resetNext[i])
                {
                    expected = standalone[i].Reset().Observation.Floats(0).ToArray();
                    resetNext[i] = false;
                    Assert.Equal(0.0, vec.Rewards[i]);
                }
                else
                {
                    var r = standalone[i].Step(batch[i]);
                    Assert.Equal(r.Reward, vec.Rewards[i]);
                    Assert.Equal(r.Truncated, vec.Truncated[i]);
                    expected = r.Observation.Floats(0).ToArray();
                    if (r.Done && mode == AutoresetMode.SameStep)
                    {
                        Assert.Equal(expected, vec.FinalObservations.Floats(0).AsSpan(i * size, 3).ToArray());
                        expected = standalone[i].Reset().Observation.Floats(0).ToArray();
                    }
                    else if (r.Done) resetNext[i] = true;
                }
                Assert.Equal(expected, vec.Observations.Floats(0).AsSpan(i * size, 3).ToArray());
            }
        }
        foreach (var e in standalone) e.Dispose();
    }

    [Theory]
    [InlineData("sync")]
    [InlineData("threaded")]
    public void AnInvalidBoxActionIsRejectedNamingTheEnvBeforeAnyEnvSteps(string kind)
    {
        using var vec = Create(kind, 3, AutoresetMode.SameStep);
        vec.Reset(seed: 0);
        var before = vec.Observations.Floats(0).ToArray();
        var batch = new ActionBatch(vec.SingleActionSpace, 3);
        batch.Continuous[2] = float.NaN;
        var e = Assert.Throws<InvalidActionException>(() => vec.Step(batch));
        Assert.Contains("Pendulum-v1 (env 2)", e.Message);
        Assert.Equal(before, vec.Observations.Floats(0));

        var ints = Assert.Throws<ArgumentException>(() => vec.Step([0, 0, 0]));
        Assert.Contains(nameof(ActionBatch), ints.Message);
        Assert.Throws<ArgumentException>(() => vec.Step(new ActionBatch(vec.SingleActionSpace, 2)));
        Assert.Throws<ArgumentException>(() => vec.Step(new ActionBatch(new BoxSpace(-1f, 1f, [1]), 3)));
    }

    [Fact]
    public void DictAndMultiDiscreteActionsReachEachSubEnvInItsSlot()
    {
        var echoes = new EchoEnv[3];
        using var vec = new SyncVectorEnv(i => echoes[i] = new EchoEnv(EchoEnv.GearAndSteering), 3, AutoresetMode.SameStep);
        vec.Reset(seed: 0);
        var batch = new ActionBatch(vec.SingleActionSpace, 3);
        batch.Sample(new Rng(8UL));
        vec.Step(batch);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(batch[i].Discrete.ToArray(), echoes[i].Last.Discrete);
            Assert.Equal(batch[i].Continuous.ToArray(), echoes[i].Last.Continuous);
        }

        var multi = new EchoEnv[2];
        using var md = new ThreadedVectorEnv(i => multi[i] = new EchoEnv(new MultiDiscreteSpace(3, 5)), 2, AutoresetMode.NextStep, workers: 2);
        md.Reset(seed: 0);
        md.Step([2, 4, 0, 1]); // env-major [NumEnvs × K]
        Assert.Equal([2, 4], multi[0].Last.Discrete);
        Assert.Equal([0, 1], multi[1].Last.Discrete);
        var e = Assert.Throws<InvalidActionException>(() => md.Step([2, 5, 0, 1]));
        Assert.Contains("Echo-v0 (env 0)", e.Message);
    }

    [Fact]
    public void DiscreteVectorEnvsTakeAnActionBatchAsWellAsIntegers()
    {
        using var batched = new CartPoleVectorEnv(4, AutoresetMode.SameStep, exactTrigonometry: true);
        using var sync = new SyncVectorEnv(_ => new RecordEpisodeStatistics(new TimeLimit(new CartPole(), CartPole.MaxEpisodeSteps)), 4, AutoresetMode.SameStep);
        batched.Reset(seed: 5);
        sync.Reset(seed: 5);
        var batch = new ActionBatch(batched.SingleActionSpace, 4);
        var rng = new Rng(6UL);
        for (int t = 0; t < 30; t++)
        {
            batch.Sample(rng);
            batched.Step(batch);
            sync.Step(batch.Discrete);
            VectorAssert.SameStep(sync, batched, t);
        }
        Assert.Throws<ArgumentException>(() => batched.Step(new ActionBatch(new DiscreteSpace(3), 4)));
    }

    [Fact]
    public void RegistryFactoryVectorisesContinuousEnvironments()
    {
        var registry = EnvRegistry.CreateDefault();
        using var sync = VectorEnvs.Make(registry, "MountainCarContinuous-v0", 2, AutoresetMode.SameStep);
        using var threaded = VectorEnvs.Make(registry, "MountainCarContinuous-v0", 2, AutoresetMode.SameStep, VectorizationMode.Threaded);
        sync.Reset(seed: 1);
        threaded.Reset(seed: 1);
        var batch = new ActionBatch(sync.SingleActionSpace, 2);
        batch.Continuous.AsSpan().Fill(0.7f);
        sync.Step(batch);
        threaded.Step(batch);
        Assert.Equal(sync.Observations.Floats(0), threaded.Observations.Floats(0));
        Assert.Equal(-0.1 * 0.7f * 0.7f, sync.Rewards[0], 12);
    }
}
