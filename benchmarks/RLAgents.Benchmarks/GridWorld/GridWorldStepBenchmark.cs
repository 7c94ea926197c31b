using BenchmarkDotNet.Attributes;
using RLAgents.Benchmarks.Environments;
using RLAgents.Environments;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.GridWorld.Rendering;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Benchmarks.GridWorld;

/// <summary>
/// Single-core throughput of a BabyAI level under uniformly random actions, observation and resets
/// (level generation) included, and, separately, the cost of one reset. GoToLocal is one 8×8 room;
/// BossLevel a 3×3 maze of 22×22 cells with LevelGen's rejection sampling and instruction grammar.
/// Observations: the symbolic 7×7×3 view with direction and mission
/// (<c>symbolic</c>), plus the description text (<c>symbolic+description</c>); Minigrid's RGB
/// agent view 56×56×3 in place of the symbolic view (<c>rgb-agent</c>); the highlighted full
/// frame 64×64×3 (<c>rgb-full-highlighted</c>); the agent view turned grey, halved to 28×28 and
/// stacked 4 deep, a DQN-style input (<c>gray28-stack4</c>). Pixels are blitted from cached tiles.
/// Minigrid 3.1 runs the symbolic loop at about 8,000 steps/s on this kind of machine.
/// Run: dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- --filter '*GridWorldStep*'
/// (on a busy machine add RLAGENTS_BENCH_CLOCK=thread-cpu for per-core CPU-time figures).
/// </summary>
[Config(typeof(EnvThroughputConfig))]
[MemoryDiagnoser]
public class GridWorldStepBenchmark
{
    private const int Steps = 100_000;
    private const int Resets = 2_000;
    private IEnv _env = null!;
    private int[] _actions = null!;
    private long _seed;

    /// <summary>The level.</summary>
    [Params("BabyAI-GoToLocal-v0", "BabyAI-BossLevel-v0")]
    public string Level { get; set; } = "BabyAI-GoToLocal-v0";

    /// <summary>The observation produced.</summary>
    [Params("symbolic", "symbolic+description", "rgb-agent", "rgb-full-highlighted", "gray28-stack4")]
    public string Observation { get; set; } = "symbolic";

    [GlobalSetup]
    public void Setup()
    {
        IEnv env = BabyAILevels.Make(Level, new GridWorldOptions { IncludeDescription = Observation == "symbolic+description" });
        _env = Observation switch
        {
            "symbolic" or "symbolic+description" => env,
            "rgb-agent" => new GridWorldPixels(env, new PixelObservationOptions()),
            "rgb-full-highlighted" => new GridWorldPixels(env, new PixelObservationOptions { View = PixelView.FullHighlighted }),
            "gray28-stack4" => new FrameStackObservation(
                new ResizeObservation(new GrayscaleObservation(new GridWorldPixels(env, new PixelObservationOptions()), new GrayscaleOptions()),
                    new ResizeOptions { Height = 28, Width = 28 }),
                new FrameStackOptions { Frames = 4 }),
            _ => throw new ArgumentOutOfRangeException(nameof(Observation), Observation, "Unknown observation."),
        };
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
            checksum += r.Observation.Bytes(0)[100];
            if (r.Terminated || r.Truncated) _env.Reset(_seed++);
        }
        return checksum;
    }

    /// <summary>2,000 resets, each generating a new level; each reported time is per reset.</summary>
    [Benchmark(OperationsPerInvoke = Resets)]
    public int Reset()
    {
        int checksum = 0;
        for (int i = 0; i < Resets; i++) checksum += _env.Reset(_seed++).Observation.Bytes(0)[100];
        return checksum;
    }
}
