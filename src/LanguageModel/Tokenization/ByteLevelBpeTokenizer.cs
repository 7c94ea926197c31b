using RLAgents.Core;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using RLAgents.LanguageModel.Checkpoints;

namespace RLAgents.LanguageModel.Tokenization;

/// <summary>
/// GPT-2-style byte-level BPE. Files are the standard pair <c>vocab.json</c> (token → id, tokens
/// spelled through <see cref="ByteToUnicode"/>) and <c>merges.txt</c> (<c>#version: 0.2</c> then one
/// "left right" merge a line, in rank order), so Hugging Face tokenizers read them unchanged; <see cref="Save"/>
/// also writes Hugging Face's <c>tokenizer.json</c> and transformers' tokenizer files (<see cref="HuggingFaceTokenizerFiles"/>).
/// Pre-tokenisation is GPT-2's on code points (<see cref="Gpt2PreTokenizer"/>), as Hugging Face's.
/// Encoding and decoding run through Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> in its
/// byte-level mode (which applies the same byte ↔ character table) with the special tokens registered,
/// so special-token text is never split.
/// </summary>
public sealed class ByteLevelBpeTokenizer : ITokenizer
{
    /// <summary>File name of the vocabulary.</summary>
    public const string VocabFile = "vocab.json";
    /// <summary>File name of the merges.</summary>
    public const string MergesFile = "merges.txt";

    private readonly BpeTokenizer _bpe;
    private readonly Dictionary<string, int> _vocab;
    private readonly List<(string Left, string Right)> _merges;

    private ByteLevelBpeTokenizer(Dictionary<string, int> vocab, List<(string, string)> merges, string source)
    {
        _vocab = vocab;
        _merges = merges;
        Special = SpecialTokenIds.From(vocab, source);
        var special = SpecialTokens.All.ToDictionary(t => t, t => vocab[t]);
        _bpe = BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges.Select(m => $"{m.Item1} {m.Item2}").ToList(),
            ByteLevel = true,
            PreTokenizer = Gpt2PreTokenizer.Default,
            SpecialTokens = special,
        });
        VocabSize = vocab.Values.Max() + 1;
    }

    /// <inheritdoc/>
    public int VocabSize { get; }

    /// <inheritdoc/>
    public SpecialTokenIds Special { get; }

    /// <summary>The merges in rank order.</summary>
    public IReadOnlyList<(string Left, string Right)> Merges => _merges;

    /// <summary>Trains a tokenizer with at most <paramref name="vocabSize"/> ids on <paramref name="corpus"/>.</summary>
    public static ByteLevelBpeTokenizer Train(IEnumerable<string> corpus, int vocabSize, int minFrequency = 2)
    {
        var result = BpeTrainer.Train(corpus, vocabSize, minFrequency);
        return new ByteLevelBpeTokenizer(result.Vocabulary, result.Merges, "trained vocabulary");
    }

    /// <summary>
    /// Loads <c>vocab.json</c> and <c>merges.txt</c> from <paramref name="directory"/>. With
    /// <paramref name="addMissingSpecialTokens"/>, special tokens absent from the file (e.g. in
    /// GPT-2's own vocabulary) get new ids after the largest one; otherwise their absence is an error.
    /// </summary>
    public static ByteLevelBpeTokenizer Load(string directory, bool addMissingSpecialTokens = false)
    {
        string vocabPath = Path.Combine(directory, VocabFile), mergesPath = Path.Combine(directory, MergesFile);
        if (!File.Exists(vocabPath)) throw new FileNotFoundException($"Tokenizer vocabulary not found: {vocabPath}", vocabPath);
        if (!File.Exists(mergesPath)) throw new FileNotFoundException($"Tokenizer merges not found: {mergesPath}", mergesPath);

        Dictionary<string, int> vocab;
        try
        {
            vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabPath))
                ?? throw new InvalidDataException($"{vocabPath}: empty vocabulary.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{vocabPath}: not a JSON object of token → id ({e.Message}).");
        }
        if (vocab.Values.Distinct().Count() != vocab.Count) throw new InvalidDataException($"{vocabPath}: two tokens share an id.");

        var merges = new List<(string, string)>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(mergesPath))
        {
            lineNumber++;
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            string[] parts = line.Split(' ');
            if (parts.Length != 2) throw new InvalidDataException($"{mergesPath}:{lineNumber}: expected 'left right', got '{line}'.");
            if (!vocab.ContainsKey(parts[0] + parts[1]))
                throw new InvalidDataException($"{mergesPath}:{lineNumber}: merged token '{parts[0] + parts[1]}' is not in the vocabulary.");
            merges.Add((parts[0], parts[1]));
        }

        if (addMissingSpecialTokens)
        {
            int next = vocab.Values.Max() + 1;
            foreach (string special in SpecialTokens.All)
                if (!vocab.ContainsKey(special)) vocab[special] = next++;
        }
        return new ByteLevelBpeTokenizer(vocab, merges, vocabPath);
    }

    /// <inheritdoc/>
    public int[] Encode(string text) => _bpe.EncodeToIds(text).ToArray();

    /// <inheritdoc/>
    public string Decode(IEnumerable<int> ids, bool skipSpecial = false)
    {
        var list = ids as IReadOnlyCollection<int> ?? ids.ToArray();
        foreach (int id in list)
            if (id < 0 || id >= VocabSize) throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id outside the vocabulary [0, {VocabSize}).");
        return _bpe.Decode(skipSpecial ? list.Where(id => !Special.Contains(id)) : list, considerSpecialTokens: true) ?? "";
    }

    /// <inheritdoc/>
    public int? TokenToId(string token) => _vocab.TryGetValue(token, out int id) ? id : null;

    /// <inheritdoc/>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var ordered = _vocab.OrderBy(kv => kv.Value).ToDictionary(kv => kv.Key, kv => kv.Value);
        // The relaxed encoder keeps byte symbols like 'Ġ' readable instead of \u0120 escapes; both are valid JSON.
        var json = JsonSerializer.Serialize(ordered, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        AtomicFile.WriteText(Path.Combine(directory, VocabFile), json);
        var merges = new StringBuilder("#version: 0.2\n");
        foreach (var (left, right) in _merges) merges.Append(left).Append(' ').Append(right).Append('\n');
        AtomicFile.WriteText(Path.Combine(directory, MergesFile), merges.ToString());
        HuggingFaceTokenizerFiles.WriteByteLevelBpe(directory, _vocab, _merges);
    }
}
