using RLAgents.Environments.GridWorld;
using RLAgents.LanguageModel.Tokenization;

namespace RLAgents.Policies.Multimodal;

/// <summary>
/// The closed vocabulary of GridWorld text (BabyAI missions and view descriptions), for a
/// word-level tokenizer when no pretrained tokenizer is given.
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

    /// <summary>Every word GridWorld text can contain.</summary>
    public static IEnumerable<string> Words => s_words.Concat(GridConstants.ColorNames).Concat(GridConstants.TypeNames);

    /// <summary>A word-level tokenizer over <see cref="Words"/>.</summary>
    public static WordLevelTokenizer CreateTokenizer() => WordLevelTokenizer.Build([string.Join(' ', Words)]);
}
