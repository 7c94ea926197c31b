using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using RLAgents.Environments;
using RLAgents.Environments.ClassicControl;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Benchmarks.Environments;

/// <summary>
/// With <c>RLAGENTS_BENCH_CLOCK=thread-cpu</c>, also runs a short in-process job timed by
/// <see cref="ThreadCpuClock"/>: figures per core on a busy shared machine.
/// </summary>
public class ThreadCpuConfig : ManualConfig
{
    public ThreadCpuConfig()
    {
        if (Environment.GetEnvironmentVariable("RLAGENTS_BENCH_CLOCK") == "thread-cpu")
            AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithClock(new ThreadCpuClock()).WithId("ShortRun-ThreadCpu"));
    }
}

/// <summary><see cref="ThreadCpuConfig"/> plus the env-steps/s column.</summary>
public sealed class EnvThroughputConfig : ThreadCpuConfig
{
    public EnvThroughputConfig() => AddColumn(new StepsPerSecondColumn());
}

/// <summary>
/// One CartPole-v1 through the public <see cref="IEnv.Step(int)"/> (interface call, as agents make it),
/// unwrapped and with the 500-step <see cref="TimeLimit"/>; actions pre-drawn, episodes reset when
/// they end. Gymnasium 1.4 on one core: ≈128,000 steps/s unwrapped, ≈118,000 through gym.make.
/// </summary>
[Config(typeof(EnvThroughputConfig))]
public class CartPoleScalarBenchmarks
{
    private const int Steps = 1 << 16;
    private int[] _actions = [];
    private IEnv _unwrapped = null!;
    private IEnv _timeLimited = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Rng(1UL);
        _actions = Enumerable.Range(0, Steps).Select(_ => rng.NextInt(2)).ToArray();
        _unwrapped = new CartPole();
        _unwrapped.Reset(seed: 0);
        _timeLimited = new TimeLimit(new CartPole(), CartPole.MaxEpisodeSteps);
        _timeLimited.Reset(seed: 0);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Steps)]
    public double Unwrapped() => Run(_unwrapped, _actions);

    [Benchmark(OperationsPerInvoke = Steps)]
    public double WithTimeLimit() => Run(_timeLimited, _actions);

    private static double Run(IEnv env, int[] actions)
    {
        double total = 0;
        foreach (int a in actions)
        {
            var r = env.Step(a);
            total += r.Reward;
            if (r.Terminated || r.Truncated) env.Reset();
        }
        return total;
    }
}

/// <summary>
/// The batched <see cref="CartPoleVectorEnv"/> (AVX2, float32 observations written, time limit and
/// SameStep autoreset built in) on one thread. Gymnasium's numpy CartPoleVectorEnv on one core:
/// ≈4.7 million env-steps/s at 256 envs, ≈25.6 million at 4,096.
/// </summary>
[Config(typeof(EnvThroughputConfig))]
public class CartPoleBatchedBenchmarks
{
    private const int Steps = 64;
    private int[][] _actions = [];
    private CartPoleVectorEnv _env = null!;

    [Params(256, 4096)]
    public int NumEnvs { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Rng(2UL);
        _actions = Enumerable.Range(0, Steps).Select(_ => Enumerable.Range(0, NumEnvs).Select(_ => rng.NextInt(2)).ToArray()).ToArray();
        _env = new CartPoleVectorEnv(NumEnvs, AutoresetMode.SameStep);
        _env.Reset(seed: 0);
    }

    [GlobalCleanup]
    public void Cleanup() => _env.Dispose();

    /// <summary>One operation = one batched step of all envs; the env-steps/s column multiplies by NumEnvs.</summary>
    [Benchmark(OperationsPerInvoke = Steps)]
    public float Step()
    {
        foreach (var a in _actions) _env.Step(a);
        return _env.Observations.Floats(0)[0];
    }
}
