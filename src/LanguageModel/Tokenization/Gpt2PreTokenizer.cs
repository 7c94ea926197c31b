using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace RLAgents.LanguageModel.Tokenization;

/// <summary>
/// GPT-2's byte-level pre-tokenisation, <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>,
/// evaluated on Unicode code points as Hugging Face's tokenizers do. A .NET regex matches classes against
/// UTF-16 units, so a letter outside the Basic Multilingual Plane (𝐀, 𠀀) is two surrogates of category Cs
/// and falls into the "other" run: <c>"x𝐀𝐂."</c> would split as <c>["x", "𝐀𝐂."]</c> instead of
/// <c>["x𝐀𝐂", "."]</c>, and a trainer would learn merges Hugging Face never applies. Special-token strings
/// are cut out first and returned as pieces of their own (Hugging Face's added tokens behave the same),
/// and the text between them is split independently. Offsets and lengths are in UTF-16 units.
/// </summary>
public sealed class Gpt2PreTokenizer(IEnumerable<string> specialTokens) : PreTokenizer
{
    private static readonly string[] Contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    // Longest first, so a special token that is a prefix of another never wins over it.
    private readonly string[] _special = [.. specialTokens.Where(s => s.Length > 0).OrderByDescending(s => s.Length).ThenBy(s => s, StringComparer.Ordinal)];

    /// <summary>The pre-tokeniser with RLAgents' special tokens (<see cref="SpecialTokens.All"/>).</summary>
    public static Gpt2PreTokenizer Default { get; } = new(SpecialTokens.All);

    /// <summary>The pieces of <paramref name="text"/> as (offset, length, is a special token).</summary>
    public IEnumerable<(int Offset, int Length, bool Special)> Split(string text)
    {
        int segmentStart = 0;
        for (int i = 0; i < text.Length; i++)
        {
            string? special = _special.FirstOrDefault(s => string.CompareOrdinal(text, i, s, 0, s.Length) == 0);
            if (special is null) continue;
            foreach (var piece in SplitOrdinary(text, segmentStart, i)) yield return (piece.Offset, piece.Length, false);
            yield return (i, special.Length, true);
            i += special.Length - 1;
            segmentStart = i + 1;
        }
        foreach (var piece in SplitOrdinary(text, segmentStart, text.Length)) yield return (piece.Offset, piece.Length, false);
    }

    /// <inheritdoc/>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) =>
        string.IsNullOrEmpty(text) ? [] : Split(text).Select(p => (p.Offset, p.Length));

    /// <inheritdoc/>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) =>
        text.IsEmpty ? [] : PreTokenize(text.ToString()).ToList();

    private enum CharClass { Letter, Number, Space, Other }

    private static CharClass Classify(Rune r)
    {
        if (Rune.IsWhiteSpace(r)) return CharClass.Space;
        return Rune.GetUnicodeCategory(r) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharClass.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharClass.Number,
            _ => CharClass.Other,
        };
    }

    // The code point at i (a lone surrogate counts as one "other" unit) and its length in UTF-16 units.
    private static (CharClass Class, int Length) At(string text, int i, int end)
    {
        if (Rune.DecodeFromUtf16(text.AsSpan(i, end - i), out var rune, out int length) == System.Buffers.OperationStatus.Done)
            return (Classify(rune), length);
        return (CharClass.Other, 1);
    }

    private static List<(int Offset, int Length)> SplitOrdinary(string text, int start, int end)
    {
        var pieces = new List<(int, int)>();
        int i = start;
        while (i < end)
        {
            int length = Match(text, i, end);
            pieces.Add((i, length));
            i += length;
        }
        return pieces;
    }

    // Length of the pattern's match at i: the first alternative that matches, as a backtracking regex picks it.
    private static int Match(string text, int i, int end)
    {
        foreach (string c in Contractions)
            if (end - i >= c.Length && string.CompareOrdinal(text, i, c, 0, c.Length) == 0) return c.Length;

        // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": an optional ASCII space, then a run of one class.
        int runStart = text[i] == ' ' && i + 1 < end ? i + 1 : i;
        var (cls, len) = At(text, runStart, end);
        if (cls != CharClass.Space)
        {
            int j = runStart + len;
            while (j < end && At(text, j, end) is var (c, l) && c == cls) j += l;
            return j - i;
        }

        // "\s+(?!\S)|\s+": a whitespace run leaves its last character to the word that follows it.
        int k = i;
        while (k < end && At(text, k, end) is var (c, l) && c == CharClass.Space) k += l;
        if (k == end) return k - i;
        int lastLength = char.IsLowSurrogate(text[k - 1]) ? 2 : 1;
        return k - lastLength > i ? k - lastLength - i : k - i;
    }
}
