using System.ComponentModel.DataAnnotations;

namespace RLAgents.Environments.GridWorld;

/// <summary>
/// Options of every GridWorld / BabyAI environment (bound from an experiment file's
/// <c>env.options</c>; JSON keys are the camelCase property names).
/// </summary>
public sealed class GridWorldOptions : IValidatableObject
{
    /// <summary>
    /// Adds the <c>description</c> text modality: a natural-language rendering of what the agent
    /// sees ("You see a red ball 2 steps forward and 1 step left."). Building it allocates a
    /// string on steps whose view changed, so throughput-bound runs of image agents turn it off.
    /// Default: true.
    /// </summary>
    public bool IncludeDescription { get; set; } = true;

    /// <summary>
    /// BabyAI's <c>BABYAI_DONE_ACTIONS</c> mode: an instruction succeeds only when the agent takes
    /// the done action right after completing it, and a done at any other time fails the episode.
    /// Default: false (Minigrid's default: done is a no-op and completion is detected at once).
    /// </summary>
    public bool UseDoneActions { get; set; }

    /// <summary>
    /// Colour–object compositions held out of a BabyAI level's episodes, e.g. <c>["red ball", "green key"]</c>:
    /// see <see cref="HeldOutMissions"/>. Training on a level with these excluded and evaluating with
    /// <see cref="HeldOutMode"/> <c>only</c> measures generalisation to compositions of seen words. Default: none.
    /// </summary>
    public string[] HeldOut { get; set; } = [];

    /// <summary>Whether <see cref="HeldOut"/> compositions are kept out (default) or are the only ones.</summary>
    public HeldOutMode HeldOutMode { get; set; } = HeldOutMode.Exclude;

    /// <summary>Copy of these options.</summary>
    public GridWorldOptions Clone() => (GridWorldOptions)MemberwiseClone();

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (int i = 0; i < HeldOut.Length; i++)
        {
            string? error = null;
            try
            {
                HeldOutMissions.Parse(HeldOut[i]);
            }
            catch (FormatException e)
            {
                error = e.Message;
            }
            if (error is not null) yield return new ValidationResult($"[{i}]: {error}", [nameof(HeldOut)]);
        }
    }
}
