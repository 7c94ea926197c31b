using System.Diagnostics;

namespace RLAgents.Benchmarks;

/// <summary>Wall-clock and process CPU seconds of one call.</summary>
internal readonly record struct Timing(double Wall, double Cpu);

/// <summary>Timing and option helpers shared by the bench commands.</summary>
internal static class BenchTiming
{
    /// <summary>
    /// Median wall and CPU time of <paramref name="action"/>. CPU time is what the process actually ran;
    /// on a shared, oversubscribed machine it is the steadier measure of how efficient the code is.
    /// </summary>
    public static Timing Measure(Action action, int warmup, int repeats)
    {
        for (int i = 0; i < warmup; i++) action();
        var process = Process.GetCurrentProcess();
        var wall = new List<double>();
        var cpu = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            action();
            wall.Add(sw.Elapsed.TotalSeconds);
            process.Refresh();
            cpu.Add((process.TotalProcessorTime - cpu0).TotalSeconds);
        }
        return new Timing(Median(wall), Median(cpu));
    }

    /// <summary>The middle value (upper middle for an even count).</summary>
    public static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    /// <summary>The value after <paramref name="name"/> in <paramref name="args"/>, or <paramref name="fallback"/>.</summary>
    public static string Option(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
