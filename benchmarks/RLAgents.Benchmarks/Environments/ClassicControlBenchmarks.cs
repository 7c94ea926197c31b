using BenchmarkDotNet.Attributes;
using RLAgents.Environments;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Benchmarks.Environments;

/// <summary>
/// One env of each of MountainCar-v0, MountainCarContinuous-v0, Acrobot-v1 and Pendulum-v1 through
/// the public <see cref="IEnv"/> step (an interface call, as agents make it) with the registry's
/// time limit, the form <c>gym.make</c> gives in Gymnasium; actions pre-drawn (Box actions from
/// twice the bounds, so clipping runs), episodes reset when they end.
/// </summary>
[Config(typeof(EnvThroughputConfig))]
public class ClassicControlScalarBenchmarks
{
    private const int Steps = 1 << 16;
    private int[] _discrete = [];
    private float[] _continuous = [];
    private int _kd, _kc;
    private IEnv _env = null!;

    [Params("MountainCar-v0", "MountainCarContinuous-v0", "Acrobot-v1", "Pendulum-v1")]
    public string Id { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var registration = EnvRegistry.CreateDefault().Get(Id);
        _env = new TimeLimit(registration.CreateUnwrapped(), registration.MaxEpisodeSteps!.Value);
        var actions = new ActionBatch(_env.ActionSpace, Steps);
        actions.Sample(new Rng(1UL));
        for (int k = 0; k < actions.Continuous.Length; k++) actions.Continuous[k] *= 2;
        (_discrete, _continuous) = (actions.Discrete, actions.Continuous);
        (_kd, _kc) = (actions.Layout.DiscreteCount, actions.Layout.ContinuousCount);
        _env.Reset(seed: 0);
    }

    [GlobalCleanup]
    public void Cleanup() => _env.Dispose();

    [Benchmark(OperationsPerInvoke = Steps)]
    public double Step()
    {
        double total = 0;
        var env = _env;
        for (int t = 0; t < Steps; t++)
        {
            var r = _kc == 0 ? env.Step(_discrete[t]) : env.Step(new EnvAction(_discrete.AsSpan(t * _kd, _kd), _continuous.AsSpan(t * _kc, _kc)));
            total += r.Reward;
            if (r.Terminated || r.Truncated) env.Reset();
        }
        return total;
    }
}

/// <summary>
/// The batched (SIMD) MountainCar, MountainCarContinuous, Acrobot and Pendulum vector envs on one
/// thread: float32 observations written, time limit and SameStep autoreset included. One operation
/// is one step of all NumEnvs envs; the env-steps/s column multiplies by NumEnvs.
/// </summary>
[Config(typeof(EnvThroughputConfig))]
public class ClassicControlBatchedBenchmarks
{
    private const int Steps = 64;
    private ActionBatch[] _actions = [];
    private IVectorEnv _env = null!;

    [Params("MountainCar-v0", "MountainCarContinuous-v0", "Acrobot-v1", "Pendulum-v1")]
    public string Id { get; set; } = "";

    [Params(256, 4096)]
    public int NumEnvs { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _env = VectorEnvs.Make(EnvRegistry.CreateDefault(), Id, NumEnvs, AutoresetMode.SameStep, VectorizationMode.Batched);
        var rng = new Rng(2UL);
        _actions = Enumerable.Range(0, Steps).Select(_ =>
        {
            var batch = new ActionBatch(_env.SingleActionSpace, NumEnvs);
            batch.Sample(rng);
            return batch;
        }).ToArray();
        _env.Reset(seed: 0);
    }

    [GlobalCleanup]
    public void Cleanup() => _env.Dispose();

    [Benchmark(OperationsPerInvoke = Steps)]
    public float Step()
    {
        foreach (var a in _actions) _env.Step(a);
        return _env.Observations.Floats(0)[0];
    }
}
