using RLAgents.Core;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using RLAgents.LanguageModel.Checkpoints;

namespace RLAgents.LanguageModel.Tokenization;

/// <summary>
/// One id per word for small closed vocabularies such as BabyAI missions ("go to the red ball").
/// Text is lower-cased and split into words and single punctuation marks; special-token strings
/// are matched first and kept whole; words outside the vocabulary map to <see cref="SpecialTokens.Unk"/>.
/// Ids: the special tokens first (in <see cref="SpecialTokens.All"/> order), then the words in ordinal order.
/// </summary>
public sealed partial class WordLevelTokenizer : ITokenizer
{
    /// <summary>File name of the saved vocabulary (a JSON object word → id).</summary>
    public const string VocabFile = "word_vocab.json";

    [GeneratedRegex(@"<pad>|<bos>|<eos>|<sep>|<unk>|<img>|<txt>|<vec>|\w+|[^\w\s]")]
    private static partial Regex WordPattern();

    private readonly Dictionary<string, int> _vocab;
    private readonly string[] _idToToken;

    private WordLevelTokenizer(Dictionary<string, int> vocab, string source)
    {
        _vocab = vocab;
        Special = SpecialTokenIds.From(vocab, source);
        _idToToken = new string[vocab.Values.Max() + 1];
        foreach (var (token, id) in vocab) _idToToken[id] = token;
        if (_idToToken.Any(t => t is null)) throw new InvalidDataException($"{source}: ids must be contiguous from 0.");
    }

    /// <inheritdoc/>
    public int VocabSize => _idToToken.Length;

    /// <inheritdoc/>
    public SpecialTokenIds Special { get; }

    /// <summary>Builds the vocabulary from every word in <paramref name="corpus"/>.</summary>
    public static WordLevelTokenizer Build(IEnumerable<string> corpus)
    {
        var words = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string text in corpus)
            foreach (Match m in WordPattern().Matches(text.ToLowerInvariant()))
                if (!SpecialTokens.All.Contains(m.Value)) words.Add(m.Value);
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string special in SpecialTokens.All) vocab[special] = vocab.Count;
        foreach (string word in words) vocab[word] = vocab.Count;
        return new WordLevelTokenizer(vocab, "built vocabulary");
    }

    /// <summary>Loads <see cref="VocabFile"/> from <paramref name="directory"/>.</summary>
    public static WordLevelTokenizer Load(string directory)
    {
        string path = Path.Combine(directory, VocabFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"Word vocabulary not found: {path}", path);
        try
        {
            var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(path))
                ?? throw new InvalidDataException($"{path}: empty vocabulary.");
            return new WordLevelTokenizer(vocab, path);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a JSON object of word → id ({e.Message}).");
        }
    }

    /// <inheritdoc/>
    public int[] Encode(string text)
    {
        var ids = new List<int>();
        foreach (Match m in WordPattern().Matches(text.ToLowerInvariant()))
            ids.Add(_vocab.TryGetValue(m.Value, out int id) ? id : Special.Unk);
        return ids.ToArray();
    }

    /// <inheritdoc/>
    public string Decode(IEnumerable<int> ids, bool skipSpecial = false)
    {
        var text = new StringBuilder();
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_idToToken.Length) throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id outside the vocabulary [0, {VocabSize}).");
            if (skipSpecial && Special.Contains(id)) continue;
            string token = _idToToken[id];
            bool punctuation = token.Length == 1 && !char.IsLetterOrDigit(token[0]) && token[0] != '_';
            if (text.Length > 0 && !punctuation) text.Append(' ');
            text.Append(token);
        }
        return text.ToString();
    }

    /// <inheritdoc/>
    public int? TokenToId(string token) => _vocab.TryGetValue(token, out int id) ? id : null;

    /// <inheritdoc/>
    public void Save(string directory)
    {
        var ordered = _vocab.OrderBy(kv => kv.Value).ToDictionary(kv => kv.Key, kv => kv.Value);
        AtomicFile.WriteText(Path.Combine(directory, VocabFile), JsonSerializer.Serialize(ordered));
    }
}
