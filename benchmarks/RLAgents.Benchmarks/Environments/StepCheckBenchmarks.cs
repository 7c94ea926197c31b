using BenchmarkDotNet.Attributes;
using RLAgents.Environments;
using RLAgents.Environments.Checking;
using RLAgents.Environments.Vector;

namespace RLAgents.Benchmarks.Environments;

/// <summary>
/// What <c>training.checkEnvSteps</c> costs: a vector step of the training envs alone, and with the
/// <see cref="StepChecker"/> the runner calls after it (every reward finite, every observation and
/// final observation inside its space). CartPole-v1 (4 float32 values, sync as the PPO config steps
/// it) is the worst case relative to the step; BabyAI (a 7×7×3 uint8 image, a direction and a
/// mission text) is a typical multimodal one.
/// <code>
/// dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- --filter '*StepCheckBenchmarks*'
/// </code>
/// </summary>
[Config(typeof(EnvThroughputConfig))]
public class StepCheckBenchmarks
{
    private const int Steps = 256;
    private IVectorEnv _env = null!;
    private StepChecker _checker = null!;
    private int[][] _actions = [];

    [Params("CartPole-v1", "BabyAI-GoToLocal-v0")]
    public string Env { get; set; } = "";

    [Params(8)]
    public int NumEnvs { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _env = VectorEnvs.Make(EnvRegistry.CreateDefault(), Env, NumEnvs, AutoresetMode.SameStep);
        _env.Reset(seed: 0);
        _checker = new StepChecker(_env);
        var rng = new Rng(3UL);
        int n = ((DiscreteSpace)_env.SingleActionSpace).N;
        _actions = Enumerable.Range(0, Steps).Select(_ => Enumerable.Range(0, NumEnvs).Select(_ => rng.NextInt(n)).ToArray()).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => _env.Dispose();

    /// <summary>One operation = one vector step of all envs.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Steps)]
    public double Unchecked()
    {
        double total = 0;
        foreach (var a in _actions)
        {
            _env.Step(a);
            total += _env.Rewards[0];
        }
        return total;
    }

    /// <summary>The same steps, each checked as training checks it.</summary>
    [Benchmark(OperationsPerInvoke = Steps)]
    public double Checked()
    {
        double total = 0;
        foreach (var a in _actions)
        {
            _env.Step(a);
            _checker.CheckStep(_env);
            total += _env.Rewards[0];
        }
        return total;
    }
}
