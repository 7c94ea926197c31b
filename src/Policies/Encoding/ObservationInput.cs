using System.Runtime.InteropServices;
using RLAgents.Environments;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Encoding;

/// <summary>
/// A batch of observations as tensors, one per modality in the space's fixed order:
/// float32 box → float32 [B, S]; uint8 box → uint8 [B, S]; discrete → int64 [B];
/// text → whatever its <see cref="ITextTensorizer"/> makes (token ids [B, L], a bag of tokens [B, V]), or, for
/// estimators that read the strings themselves (<see cref="ITextTensorizer.KeepsTexts"/>), int64 [B] row keys
/// into the batch's strings (<see cref="RowTexts"/>), which <see cref="Select"/> carries along.
/// Tensors belong to the caller's dispose scope.
/// </summary>
public sealed class ObservationInput
{
    private readonly Tensor[] _tensors;
    private readonly string[]?[] _texts;

    /// <summary>
    /// Wraps per-modality tensors (each with the same leading batch size); <paramref name="texts"/>[m], when given,
    /// holds the strings text modality m's int64 [B] key tensor points into.
    /// </summary>
    public ObservationInput(ObservationSpace space, Tensor[] tensors, string[]?[]? texts = null)
    {
        if (tensors.Length != space.Count) throw new ArgumentException($"Expected {space.Count} modality tensors, got {tensors.Length}.");
        if (texts is not null && texts.Length != space.Count) throw new ArgumentException($"Expected {space.Count} text slots, got {texts.Length}.");
        Space = space;
        _tensors = tensors;
        _texts = texts ?? new string[]?[space.Count];
        Count = tensors[0].shape[0];
    }

    /// <summary>The observation layout.</summary>
    public ObservationSpace Space { get; }

    /// <summary>Batch size B.</summary>
    public long Count { get; }

    /// <summary>The tensor of modality <paramref name="m"/>.</summary>
    public Tensor this[int m] => _tensors[m];

    /// <summary>
    /// For a recurrent policy: how the rows form episodes and the memory they start from (time-major rows); null for
    /// memoryless policies. <see cref="Select"/> does not carry it: a selection of rows is not a sequence until its caller says so.
    /// </summary>
    public Networks.SequenceInput? Sequence { get; set; }

    /// <summary>The rows selected by <paramref name="indices"/> (int64 [K]) of every modality.</summary>
    public ObservationInput Select(Tensor indices) =>
        new(Space, _tensors.Select(t => t.index_select(0, indices)).ToArray(), _texts);

    /// <summary>True when text modality <paramref name="m"/> arrives as strings (<see cref="RowTexts"/>) rather than as a tensor of its own.</summary>
    public bool HasTexts(int m) => _texts[m] is not null;

    /// <summary>The string of every row of text modality <paramref name="m"/>, in row order (its tensor holds keys into the batch's strings).</summary>
    public string[] RowTexts(int m)
    {
        var texts = _texts[m] ?? throw new InvalidOperationException($"Modality '{Space[m].Name}' carries no strings; its tensorizer encodes them.");
        using var keys = _tensors[m].cpu();
        var rows = new string[Count];
        var span = keys.data<long>();
        for (int i = 0; i < rows.Length; i++) rows[i] = texts[span[i]];
        return rows;
    }
}

/// <summary>
/// Turns the strings of one text modality into a tensor: padded token ids [B, L] for the
/// Transformer, token counts [B, V] for the MLP.
/// </summary>
public partial interface ITextTensorizer
{
    /// <summary>Width of the tensor per observation (tokens L, or features of a bag of tokens).</summary>
    int Width { get; }

    /// <summary>The tensor for <paramref name="texts"/>, [texts.Length, Width].</summary>
    Tensor ToTensor(ReadOnlySpan<string> texts);

    /// <summary>
    /// True when the estimator reads the strings themselves: <see cref="ObservationInput"/> then keeps them
    /// (<see cref="ObservationInput.RowTexts"/>) and <see cref="ToTensor"/> makes the row keys int64 [B].
    /// </summary>
    bool KeepsTexts => false;

    /// <summary>True when <see cref="Write"/> can rewrite a tensor that <see cref="ToTensor"/> made (the acting hot path's persistent input).</summary>
    bool WritesInPlace => false;

    /// <summary>Writes the encoding of <paramref name="texts"/> into <paramref name="destination"/> ([texts.Length, Width], as <see cref="ToTensor"/> makes it) in place.</summary>
    void Write(ReadOnlySpan<string> texts, Tensor destination) => throw new NotSupportedException($"{GetType().Name} does not write in place.");
}

/// <summary>
/// Text passed on as strings, for state estimators that encode it themselves (a pretrained text encoder with its
/// own tokenizer and cache): the tensor is the row keys 0…B−1, int64 [B], and the strings travel with the input.
/// </summary>
public sealed class RawTextTensorizer : ITextTensorizer
{
    /// <inheritdoc />
    public int Width => 1;

    /// <inheritdoc />
    public bool KeepsTexts => true;

    /// <inheritdoc />
    public Tensor ToTensor(ReadOnlySpan<string> texts) => arange(texts.Length, dtype: ScalarType.Int64);
}

/// <summary>
/// Turns observation batches (plain arrays from the environments) into <see cref="ObservationInput"/>.
/// Built once per observation space by a state-estimator factory, which says how its text is encoded.
/// </summary>
public sealed class ObservationTensorizer
{
    private readonly ObservationSpace _space;
    private readonly ITextTensorizer?[] _text;
    private readonly bool _hasText, _textInPlace;
    private ObservationInput? _step; // ToStepInput's persistent tensors

    /// <summary>
    /// Prepares the conversions for <paramref name="space"/>; text modality m is encoded by
    /// <paramref name="textTensorizers"/>(m) (a space with text needs it).
    /// </summary>
    public ObservationTensorizer(ObservationSpace space, Func<int, ITextTensorizer>? textTensorizers = null)
    {
        _space = space;
        _text = new ITextTensorizer?[space.Count];
        for (int m = 0; m < space.Count; m++)
        {
            if (space[m].Space is not TextSpace) continue;
            _text[m] = textTensorizers?.Invoke(m)
                ?? throw new NotSupportedException($"Modality '{space[m].Name}' is text; the tensorizer needs a text encoding for it (a state-estimator factory provides one).");
            _hasText = true;
        }
        _textInPlace = _text.All(t => t is null || t.WritesInPlace);
    }

    /// <summary>The text encoding of modality <paramref name="m"/>, or null when it is not text.</summary>
    public ITextTensorizer? Text(int m) => _text[m];

    /// <summary>Width of the tensor of text modality <paramref name="m"/> per observation.</summary>
    public int TextWidth(int m) => _text[m]?.Width ?? throw new InvalidOperationException($"Modality {m} is not text.");

    /// <summary>
    /// True when <see cref="ToStepInput"/> rewrites tensors this tensorizer keeps (no new tensors, so a caller needs no
    /// dispose scope for them); false when the space's text makes it fall back to fresh tensors.
    /// </summary>
    public bool StepInputInPlace => !_hasText || _textInPlace;

    /// <summary>
    /// The whole of <paramref name="batch"/> as input tensors that this tensorizer keeps and rewrites in place on every
    /// call (the acting hot path: no managed or native allocation per step for numeric modalities). The tensors belong
    /// to no dispose scope and stay valid until the next call with a batch of the same size; callers must neither
    /// dispose nor keep them. Text is rewritten in place too when its encoding can (<see cref="ITextTensorizer.WritesInPlace"/>: token
    /// ids); spaces with other text fall back to <see cref="ToInput"/> of the first <paramref name="count"/> slots (all when
    /// negative). Otherwise every slot is copied and the caller reads the first <paramref name="count"/> rows.
    /// </summary>
    public ObservationInput ToStepInput(ObservationBatch batch, int count = -1)
    {
        if (!StepInputInPlace) return ToInput(batch, 0, count);
        count = batch.Count;
        if (_step is null || _step.Count != count)
        {
            if (_step is not null) for (int m = 0; m < _space.Count; m++) _step[m].Dispose();
            var tensors = new Tensor[_space.Count];
            for (int m = 0; m < _space.Count; m++)
            {
                int size = _space[m].Size;
                // Float32 [B, S], UInt8 [B, S], Int32 → int64 [B], text as its encoding makes it; made outside any scope so they outlive each step.
                tensors[m] = (_space[m].Storage switch
                {
                    ModalityStorage.Float32 => zeros([count, size], ScalarType.Float32),
                    ModalityStorage.UInt8 => zeros([count, size], ScalarType.Byte),
                    ModalityStorage.Int32 => zeros([count], ScalarType.Int64),
                    _ => _text[m]!.ToTensor(batch.Texts(m).AsSpan(0, count)),
                }).DetachFromDisposeScope();
            }
            _step = new ObservationInput(_space, tensors);
        }
        for (int m = 0; m < _space.Count; m++)
        {
            var bytes = _step[m].bytes;
            switch (_space[m].Storage)
            {
                case ModalityStorage.Float32: batch.Floats(m).AsSpan(0, bytes.Length / sizeof(float)).CopyTo(MemoryMarshal.Cast<byte, float>(bytes)); break;
                case ModalityStorage.UInt8: batch.Bytes(m).AsSpan(0, bytes.Length).CopyTo(bytes); break;
                case ModalityStorage.Text: _text[m]!.Write(batch.Texts(m).AsSpan(0, count), _step[m]); break;
                default:
                    var longs = MemoryMarshal.Cast<byte, long>(bytes);
                    var ints = batch.Ints(m);
                    for (int i = 0; i < longs.Length; i++) longs[i] = ints[i];
                    break;
            }
        }
        return _step;
    }

    /// <summary>Slots [<paramref name="start"/>, start+count) of <paramref name="batch"/> as tensors.</summary>
    public ObservationInput ToInput(ObservationBatch batch, int start = 0, int count = -1)
    {
        if (count < 0) count = batch.Count - start;
        var tensors = new Tensor[_space.Count];
        string[]?[]? texts = null;
        for (int m = 0; m < _space.Count; m++)
        {
            if (_text[m] is { KeepsTexts: true })
            {
                (texts ??= new string[]?[_space.Count])[m] = batch.Texts(m).AsSpan(start, count).ToArray();
            }
            int size = _space[m].Size;
            tensors[m] = _space[m].Storage switch
            {
                ModalityStorage.Float32 => tensor(batch.Floats(m).AsSpan(start * size, count * size).ToArray(), [count, size]),
                ModalityStorage.UInt8 => tensor(batch.Bytes(m).AsSpan(start * size, count * size).ToArray(), [count, size]),
                ModalityStorage.Int32 => tensor(batch.Ints(m).AsSpan(start, count).ToArray().Select(v => (long)v).ToArray(), [count]),
                _ => _text[m]!.ToTensor(batch.Texts(m).AsSpan(start, count)),
            };
        }
        return new ObservationInput(_space, tensors, texts);
    }
}
