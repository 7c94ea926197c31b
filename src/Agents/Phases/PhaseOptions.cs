using System.ComponentModel.DataAnnotations;
using RLAgents.Agents.Algorithms;

namespace RLAgents.Agents.Phases;

/// <summary>
/// One phase of a schedule (bound from <c>phases[i]</c>): an algorithm with its options, for a number
/// of env steps (RL) or updates (SFT). A plain experiment is a schedule of one such phase built from
/// <c>algorithm</c> and <c>training.totalSteps</c>.
/// </summary>
public sealed class PhaseOptions : AlgorithmOptions
{
    /// <summary>Label in metrics and episode logs (default: the kind and the index, e.g. <c>ppo-1</c>).</summary>
    public string? Name { get; set; }

    /// <summary>RL phases: env steps (summed over envs) of the phase; SFT phases ignore it.</summary>
    [Range(0L, long.MaxValue)] public long Steps { get; set; } = 100_000;

    /// <summary>
    /// Parameter groups that train in this phase (<c>all</c>, <c>backbone</c>, <c>adapters</c>, <c>encoders</c>,
    /// <c>heads</c>, or a substring of parameter names); null keeps the agent's default (per <c>backbone.fineTune</c>).
    /// </summary>
    public string[]? Trainable { get; set; }

    /// <summary>
    /// RL phases of actor-critic agents: weight of KL(π_SFT ‖ π), the policy's divergence from a frozen
    /// copy taken at the end of the latest SFT phase (0 disables it; no anchor before the first SFT phase).
    /// </summary>
    [Range(0.0, 1000.0)] public double KlAnchor { get; set; }

    /// <summary>The phase's label: <see cref="Name"/>, or the kind and <paramref name="index"/>.</summary>
    public string Label(int index) => Name ?? $"{Kind.ToString().ToLowerInvariant()}-{index}";
}
