namespace RLAgents.Environments.GridWorld;

/// <summary>
/// The closed vocabulary of GridWorld text (BabyAI missions and view descriptions), offered to
/// policies through <see cref="ITextVocabulary"/> for word-level tokenizers.
/// </summary>
public static class GridWorldVocabulary
{
    // Instruction grammar (BabyAI: go to / pick up / open / put next to, and/then/after, locations)
    // and the view describer's phrases ("You see a red ball 2 steps forward and 1 step left.").
    private static readonly string[] s_words =
    [
        "go", "to", "the", "a", "an", "pick", "up", "open", "put", "next", "and", "then", "after", "you",
        "on", "your", "left", "right", "in", "front", "of", "behind", "see", "nothing", "carry", "step", "steps",
        "forward", "closed", "locked", "tile", "odd", "object", ".", ",",
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
    ];

    /// <summary>Every word GridWorld text can contain, in a fixed order.</summary>
    public static IReadOnlyList<string> Words { get; } = [.. s_words.Concat(GridConstants.ColorNames).Concat(GridConstants.TypeNames)];
}
