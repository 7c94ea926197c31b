using BenchmarkDotNet.Attributes;
using RLAgents.Environments;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.Vector;

namespace RLAgents.Benchmarks.GridWorld;

/// <summary>
/// BabyAI-GoToLocal-v0 in a threaded vector env (64 envs, same-step autoreset, random actions),
/// description off: env-steps per second with 1 and 2 worker threads, to show scaling with cores.
/// Run: dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- --filter '*GridWorldVector*'
/// </summary>
public class GridWorldVectorBenchmark
{
    private const int NumEnvs = 64;
    private const int Steps = 1_000;
    private ThreadedVectorEnv _vec = null!;
    private int[][] _actions = null!;

    /// <summary>Worker threads stepping the sub-environments.</summary>
    [Params(1, 2)]
    public int Workers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _vec = new ThreadedVectorEnv(_ => BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { IncludeDescription = false }),
            NumEnvs, AutoresetMode.SameStep, Workers);
        _vec.Reset(1);
        var rng = new Rng(3UL);
        _actions = new int[Steps][];
        for (int t = 0; t < Steps; t++)
        {
            _actions[t] = new int[NumEnvs];
            for (int i = 0; i < NumEnvs; i++) _actions[t][i] = rng.NextInt(GridConstants.ActionCount);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _vec.Dispose();

    /// <summary>1,000 vector steps of 64 envs; each reported time is per env-step.</summary>
    [Benchmark(OperationsPerInvoke = Steps * NumEnvs)]
    public double VectorSteps()
    {
        double sum = 0;
        for (int t = 0; t < Steps; t++)
        {
            _vec.Step(_actions[t]);
            sum += _vec.Rewards[0];
        }
        return sum;
    }
}
