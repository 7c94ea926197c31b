using RLAgents.Environments;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Encoding;

/// <summary>
/// A batch of observations as tensors, one per modality in the space's fixed order:
/// float32 box → float32 [B, S]; uint8 box → uint8 [B, S]; discrete → int64 [B];
/// word-vocabulary text → float32 bag-of-words counts [B, V].
/// Tensors belong to the caller's dispose scope.
/// </summary>
public sealed class ObservationInput
{
    private readonly Tensor[] _tensors;

    /// <summary>Wraps per-modality tensors (each with the same leading batch size).</summary>
    public ObservationInput(ObservationSpace space, Tensor[] tensors)
    {
        if (tensors.Length != space.Count) throw new ArgumentException($"Expected {space.Count} modality tensors, got {tensors.Length}.");
        Space = space;
        _tensors = tensors;
        Count = tensors[0].shape[0];
    }

    /// <summary>The observation layout.</summary>
    public ObservationSpace Space { get; }

    /// <summary>Batch size B.</summary>
    public long Count { get; }

    /// <summary>The tensor of modality <paramref name="m"/>.</summary>
    public Tensor this[int m] => _tensors[m];

    /// <summary>The rows selected by <paramref name="indices"/> (int64 [K]) of every modality.</summary>
    public ObservationInput Select(Tensor indices) =>
        new(Space, _tensors.Select(t => t.index_select(0, indices)).ToArray());
}

/// <summary>
/// Turns observation batches (plain arrays from the environments) into <see cref="ObservationInput"/>.
/// Built once per observation space: it caches the vocabulary lookups of text modalities.
/// </summary>
public sealed class ObservationTensorizer
{
    private readonly ObservationSpace _space;
    private readonly Dictionary<string, int>?[] _vocab;

    /// <summary>Prepares the conversions for <paramref name="space"/>; text modalities must have a word vocabulary.</summary>
    public ObservationTensorizer(ObservationSpace space)
    {
        _space = space;
        _vocab = new Dictionary<string, int>?[space.Count];
        for (int m = 0; m < space.Count; m++)
        {
            if (space[m].Space is not TextSpace text) continue;
            if (text.Vocabulary is null)
                throw new NotSupportedException(
                    $"Modality '{space[m].Name}' ({text}) is character-level text; the MLP state estimator encodes word-vocabulary text only (use a tokenizer-based state estimator).");
            _vocab[m] = text.Vocabulary.Select((w, i) => (w, i)).ToDictionary(p => p.w, p => p.i, StringComparer.Ordinal);
        }
    }

    /// <summary>Width of the bag-of-words vector of text modality <paramref name="m"/>.</summary>
    public int VocabularySize(int m) => _vocab[m]?.Count ?? throw new InvalidOperationException($"Modality {m} is not text.");

    /// <summary>Slots [<paramref name="start"/>, start+count) of <paramref name="batch"/> as tensors.</summary>
    public ObservationInput ToInput(ObservationBatch batch, int start = 0, int count = -1)
    {
        if (count < 0) count = batch.Count - start;
        var tensors = new Tensor[_space.Count];
        for (int m = 0; m < _space.Count; m++)
        {
            int size = _space[m].Size;
            tensors[m] = _space[m].Storage switch
            {
                ModalityStorage.Float32 => tensor(batch.Floats(m).AsSpan(start * size, count * size).ToArray(), [count, size]),
                ModalityStorage.UInt8 => tensor(batch.Bytes(m).AsSpan(start * size, count * size).ToArray(), [count, size]),
                ModalityStorage.Int32 => tensor(batch.Ints(m).AsSpan(start, count).ToArray().Select(v => (long)v).ToArray(), [count]),
                _ => BagOfWords(batch.Texts(m).AsSpan(start, count), m),
            };
        }
        return new ObservationInput(_space, tensors);
    }

    /// <summary>Word counts per text: [count, V]. Unknown words are ignored (the space forbids them).</summary>
    private Tensor BagOfWords(ReadOnlySpan<string> texts, int m)
    {
        var vocab = _vocab[m]!;
        var counts = new float[texts.Length * vocab.Count];
        for (int i = 0; i < texts.Length; i++)
            foreach (var word in texts[i].Split(' ', StringSplitOptions.RemoveEmptyEntries))
                if (vocab.TryGetValue(word, out int w)) counts[i * vocab.Count + w] += 1;
        return tensor(counts, [texts.Length, vocab.Count]);
    }
}
