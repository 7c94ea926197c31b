using System.Globalization;
using RLAgents.Environments.GridWorld.Bot;
using RLAgents.Environments.GridWorld.Levels;

namespace RLAgents.Benchmarks.GridWorld;

/// <summary>
/// Measures the expert bot: success rate and mean episode length per BabyAI level.
/// Run: dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- gridworld-bot [episodes] [level ...]
/// (default 1,000 episodes on every registered level, seed 2024).
/// </summary>
public static class BotBenchCommand
{
    /// <summary>Runs the measurement and prints one row per level.</summary>
    public static void Run(string[] args)
    {
        int episodes = args.Length > 0 && int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : 1000;
        var levels = args.Skip(args.Length > 0 && int.TryParse(args[0], out _) ? 1 : 0).ToList();
        if (levels.Count == 0) levels = [.. BabyAILevels.All.Keys.Order(StringComparer.Ordinal)];
        Console.WriteLine($"{"level",-32} {"episodes",8} {"success",8} {"mean len",9} {"mean ret",9} {"seconds",8}");
        foreach (var id in levels)
        {
            var s = BotEvaluation.Run(id, episodes, seed: 2024);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{id,-32} {s.Episodes,8} {s.SuccessRate,8:P1} {s.MeanLength,9:F2} {s.MeanReturn,9:F3} {s.Seconds,8:F1}"));
        }
    }
}
