using RLAgents.Environments;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.LanguageModel.Training;
using RLAgents.Policies.Encoding;

namespace RLAgents.Policies.Export;

/// <summary>One input of an exported policy: its name, row-major data (float[], byte[] or long[]) and shape.</summary>
/// <param name="Name">The graph input (the modality's name).</param>
/// <param name="Data">float[] for float32 boxes, byte[] for uint8 boxes, long[] for discrete values and token ids.</param>
/// <param name="Shape">[B, …] as the graph declares it.</param>
public readonly record struct OnnxInputArray(string Name, Array Data, long[] Shape);

/// <summary>
/// Turns observation batches into the inputs of an exported policy (<see cref="OnnxPolicyInfo"/>):
/// boxes keep their shape, discrete values become int64, text becomes token ids padded with the pad id
/// (cut at the fixed length L where the graph has one, padded to the longest text of the batch otherwise).
/// Any runtime can be fed from these arrays; the policy server and the parity tests use ONNX Runtime.
/// </summary>
public sealed class OnnxInputFeed
{
    private readonly OnnxPolicyInfo _info;
    private readonly ITokenizer?[] _tokenizers;
    private readonly TokenIdTensorizer?[] _fixed;

    /// <summary>Prepares the feed for <paramref name="info"/>; <paramref name="tokenizers"/> gives each text input's tokenizer.</summary>
    public OnnxInputFeed(OnnxPolicyInfo info, Func<OnnxTextInput, ITokenizer> tokenizers)
    {
        _info = info;
        var space = info.ObservationSpace;
        _tokenizers = new ITokenizer?[space.Count];
        _fixed = new TokenIdTensorizer?[space.Count];
        foreach (var text in info.TextInputs)
        {
            int m = space.IndexOf(text.Modality);
            var tokenizer = tokenizers(text);
            if (tokenizer.VocabSize != text.VocabSize || tokenizer.Special.Pad != text.PadId)
                throw new InvalidDataException($"modality '{text.Modality}': the tokenizer has {tokenizer.VocabSize} ids and pad {tokenizer.Special.Pad}; the model expects {text.VocabSize} and pad {text.PadId}");
            _tokenizers[m] = tokenizer;
            if (text.Length is int length) _fixed[m] = new TokenIdTensorizer(tokenizer, length);
        }
    }

    /// <summary>The feed of an in-memory export (its tokenizers as exported).</summary>
    public static OnnxInputFeed For(OnnxPolicyExport export) => new(export.Info, t => export.Tokenizers[t.Tokenizer]);

    /// <summary>The feed of an exported file whose tokenizer folders sit in <paramref name="directory"/> (beside the model).</summary>
    public static OnnxInputFeed Load(OnnxPolicyInfo info, string directory)
    {
        var loaded = new Dictionary<string, ITokenizer>(StringComparer.Ordinal);
        return new OnnxInputFeed(info, t =>
        {
            if (loaded.TryGetValue(t.Tokenizer, out var tokenizer)) return tokenizer;
            string folder = Path.Combine(directory, t.Tokenizer);
            if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"tokenizer folder '{folder}' of text input '{t.Modality}' is missing; 'rlagents export' writes it beside the model");
            return loaded[t.Tokenizer] = Pretrainer.LoadTokenizer(folder);
        });
    }

    /// <summary>The tokenizer of text modality <paramref name="m"/>, or null.</summary>
    public ITokenizer? Tokenizer(int m) => _tokenizers[m];

    /// <summary>The inputs for slots [<paramref name="start"/>, start + count) of <paramref name="batch"/>, one per modality in order.</summary>
    public OnnxInputArray[] Encode(ObservationBatch batch, int start = 0, int count = -1)
    {
        if (count < 0) count = batch.Count - start;
        var space = _info.ObservationSpace;
        var inputs = new OnnxInputArray[space.Count];
        for (int m = 0; m < space.Count; m++)
        {
            var modality = space[m];
            int size = modality.Size;
            long[] BoxShape() => [count, .. ((BoxSpace)modality.Space).ShapeArray().Select(d => (long)d)];
            inputs[m] = modality.Storage switch
            {
                ModalityStorage.Float32 => new(modality.Name, batch.Floats(m).AsSpan(start * size, count * size).ToArray(), BoxShape()),
                ModalityStorage.UInt8 => new(modality.Name, batch.Bytes(m).AsSpan(start * size, count * size).ToArray(), BoxShape()),
                ModalityStorage.Int32 => new(modality.Name, batch.Ints(m).AsSpan(start, count).ToArray().Select(v => (long)v).ToArray(), [count]),
                _ => Text(m, batch.Texts(m).AsSpan(start, count)),
            };
        }
        return inputs;
    }

    private OnnxInputArray Text(int m, ReadOnlySpan<string> texts)
    {
        string name = _info.ObservationSpace[m].Name;
        if (_fixed[m] is { } tensorizer)
        {
            var ids = new long[texts.Length * tensorizer.Width];
            tensorizer.Encode(texts, ids);
            return new(name, ids, [texts.Length, tensorizer.Width]);
        }
        var tokenizer = _tokenizers[m]!;
        var encoded = new int[texts.Length][];
        for (int i = 0; i < texts.Length; i++) encoded[i] = tokenizer.Encode(texts[i]);
        // At least one column: an empty text is one pad, which the graph does not count.
        int length = Math.Max(1, encoded.Select(e => e.Length).DefaultIfEmpty(0).Max());
        var rows = new long[texts.Length * length];
        Array.Fill(rows, tokenizer.Special.Pad);
        for (int i = 0; i < encoded.Length; i++)
            for (int j = 0; j < encoded[i].Length; j++) rows[i * length + j] = encoded[i][j];
        return new(name, rows, [texts.Length, length]);
    }
}
