using System.Text.Json;
using System.Text.RegularExpressions;
using RLAgents.Environments.Configuration;

namespace RLAgents.Environments.Wrappers;

/// <summary>
/// Phrases and the wordings that may replace them, for measuring whether an agent understands instructions
/// worded in ways it never saw: <c>{"replace": {"go to": ["walk over to", "head for"], "red": ["crimson"]}}</c>.
/// In a text, every occurrence of a key phrase is replaced by one of its alternatives: whole words only (a key
/// never matches inside a longer word), case-insensitive, words of a phrase separated by any whitespace; when
/// occurrences overlap, the longest wins (then the leftmost), and replaced text is never matched again.
/// Which alternative a key gets is a choice per key (<see cref="Apply"/>), drawn per episode by
/// <see cref="ParaphrasedVectorEnv"/>.
/// </summary>
public sealed class ParaphraseTable
{
    // A key matches where no letter, digit or underscore touches it on either side.
    private const string Before = @"(?<![\p{L}\p{N}_])", After = @"(?![\p{L}\p{N}_])";

    private readonly (string Key, string[] Alternatives, Regex Pattern)[] _entries;

    /// <summary>Builds a table from key phrases and their alternatives (in the order given); bad entries throw <see cref="ConfigurationException"/> naming the key.</summary>
    public ParaphraseTable(IEnumerable<KeyValuePair<string, string[]>> replace, string source = "paraphrases")
    {
        var entries = new List<(string, string[], Regex)>();
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, alternatives) in replace)
        {
            string path = $"{source}: replace[\"{key}\"]";
            var words = key.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) throw new ConfigurationException(path, "a key must hold at least one word");
            string normal = string.Join(' ', words);
            if (seen.TryGetValue(normal, out var earlier)) throw new ConfigurationException(path, $"the same phrase as key \"{earlier}\" (keys are case-insensitive)");
            seen[normal] = key;
            if (alternatives.Length == 0) throw new ConfigurationException(path, "needs at least one alternative");
            for (int i = 0; i < alternatives.Length; i++)
                if (string.IsNullOrWhiteSpace(alternatives[i])) throw new ConfigurationException($"{path}[{i}]", "an alternative must not be empty");
            var pattern = new Regex(Before + string.Join(@"\s+", words.Select(Regex.Escape)) + After,
                RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
            entries.Add((key, [.. alternatives], pattern));
        }
        if (entries.Count == 0) throw new ConfigurationException($"{source}: replace", "the table replaces nothing (no keys)");
        _entries = [.. entries];
    }

    /// <summary>Number of key phrases.</summary>
    public int Count => _entries.Length;

    /// <summary>The key phrases, in table order.</summary>
    public IEnumerable<string> Keys => _entries.Select(e => e.Key);

    /// <summary>Alternatives of key <paramref name="k"/> (table order).</summary>
    public IReadOnlyList<string> Alternatives(int k) => _entries[k].Alternatives;

    /// <summary>
    /// Reads a table file: one JSON object whose only key is <c>replace</c>, mapping each phrase to a non-empty
    /// array of strings (comments and trailing commas allowed). A malformed file throws
    /// <see cref="ConfigurationException"/> naming the file, the key and the problem in one line.
    /// </summary>
    public static ParaphraseTable Load(string path)
    {
        if (!File.Exists(path)) throw new ConfigurationException(path, "paraphrase table not found");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ConfigurationException(path, $"not valid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new ConfigurationException(path, $"expected an object {{\"replace\": {{…}}}}, got {Kind(root)}");
            JsonElement? replace = null;
            foreach (var p in root.EnumerateObject())
            {
                if (p.Name != "replace") throw new ConfigurationException($"{path}: {p.Name}", "unknown key (the table has only \"replace\")");
                replace = p.Value;
            }
            if (replace is not { } table) throw new ConfigurationException(path, "no \"replace\" object");
            if (table.ValueKind != JsonValueKind.Object) throw new ConfigurationException($"{path}: replace", $"expected an object of phrase → alternatives, got {Kind(table)}");
            var pairs = new List<KeyValuePair<string, string[]>>();
            foreach (var p in table.EnumerateObject())
            {
                string at = $"{path}: replace[\"{p.Name}\"]";
                if (p.Value.ValueKind != JsonValueKind.Array) throw new ConfigurationException(at, $"expected an array of alternatives, got {Kind(p.Value)}");
                var alternatives = new List<string>();
                int i = 0;
                foreach (var a in p.Value.EnumerateArray())
                {
                    if (a.ValueKind != JsonValueKind.String) throw new ConfigurationException($"{at}[{i}]", $"expected a string, got {Kind(a)}");
                    alternatives.Add(a.GetString()!);
                    i++;
                }
                pairs.Add(new(p.Name, [.. alternatives]));
            }
            return new ParaphraseTable(pairs, path);
        }
    }

    /// <summary>
    /// <paramref name="text"/> with every key occurrence replaced by its alternative <paramref name="choices"/>[k]
    /// (one index per key, table order). Returns the very same string when nothing matched.
    /// </summary>
    public string Apply(string text, ReadOnlySpan<int> choices)
    {
        if (choices.Length != _entries.Length) throw new ArgumentException($"Expected {_entries.Length} choices, got {choices.Length}.", nameof(choices));
        List<(int Start, int Length, int Key)>? found = null;
        for (int k = 0; k < _entries.Length; k++)
            for (var m = _entries[k].Pattern.Match(text); m.Success; m = m.NextMatch())
                (found ??= []).Add((m.Index, m.Length, k));
        if (found is null) return text;
        // Longest first, then leftmost; an occurrence overlapping an accepted one is dropped.
        found.Sort((a, b) => a.Length != b.Length ? b.Length.CompareTo(a.Length) : a.Start.CompareTo(b.Start));
        var accepted = new List<(int Start, int Length, int Key)>();
        foreach (var f in found)
            if (!accepted.Any(a => f.Start < a.Start + a.Length && a.Start < f.Start + f.Length)) accepted.Add(f);
        accepted.Sort((a, b) => a.Start.CompareTo(b.Start));
        var sb = new System.Text.StringBuilder(text.Length + 16);
        int at = 0;
        foreach (var (start, length, key) in accepted)
        {
            sb.Append(text, at, start - at).Append(_entries[key].Alternatives[choices[key]]);
            at = start + length;
        }
        return sb.Append(text, at, text.Length - at).ToString();
    }

    /// <summary>Draws one alternative per key from <paramref name="rng"/> into <paramref name="choices"/> (table order).</summary>
    public void Choose(Rng rng, Span<int> choices)
    {
        for (int k = 0; k < _entries.Length; k++) choices[k] = rng.NextInt(_entries[k].Alternatives.Length);
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
