using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace RLAgents.Agents.Training;

/// <summary>The parts of a training iteration <see cref="IterationProfile"/> times.</summary>
public enum ProfileSection
{
    /// <summary>Stepping the vector env (and the collector's per-step bookkeeping).</summary>
    Env,
    /// <summary>Turning observation batches into input tensors.</summary>
    Tensorize,
    /// <summary>The acting forward pass and action selection (bootstrap values included).</summary>
    Act,
    /// <summary>Advantages and returns (GAE) or n-step targets.</summary>
    Advantage,
    /// <summary>Loss forward passes of the update.</summary>
    Forward,
    /// <summary>Backward passes of the update.</summary>
    Backward,
    /// <summary>Optimiser steps (clipping, Adam).</summary>
    Optimizer,
}

/// <summary>
/// Wall-clock split of training iterations into collection (env, tensorize, act), advantage and update
/// (forward, backward, optimiser), for the benchmarks' <c>--profile</c> switch. Off by default: a disabled
/// profile costs one branch per section. Process-wide because the benchmark reaches the algorithms only through
/// <see cref="TrainingRunner"/>; sections are timed with <see cref="Stopwatch.GetTimestamp"/> (CPU libtorch is
/// synchronous, so a section's time is its own).
/// </summary>
public static class IterationProfile
{
    private static readonly long[] Ticks = new long[Enum.GetValues<ProfileSection>().Length];
    private static readonly long[] Calls = new long[Ticks.Length];

    /// <summary>True while sections are being timed.</summary>
    public static bool Enabled { get; set; }

    /// <summary>A timestamp to pass to <see cref="Stop"/>, or 0 when the profile is off.</summary>
    public static long Start() => Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Adds the time since <paramref name="start"/> (from <see cref="Start"/>) to <paramref name="section"/>; returns the new start.</summary>
    public static long Stop(ProfileSection section, long start)
    {
        if (!Enabled) return 0;
        long now = Stopwatch.GetTimestamp();
        Ticks[(int)section] += now - start;
        Calls[(int)section]++;
        return now;
    }

    /// <summary>Seconds spent in <paramref name="section"/> since the last <see cref="Reset"/>.</summary>
    public static double Seconds(ProfileSection section) => (double)Ticks[(int)section] / Stopwatch.Frequency;

    /// <summary>Forgets every section's time.</summary>
    public static void Reset()
    {
        Array.Clear(Ticks);
        Array.Clear(Calls);
    }

    /// <summary>One line per section: seconds, share of the profiled total and calls, e.g. <c>act  0.412 s  31%  4416 calls</c>.</summary>
    public static string Report()
    {
        double total = Enum.GetValues<ProfileSection>().Sum(Seconds);
        var text = new StringBuilder();
        foreach (var section in Enum.GetValues<ProfileSection>())
        {
            double s = Seconds(section);
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"  {section.ToString().ToLowerInvariant(),-10} {s,8:F3} s  {(total > 0 ? 100 * s / total : 0),3:F0}%  {Calls[(int)section],8} calls"));
        }
        return text.ToString();
    }
}
