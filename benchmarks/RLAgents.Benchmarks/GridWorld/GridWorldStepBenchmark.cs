using BenchmarkDotNet.Attributes;
using RLAgents.Environments;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;

namespace RLAgents.Benchmarks.GridWorld;

/// <summary>
/// Single-core throughput of BabyAI-GoToLocal-v0 under uniformly random actions, observation
/// included (7×7×3 view, direction, mission; plus the description when on), resets included.
/// Minigrid 3.1 runs the same loop at about 8,000 steps/s on this kind of machine.
/// Run: dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- --filter '*GridWorldStep*'
/// </summary>
[MemoryDiagnoser]
public class GridWorldStepBenchmark
{
    private const int Steps = 100_000;
    private GridWorldEnv _env = null!;
    private int[] _actions = null!;
    private long _seed;

    /// <summary>Whether the description text modality is produced.</summary>
    [Params(false, true)]
    public bool Description { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _env = BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { IncludeDescription = Description });
        var rng = new Rng(7UL);
        _actions = new int[Steps];
        for (int i = 0; i < Steps; i++) _actions[i] = rng.NextInt(GridConstants.ActionCount);
        _env.Reset(_seed++);
    }

    [GlobalCleanup]
    public void Cleanup() => _env.Dispose();

    /// <summary>100,000 random steps; each reported time is per step.</summary>
    [Benchmark(OperationsPerInvoke = Steps)]
    public int RandomSteps()
    {
        int checksum = 0;
        for (int i = 0; i < Steps; i++)
        {
            var r = _env.Step(_actions[i]);
            checksum += r.Observation.Bytes(0)[3 * 45];
            if (r.Terminated || r.Truncated) _env.Reset(_seed++);
        }
        return checksum;
    }
}
