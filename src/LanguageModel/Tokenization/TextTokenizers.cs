namespace RLAgents.LanguageModel.Tokenization;

/// <summary>The tokenizer a policy uses for an environment's text when no pretrained tokenizer is given.</summary>
public static class TextTokenizers
{
    /// <summary>
    /// Word-level over <paramref name="vocabulary"/> when the environment declares a closed one
    /// (every word an id, nothing unknown); otherwise byte-level (every UTF-8 byte an id, no merges),
    /// which reads any text.
    /// </summary>
    public static ITokenizer ForVocabulary(IReadOnlyList<string>? vocabulary) =>
        vocabulary is { Count: > 0 }
            ? WordLevelTokenizer.Build([string.Join(' ', vocabulary)])
            : ByteLevelBpeTokenizer.Train([], vocabSize: 256 + SpecialTokens.All.Count);
}
