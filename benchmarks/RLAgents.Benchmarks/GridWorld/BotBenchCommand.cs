using System.Globalization;
using RLAgents.Environments.GridWorld.Bot;
using RLAgents.Environments.GridWorld.Levels;

namespace RLAgents.Benchmarks.GridWorld;

/// <summary>
/// Measures the expert bot: success rate and mean episode length per BabyAI level, next to
/// Minigrid 3.1's own bot where the shared fixtures README gives its figures.
/// Run: dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- gridworld-bot [episodes] [level ...]
/// (default 1,000 episodes on every registered level, seed 2024).
/// </summary>
public static class BotBenchCommand
{
    // Minigrid 3.1's BabyAI bot (success %, mean length), from /work/shared/fixtures/README.md:
    // 100 seeds for the first four levels, seeds 1000–1099 for the others. KeyInBox: the bot
    // fails an assertion on every seed; Unlock and GoToImpUnlock lose seeds to Minigrid's
    // key-behind-its-own-door generator quirk.
    private static readonly Dictionary<string, (double Success, double? Length)> s_minigrid = new()
    {
        ["GoToRedBall"] = (100, 5.39), ["GoToLocal"] = (100, 4.88), ["PickupLoc"] = (100, 6.18), ["PutNextLocal"] = (100, 11.96),
        ["GoToSeq"] = (100, 65.85), ["Synth"] = (100, 54.72), ["SynthLoc"] = (100, 45.46), ["SynthSeq"] = (100, 70.31),
        ["MiniBossLevel"] = (100, 26.99), ["BossLevel"] = (100, 83.38), ["PutNextS5N2"] = (100, 10.81), ["PutNextS7N4"] = (100, 18.07),
        ["Unlock"] = (99, 94.84), ["UnlockPickup"] = (100, 19.78), ["BlockedUnlockPickup"] = (100, 33.52), ["KeyInBox"] = (0, null),
        ["OpenDoor"] = (100, 6.61), ["OpenTwoDoors"] = (100, 13.81), ["FindObjS5"] = (100, 34.49), ["MoveTwoAcrossS5N2"] = (100, 18.92),
        ["ActionObjDoor"] = (100, 6.63), ["GoToImpUnlock"] = (98, 97.35), ["PickupAbove"] = (100, 30.8), ["OneRoomS8"] = (100, 5.98),
    };

    /// <summary>Runs the measurement and prints one row per level.</summary>
    public static void Run(string[] args)
    {
        int episodes = args.Length > 0 && int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : 1000;
        var levels = args.Skip(args.Length > 0 && int.TryParse(args[0], out _) ? 1 : 0).ToList();
        if (levels.Count == 0) levels = [.. BabyAILevels.All.Keys.Order(StringComparer.Ordinal)];
        Console.WriteLine($"{"level",-36} {"episodes",8} {"success",8} {"mean len",9} {"mean ret",9} {"seconds",8}   Minigrid bot: success, mean len");
        foreach (var id in levels)
        {
            var s = BotEvaluation.Run(id, episodes, seed: 2024);
            string reference = s_minigrid.TryGetValue(BabyAILevels.Get(id).Name, out var m)
                ? string.Create(CultureInfo.InvariantCulture, $"{m.Success,5:F0} %, {(m.Length is double l ? l.ToString("F2", CultureInfo.InvariantCulture) : "-")}")
                : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{id,-36} {s.Episodes,8} {s.SuccessRate,8:P1} {s.MeanLength,9:F2} {s.MeanReturn,9:F3} {s.Seconds,8:F1}   {reference}"));
        }
    }
}
