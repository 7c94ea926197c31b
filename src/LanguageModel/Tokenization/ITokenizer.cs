namespace RLAgents.LanguageModel.Tokenization;

/// <summary>
/// Text to token ids and back. Special tokens (padding, sentence markers, separators, modality
/// markers) are whole tokens: their text in the input maps to one id and is never split.
/// </summary>
public interface ITokenizer
{
    /// <summary>Number of ids, special tokens included; embedding tables need this many rows.</summary>
    int VocabSize { get; }

    /// <summary>The special tokens and their ids.</summary>
    SpecialTokenIds Special { get; }

    /// <summary>Encodes text; special-token strings in <paramref name="text"/> become their ids.</summary>
    int[] Encode(string text);

    /// <summary>Decodes ids to text; with <paramref name="skipSpecial"/> special tokens are dropped.</summary>
    string Decode(IEnumerable<int> ids, bool skipSpecial = false);

    /// <summary>The id of a token string (a vocabulary entry), or null if it is not in the vocabulary.</summary>
    int? TokenToId(string token);

    /// <summary>Saves the tokenizer's files into <paramref name="directory"/> (created if missing).</summary>
    void Save(string directory);
}
