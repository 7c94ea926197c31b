using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace RLAgents.LanguageModel.Pretrained;

/// <summary>
/// BERT's text normalisation as Hugging Face's <c>BertNormalizer</c> does it, for Microsoft.ML.Tokenizers'
/// WordPiece model: drop NUL, U+FFFD and every "other" (C*) character except tab, newline and carriage
/// return; turn whitespace into spaces; put spaces around CJK ideographs; then, for uncased models,
/// strip accents (NFD, drop non-spacing marks) and lower-case. Microsoft.ML.Tokenizers 2.0.1's own
/// BERT normaliser deletes tabs and newlines instead of splitting on them.
/// <para>
/// Stripping accents needs Unicode decompositions, which <see cref="string.Normalize()"/> does not
/// provide under InvariantGlobalization (it returns the text unchanged, so "café" would become
/// [UNK]). The decompositions come from <c>Data/strip-accents.txt</c> (generated from Unicode's
/// data by <c>make-strip-accents.py</c>); Hangul syllables decompose arithmetically into their
/// jamo, as NFD does.
/// </para>
/// </summary>
internal sealed class BertBasicNormalizer(bool lowerCase) : Normalizer
{
    public override string Normalize(string original) => Normalize(original.AsSpan());

    public override string Normalize(ReadOnlySpan<char> original)
    {
        var cleaned = new StringBuilder(original.Length + 8);
        foreach (var rune in original.EnumerateRunes())
        {
            if (rune.Value is 0 or 0xFFFD || IsControl(rune)) continue;
            if (IsWhitespace(rune)) cleaned.Append(' ');
            else if (IsCjkIdeograph(rune.Value)) cleaned.Append(' ').Append(rune.ToString()).Append(' ');
            else cleaned.Append(rune.ToString());
        }
        if (!lowerCase) return cleaned.ToString();
        var stripped = new StringBuilder(cleaned.Length);
        foreach (var rune in cleaned.ToString().EnumerateRunes()) AppendWithoutAccents(stripped, rune);
        return stripped.ToString().ToLowerInvariant();
    }

    /// <summary>Appends NFD(<paramref name="rune"/>) without its non-spacing marks.</summary>
    private static void AppendWithoutAccents(StringBuilder output, Rune rune)
    {
        const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, VCount = 21, TCount = 28, SCount = 11172;
        int s = rune.Value - SBase;
        if (s is >= 0 and < SCount)
        {
            // A precomposed Hangul syllable is leading consonant + vowel (+ trailing consonant), by arithmetic.
            output.Append((char)(LBase + s / (VCount * TCount))).Append((char)(VBase + s % (VCount * TCount) / TCount));
            if (s % TCount != 0) output.Append((char)(TBase + s % TCount));
            return;
        }
        if (StripAccentsTable.Value.TryGetValue(rune.Value, out string? replacement)) output.Append(replacement);
        else if (Rune.GetUnicodeCategory(rune) != UnicodeCategory.NonSpacingMark) output.Append(rune.ToString());
    }

    /// <summary>Code point → its NFD without non-spacing marks, for every code point where that differs (Data/strip-accents.txt).</summary>
    private static readonly Lazy<Dictionary<int, string>> StripAccentsTable = new(() =>
    {
        const string resource = "RLAgents.LanguageModel.Pretrained.Data.strip-accents.txt";
        using var stream = typeof(BertBasicNormalizer).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded resource {resource} is missing from RLAgents.LanguageModel.");
        using var reader = new StreamReader(stream);
        var table = new Dictionary<int, string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var fields = line.Split(' ');
            var text = new StringBuilder();
            foreach (var field in fields.Skip(1)) text.Append(char.ConvertFromUtf32(int.Parse(field, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            table[int.Parse(fields[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture)] = text.ToString();
        }
        return table;
    });

    /// <summary>Tab, newline and carriage return count as whitespace; every other C* character is dropped.</summary>
    private static bool IsControl(Rune rune) =>
        rune.Value is not ('\t' or '\n' or '\r') && Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;

    internal static bool IsWhitespace(Rune rune) => Rune.IsWhiteSpace(rune);

    /// <summary>The CJK Unified Ideographs blocks BERT splits character by character (not Hangul, Hiragana or Katakana).</summary>
    private static bool IsCjkIdeograph(int cp) =>
        cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0x2A700 and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
}

/// <summary>
/// BERT's pre-tokenisation (Hugging Face <c>BertPreTokenizer</c>): split on whitespace, and make every
/// punctuation character a word of its own. Punctuation is every ASCII punctuation character (so $, +,
/// = and ^ count, though Unicode files them as symbols) and every Unicode P* character; other symbols,
/// such as emoji, stay inside their word (and usually become [UNK]). Microsoft.ML.Tokenizers 2.0.1's
/// own word-or-punctuation pre-tokenizer drops such symbols altogether.
/// </summary>
internal sealed class BertBasicPreTokenizer : PreTokenizer
{
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => PreTokenize(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text)
    {
        var words = new List<(int, int)>();
        int start = -1, i = 0;
        while (i < text.Length)
        {
            Rune.DecodeFromUtf16(text[i..], out var rune, out int width);
            bool space = BertBasicNormalizer.IsWhitespace(rune), punctuation = IsPunctuation(rune);
            if (space || punctuation)
            {
                if (start >= 0) words.Add((start, i - start));
                start = -1;
                if (punctuation) words.Add((i, width));
            }
            else if (start < 0) start = i;
            i += width;
        }
        if (start >= 0) words.Add((start, text.Length - start));
        return words;
    }

    private static bool IsPunctuation(Rune rune) =>
        (rune.IsAscii && char.IsAsciiLetterOrDigit((char)rune.Value) is false && rune.Value is > 32 and < 127)
        || Rune.GetUnicodeCategory(rune) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
}
