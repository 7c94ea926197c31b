using System.Diagnostics;
using System.Globalization;
using RLAgents.Environments;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;

namespace RLAgents.Benchmarks.GridWorld;

/// <summary>
/// Random-action throughput of BabyAI levels (description off, resets included) and the cost of a
/// reset, the levels interleaved and the best of several rounds kept, so that load from other
/// processes on a shared machine mostly cancels out (BenchmarkDotNet's GridWorldStep suite measures
/// the same loop without that protection).
/// Run: dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- gridworld-throughput [rounds] [level ...]
/// (default 8 rounds of 1,000,000 steps and 2,000 resets on GoToLocal and BossLevel).
/// </summary>
public static class ThroughputBenchCommand
{
    /// <summary>Runs the measurement and prints one row per level.</summary>
    public static void Run(string[] args)
    {
        int rounds = args.Length > 0 && int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out int r) ? r : 8;
        var ids = args.Skip(args.Length > 0 && int.TryParse(args[0], out _) ? 1 : 0).ToList();
        if (ids.Count == 0) ids = ["BabyAI-GoToLocal-v0", "BabyAI-BossLevel-v0"];
        const int Steps = 1_000_000, Resets = 2_000;
        var envs = ids.Select(id => BabyAILevels.Make(id, new GridWorldOptions { IncludeDescription = false })).ToList();
        var actions = new int[Steps];
        var rng = new Rng(7UL);
        for (int i = 0; i < Steps; i++) actions[i] = rng.NextInt(GridConstants.ActionCount);
        var bestStep = new double[ids.Count];
        var bestReset = new double[ids.Count];
        var resetsPerRound = new int[ids.Count];
        Array.Fill(bestStep, double.MaxValue);
        Array.Fill(bestReset, double.MaxValue);
        long seed = 0;
        for (int round = 0; round < rounds; round++)
            for (int k = 0; k < envs.Count; k++)
            {
                var env = envs[k];
                env.Reset(seed++);
                int resets = 0;
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < Steps; i++)
                {
                    var step = env.Step(actions[i]);
                    if (step.Terminated || step.Truncated)
                    {
                        env.Reset(seed++);
                        resets++;
                    }
                }
                bestStep[k] = Math.Min(bestStep[k], sw.Elapsed.TotalNanoseconds / Steps);
                resetsPerRound[k] = resets;
                sw.Restart();
                for (int i = 0; i < Resets; i++) env.Reset(seed++);
                bestReset[k] = Math.Min(bestReset[k], sw.Elapsed.TotalNanoseconds / Resets / 1000);
            }
        Console.WriteLine($"{"level",-28} {"ns/step",8} {"M steps/s",10} {"steps/reset",12} {"us/reset",9}   (best of {rounds} rounds)");
        for (int k = 0; k < envs.Count; k++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{ids[k],-28} {bestStep[k],8:F0} {1000 / bestStep[k],10:F2} {Steps / Math.Max(1, resetsPerRound[k]),12} {bestReset[k],9:F1}"));
            envs[k].Dispose();
        }
    }
}
