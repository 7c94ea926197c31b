using BenchmarkDotNet.Attributes;
using RLAgents.Environments;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;

namespace RLAgents.Benchmarks.GridWorld;

/// <summary>
/// Single-core throughput of a BabyAI level under uniformly random actions, observation included
/// (7×7×3 view, direction, mission; plus the description when on), resets (level generation)
/// included; and, separately, the cost of one reset. GoToLocal is one 8×8 room; BossLevel a 3×3
/// maze of 22×22 cells with LevelGen's rejection sampling and instruction grammar. Minigrid 3.1
/// runs GoToLocal's random-action loop at about 8,000 steps/s on this kind of machine.
/// Run: dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- --filter '*GridWorldStep*'
/// </summary>
[MemoryDiagnoser]
public class GridWorldStepBenchmark
{
    private const int Steps = 100_000;
    private const int Resets = 2_000;
    private GridWorldEnv _env = null!;
    private int[] _actions = null!;
    private long _seed;

    /// <summary>The level.</summary>
    [Params("BabyAI-GoToLocal-v0", "BabyAI-BossLevel-v0")]
    public string Level { get; set; } = "";

    /// <summary>Whether the description text modality is produced.</summary>
    [Params(false, true)]
    public bool Description { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _env = BabyAILevels.Make(Level, new GridWorldOptions { IncludeDescription = Description });
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

    /// <summary>2,000 resets, each generating a new level; each reported time is per reset.</summary>
    [Benchmark(OperationsPerInvoke = Resets)]
    public int Reset()
    {
        int checksum = 0;
        for (int i = 0; i < Resets; i++) checksum += _env.Reset(_seed++).Observation.Bytes(0)[3 * 45];
        return checksum;
    }
}
