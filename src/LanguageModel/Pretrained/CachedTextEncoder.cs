using RLAgents.LanguageModel.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Pretrained;

/// <summary>
/// Encodings of a frozen <see cref="PretrainedTextEncoder"/>, cached per distinct text. An agent's
/// missions repeat across steps and environments, so after the first sighting a text costs a copy,
/// not a 6-layer forward. Within one call each distinct text is encoded once, however often it occurs.
/// <para>
/// Each text is encoded on its own, at its exact length (no padding, batch of one), so its cached
/// states are a function of the text alone: they do not depend on which texts shared its first batch
/// or in which order texts arrive, and a run gives the same numbers whether a text was a hit or a miss.
/// </para>
/// <para>
/// Policy: at most <see cref="Capacity"/> texts are kept; when a call leaves more, the least recently
/// used are evicted and their tensors disposed. The cache owns its tensors (outside every dispose
/// scope); callers get fresh tensors in their own scope, so disposing results never touches the
/// cache. Memory: about T × C × 4 bytes a text (a 12-token mission at C = 384: 18 KB; the default
/// 4,096 texts: at most ≈ 75 MB). The encoder's base must stay frozen (every parameter but LoRA adapters
/// without gradients) while the cache is in use; each call checks it, and <see cref="Clear"/> drops everything.
/// </para>
/// <para>
/// Adapters: an encoder with LoRA adapters (<see cref="TextEncoderFineTuning.Lora"/>) is served too, for
/// inference between updates (acting, evaluation): its encodings change whenever the adapters do, so the
/// cache keeps a copy of the adapter tensors from when its entries were made and starts over when any of
/// them differs (an exact comparison on every call, which catches optimiser steps, checkpoint loads and
/// copies alike; about 0.3 M values for rank 8 on MiniLM's 24 projections). States never carry gradients:
/// a caller that trains the adapters encodes through <see cref="PretrainedTextEncoder.Encode"/> instead.
/// </para>
/// <para>
/// Prefix: with <c>layers</c> below the encoder's depth, the cache holds the states after that many layers
/// (<see cref="BertEncoder.Prefix"/>), and only the parameters that shape them (embeddings, those layers) must be
/// frozen: a trainer of the top layers (LoRA on the top N, top-layer fine-tuning) runs <see cref="BertEncoder.Suffix"/>
/// on them with gradients instead of the whole encoder.
/// </para>
/// </summary>
public sealed class CachedTextEncoder : IDisposable
{
    /// <summary>Default <see cref="Capacity"/>.</summary>
    public const int DefaultCapacity = 4096;

    private readonly PretrainedTextEncoder _encoder;
    private readonly Dictionary<string, LinkedListNode<(string Text, Tensor Hidden)>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Text, Tensor Hidden)> _recency = new();  // most recently used first
    private readonly Lock _lock = new();
    private Tensor[] _adapters = [];   // copies of the adapter tensors the cached states were computed with

    /// <summary>
    /// Wraps <paramref name="encoder"/>, whose base must be frozen (<see cref="BertEncoder.ConfigureFineTuning"/> with
    /// <see cref="TextEncoderFineTuning.Frozen"/> or <see cref="TextEncoderFineTuning.Lora"/>), caching the states after
    /// its first <paramref name="layers"/> layers (default: all, the last hidden states).
    /// </summary>
    public CachedTextEncoder(PretrainedTextEncoder encoder, int capacity = DefaultCapacity, int? layers = null)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The cache must hold at least one text.");
        int depth = encoder.Encoder.Config.Layers;
        if (layers is < 0 || layers > depth) throw new ArgumentOutOfRangeException(nameof(layers), layers, $"layers must be in [0, {depth}].");
        _encoder = encoder;
        Capacity = capacity;
        Layers = layers ?? depth;
        CheckFrozen();
    }

    /// <summary>Layers the cached states have been through (the encoder's depth: last hidden states).</summary>
    public int Layers { get; }

    /// <summary>Most texts kept.</summary>
    public int Capacity { get; }

    /// <summary>Texts currently cached.</summary>
    public int Count
    {
        get { lock (_lock) return _entries.Count; }
    }

    /// <summary>Texts served from the cache so far (each occurrence in a batch counts).</summary>
    public long Hits { get; private set; }

    /// <summary>Texts encoded so far (each distinct text of a call that was not cached counts once).</summary>
    public long Misses { get; private set; }

    /// <summary>Times the cache started over because the encoder's adapters had changed.</summary>
    public long AdapterChanges { get; private set; }

    /// <summary>Width C of the states.</summary>
    public int Width => _encoder.Width;

    /// <summary>
    /// Token states of <paramref name="texts"/>: Hidden (B, T, C) with zeros past each text's length,
    /// Mask bool (B, T); T is the longest text's token count, or <paramref name="padTo"/> when given.
    /// No gradients flow (the encoder is frozen).
    /// </summary>
    public TextEncoding Encode(IReadOnlyList<string> texts, int? padTo = null)
    {
        lock (_lock)
        {
            CheckFrozen();
            TrackAdapters();
            var states = new Tensor[texts.Count];
            for (int i = 0; i < texts.Count; i++) states[i] = Lookup(texts[i]);
            long longest = states.Length == 0 ? 0 : states.Max(s => s.shape[0]);
            long t = padTo ?? longest;
            if (t < longest) throw new ArgumentOutOfRangeException(nameof(padTo), padTo, $"padTo must hold the longest text ({longest} tokens).");

            var hidden = zeros(texts.Count, t, Width);         // (B, T, C)
            var mask = zeros(texts.Count, t, dtype: @bool);    // (B, T)
            using (no_grad())
                for (int b = 0; b < states.Length; b++)
                {
                    long n = states[b].shape[0];
                    using var rows = hidden[b, ..(int)n];
                    rows.copy_(states[b]);
                    using var real = mask[b, ..(int)n];
                    real.fill_(true);
                }
            Trim();
            return new TextEncoding(hidden, mask);
        }
    }

    /// <summary>Sentence embeddings (B, C) from the cached states; see <see cref="PretrainedTextEncoder.Embed"/>.</summary>
    public Tensor Embed(IReadOnlyList<string> texts, TextPooling? pooling = null, bool normalize = false)
    {
        using var encoding = Encode(texts);
        return encoding.Pool(pooling ?? _encoder.Info.Pooling, normalize);
    }

    /// <summary>Drops every cached text and disposes its tensors.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            foreach (var (_, hidden) in _recency) hidden.Dispose();
            _recency.Clear();
            _entries.Clear();
        }
    }

    /// <summary>Disposes the cached tensors (not the encoder, which the caller owns).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            Clear();
            foreach (var copy in _adapters) copy.Dispose();
            _adapters = [];
        }
    }

    /// <summary>Starts over when the adapters (in name order) are not those the entries were computed with.</summary>
    private void TrackAdapters()
    {
        var adapters = _encoder.Encoder.named_parameters()
            .Where(p => ModelWeights.IsAdapterTensor(p.name) && BertEncoder.ShapesPrefix(p.name, Layers)).Select(p => p.parameter).ToList();
        bool same = adapters.Count == _adapters.Length;
        for (int i = 0; same && i < adapters.Count; i++) same = adapters[i].allclose(_adapters[i], rtol: 0, atol: 0);  // exact: |a − b| ≤ 0
        if (same) return;
        if (_entries.Count > 0) AdapterChanges++;
        Clear();
        foreach (var copy in _adapters) copy.Dispose();
        using (no_grad()) _adapters = [.. adapters.Select(a => a.clone().DetachFromDisposeScope())];
    }

    /// <summary>The cached (T, C) states of <paramref name="text"/>, encoding it first if needed; marks it most recently used.</summary>
    private Tensor Lookup(string text)
    {
        if (_entries.TryGetValue(text, out var node))
        {
            Hits++;
            _recency.Remove(node);
            _recency.AddFirst(node);
            return node.Value.Hidden;
        }
        Misses++;
        var hidden = EncodeAlone(text);
        _entries[text] = _recency.AddFirst((text, hidden));
        return hidden;
    }

    /// <summary>One text, batch of one, no padding: (T, C), detached from every dispose scope (the cache owns it).</summary>
    private Tensor EncodeAlone(string text)
    {
        var encoder = _encoder.Encoder;
        bool wasTraining = encoder.training;
        if (wasTraining) encoder.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            int[] ids = _encoder.Tokenizer.Encode(text);
            var input = tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length]);
            var hidden = encoder.Prefix(new BertInput(TokenIds: input), Layers)[0].contiguous();  // (T, C)
            return hidden.DetachFromDisposeScope();
        }
        finally
        {
            if (wasTraining) encoder.train();
        }
    }

    /// <summary>Evicts least recently used texts beyond <see cref="Capacity"/>, disposing their tensors.</summary>
    private void Trim()
    {
        while (_entries.Count > Capacity)
        {
            var last = _recency.Last!;
            _recency.RemoveLast();
            _entries.Remove(last.Value.Text);
            last.Value.Hidden.Dispose();
        }
    }

    private void CheckFrozen()
    {
        var trainable = _encoder.Encoder.named_parameters()
            .FirstOrDefault(p => p.parameter.requires_grad && !ModelWeights.IsAdapterTensor(p.name) && BertEncoder.ShapesPrefix(p.name, Layers)).name;
        if (trainable is not null)
            throw new InvalidOperationException($"CachedTextEncoder serves encoders with a frozen base only, but '{trainable}' requires gradients; configure the encoder with TextEncoderFineTuning.Frozen or Lora.");
    }
}
