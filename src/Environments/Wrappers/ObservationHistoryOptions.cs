using System.ComponentModel.DataAnnotations;

namespace RLAgents.Environments.Wrappers;

/// <summary>
/// Memory across steps for partially observed environments (bound from <c>env.memory</c>): the
/// previous <see cref="Steps"/> values of the chosen modalities ride along in every observation
/// (see <see cref="ObservationHistory"/>), so buffers, minibatch re-evaluation and bootstrap targets
/// see exactly the history the agent acted on. Off by default.
/// </summary>
public sealed class ObservationHistoryOptions
{
    /// <summary>Previous steps K kept per observation (0 turns memory off).</summary>
    [Range(0, 64)]
    public int Steps { get; set; }

    /// <summary>
    /// Image, vector or discrete modalities whose previous values are kept, e.g. <c>["image", "direction"]</c>
    /// (BabyAI's egocentric view and heading); text modalities cannot be kept.
    /// </summary>
    [MinLength(1)]
    public string[] Modalities { get; set; } = ["image", "direction"];

    /// <summary>
    /// Anchor the memory on the episode's start: the oldest of the K rows holds the episode's first step for the
    /// whole episode, the other K − 1 rows the most recent steps. For instructions relative to where the agent
    /// began (BabyAI's locations — "the ball in front of you" — are resolved against the starting pose).
    /// Needs at least 2 steps.
    /// </summary>
    public bool Anchored { get; set; }
}
