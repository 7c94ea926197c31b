using System.Runtime.InteropServices;
using RLAgents.LanguageModel.Tokenization;
using static TorchSharp.torch;

namespace RLAgents.Policies.Encoding;

/// <summary>
/// Text → padded token ids, int64 [B, L]: the first L tokens of each text, then the tokenizer's
/// pad id (which the estimator masks out of attention). Encodings are cached per distinct string,
/// since missions repeat across steps.
/// </summary>
public sealed partial class TokenIdTensorizer : ITextTensorizer
{
    private const int CacheLimit = 1 << 14;
    private readonly ITokenizer _tokenizer;
    private readonly Dictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Encodes with <paramref name="tokenizer"/> into <paramref name="length"/> tokens per text.</summary>
    public TokenIdTensorizer(ITokenizer tokenizer, int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        _tokenizer = tokenizer;
        Width = length;
    }

    /// <inheritdoc />
    public int Width { get; }

    /// <summary>The tokenizer the ids come from.</summary>
    public ITokenizer Tokenizer => _tokenizer;

    /// <summary>The pad id written after the end of each text.</summary>
    public int PadId => _tokenizer.Special.Pad;

    /// <inheritdoc />
    public Tensor ToTensor(ReadOnlySpan<string> texts)
    {
        var ids = new long[texts.Length * Width];
        Encode(texts, ids);
        return tensor(ids, [texts.Length, Width]);
    }

    /// <inheritdoc />
    public bool WritesInPlace => true;

    /// <inheritdoc />
    public void Write(ReadOnlySpan<string> texts, Tensor destination) => Encode(texts, MemoryMarshal.Cast<byte, long>(destination.bytes));

    /// <summary>Writes the padded ids of <paramref name="texts"/> into <paramref name="ids"/> (row-major [texts.Length, Width]).</summary>
    public void Encode(ReadOnlySpan<string> texts, Span<long> ids)
    {
        ids[..(texts.Length * Width)].Fill(PadId);
        for (int i = 0; i < texts.Length; i++)
        {
            var encoded = Encode(texts[i]);
            for (int j = 0; j < Math.Min(Width, encoded.Length); j++) ids[i * Width + j] = encoded[j];
        }
    }

    private int[] Encode(string text)
    {
        lock (_lock)
        {
            if (_cache.TryGetValue(text, out var ids)) return ids;
            ids = _tokenizer.Encode(text);
            if (_cache.Count >= CacheLimit) _cache.Clear();
            _cache[text] = ids;
            return ids;
        }
    }
}

/// <summary>Text → token counts, float32 [B, V] (a bag of tokens, for MLP baselines on tokenised text).</summary>
public sealed partial class BagOfTokensTensorizer(ITokenizer tokenizer) : ITextTensorizer
{
    /// <summary>The tokenizer whose ids are counted.</summary>
    public ITokenizer Tokenizer => tokenizer;

    /// <inheritdoc />
    public int Width => tokenizer.VocabSize;

    /// <inheritdoc />
    public Tensor ToTensor(ReadOnlySpan<string> texts)
    {
        var counts = new float[texts.Length * Width];
        for (int i = 0; i < texts.Length; i++)
            foreach (int id in tokenizer.Encode(texts[i])) counts[i * Width + id] += 1;
        return tensor(counts, [texts.Length, Width]);
    }
}
