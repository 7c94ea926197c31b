using RLAgents.Environments;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Lora;
using RLAgents.LanguageModel.Pretrained;
using RLAgents.Policies.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Policies.Multimodal;

/// <summary>
/// Text modalities read by a pretrained BERT encoder (<see cref="PretrainedTextEncoders"/>, e.g. all-MiniLM-L6-v2)
/// instead of the backbone's token embedding: each row's string → WordPiece → BERT token states (T, 384) →
/// a trainable Linear(384 → C) + LayerNorm(C) into the backbone's width C, one token per WordPiece ([CLS] and
/// [SEP] included); or, for late fusion, the model's own pooled sentence vector through the same projection.
/// <para>
/// Why a projection and not the other way round: the backbone, its fusion and the other modalities' tokens
/// stay at the small width C that acting can afford, while BERT runs at its own width on text only, once per
/// distinct string. The LayerNorm puts the projected states on the scale of the backbone's other token embeddings
/// (BERT's last-layer states have norms near 10).
/// </para>
/// <para>
/// Cost: each distinct text of a batch goes through BERT once and is gathered back to its rows. A frozen encoder's
/// states come from a <see cref="CachedTextEncoder"/> (per string, always); a LoRA encoder's too while no gradient
/// is being recorded (acting, evaluation; the cache starts over whenever the adapters change), and from one padded
/// batched forward with gradients while training. When only the top layers train (LoRA on the top N, top-layer
/// fine-tuning), the states below them are cached per text too and only the top layers run. Full fine-tuning
/// encodes every call.
/// </para>
/// <para>
/// Checkpoints: the base weights that do not train under the fine-tune mode are restored from the package on every
/// build (<see cref="IExternalWeights"/>), never saved; what trains (adapters, trained layers, the projection) is.
/// The 32-byte SHA-256 of the base weights travels as the buffer <c>base_sha256</c>, and loading a checkpoint
/// checks it against the installed package before anything is copied.
/// </para>
/// </summary>
public sealed class PretrainedTextTokens : nn.Module, IExternalWeights
{
    private readonly BertEncoder backbone;
    private readonly Linear projection;
    private readonly LayerNorm ln;
    private readonly Tensor base_sha256;
    private readonly PretrainedTextEncoder _encoder;
    private readonly CachedTextEncoder? _cache;
    private readonly CachedTextEncoder? _prefix;
    private readonly HashSet<string> _external;

    /// <summary>
    /// Takes ownership of <paramref name="encoder"/> (frozen, as <see cref="PretrainedTextEncoder.Copy"/> leaves it),
    /// configures its fine-tuning per <paramref name="options"/> (LoRA adapters drawn from <paramref name="rng"/>) and
    /// adds the projection to <paramref name="width"/>.
    /// </summary>
    public PretrainedTextTokens(PretrainedTextEncoder encoder, PretrainedTextEncoderOptions options, int width, Rng rng)
        : base(nameof(PretrainedTextTokens))
    {
        _encoder = encoder;
        FineTune = options.FineTune;
        backbone = encoder.Encoder;
        var lora = new LoraOptions
        {
            Rank = options.Lora.Rank, Alpha = options.Lora.Alpha, Dropout = options.Lora.Dropout, TargetModules = options.Lora.TargetModules,
            // Adapters draw from the run's generator, so seeds give different adapters as they give different heads.
            Seed = unchecked((long)rng.NextUInt64()),
        };
        backbone.ConfigureFineTuning(options.FineTune, options.TopLayers, lora, options.LoraLayers);
        if (options.FineTune == TextEncoderFineTuning.Frozen) backbone.eval();
        // Below the lowest layer that trains nothing ever changes: those states are cached per text, and training
        // runs only the layers above (LoRA on the top N, top-layer fine-tuning).
        if (options.FineTune != TextEncoderFineTuning.Frozen && backbone.LowestTrainableLayer() is int lowest and > 0)
            _prefix = new CachedTextEncoder(encoder, options.CacheCapacity, layers: lowest);
        _external = [.. backbone.named_parameters().Where(p => !p.parameter.requires_grad && !ModelWeights.IsAdapterTensor(p.name)).Select(p => "backbone." + p.name)
            .Concat(backbone.named_buffers().Select(b => "backbone." + b.name))];
        projection = nn.Linear(encoder.Width, width);
        Init.Linear(projection, rng, null);
        ln = nn.LayerNorm(width);
        base_sha256 = tensor(Convert.FromHexString(encoder.WeightsSha256), ScalarType.Byte);
        if (options.FineTune is TextEncoderFineTuning.Frozen or TextEncoderFineTuning.Lora) _cache = new CachedTextEncoder(encoder, options.CacheCapacity);
        RegisterComponents();
    }

    /// <summary>Which encoder parameters train.</summary>
    public TextEncoderFineTuning FineTune { get; }

    /// <summary>The pretrained encoder (name, tokenizer, base hash).</summary>
    public PretrainedTextEncoder Encoder => _encoder;

    /// <summary>The per-string cache (frozen and LoRA encoders), or null.</summary>
    public CachedTextEncoder? Cache => _cache;

    /// <summary>The per-string cache of the states below the lowest layer that trains, or null.</summary>
    public CachedTextEncoder? PrefixCache => _prefix;

    /// <summary>Longest token sequence per text ([CLS] and [SEP] included): the tokenizer's cap.</summary>
    public int MaxTokens => _encoder.Tokenizer.MaxTokens;

    /// <inheritdoc />
    public IReadOnlyCollection<string> ExternalTensors => _external;

    /// <summary>
    /// One token per WordPiece of each row: tokens [B, T, C] (T = the longest distinct text's length) and their
    /// mask bool [B, T], true = real token.
    /// </summary>
    public (Tensor Tokens, Tensor Mask) Tokens(IReadOnlyList<string> rows)
    {
        var (encoding, inverse) = EncodeDistinct(rows);
        using (encoding)
        {
            var projected = ln.forward(projection.forward(encoding.Hidden));            // [U, T, C]
            return (projected.index_select(0, inverse), encoding.Mask.index_select(0, inverse));
        }
    }

    /// <summary>One vector per row, [B, C]: the model's own pooling (mean for MiniLM, [CLS] for arctic) of its states, projected.</summary>
    public Tensor Pooled(IReadOnlyList<string> rows)
    {
        var (encoding, inverse) = EncodeDistinct(rows);
        using (encoding)
        {
            var pooled = BertEncoder.Pool(encoding.Hidden, encoding.Mask, _encoder.Info.Pooling);  // [U, 384]
            return ln.forward(projection.forward(pooled)).index_select(0, inverse);
        }
    }

    /// <summary>The distinct texts' states [U, T, 384] with mask [U, T], and each row's index into them, int64 [B].</summary>
    private (TextEncoding Encoding, Tensor Inverse) EncodeDistinct(IReadOnlyList<string> rows)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var distinct = new List<string>();
        var inverse = new long[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            if (!index.TryGetValue(rows[i], out int k))
            {
                k = distinct.Count;
                index[rows[i]] = k;
                distinct.Add(rows[i]);
            }
            inverse[i] = k;
        }
        // The cache holds states without gradients: right for a frozen encoder, and for adapters whenever none are recorded.
        bool cached = _cache is not null && (FineTune == TextEncoderFineTuning.Frozen || !is_grad_enabled() || !AdaptersTrain());
        TextEncoding encoding;
        if (cached) encoding = _cache!.Encode(distinct);
        else if (_prefix is not null)
        {
            using var below = _prefix.Encode(distinct);          // [U, T, 384] after the frozen layers, zeros past each text
            encoding = new TextEncoding(backbone.Suffix(below.Hidden, below.Mask, _prefix.Layers), below.Mask.alias());
        }
        else encoding = _encoder.Encode(distinct);
        return (encoding, tensor(inverse));
    }

    private bool AdaptersTrain()
    {
        foreach (var (_, layer) in backbone.Projections())
            if (layer.LoraA is { requires_grad: true } || layer.LoraB is { requires_grad: true }) return true;
        return false;
    }

    /// <inheritdoc />
    public void CheckSource(IReadOnlyDictionary<string, Tensor> tensors, string source)
    {
        if (!tensors.TryGetValue("base_sha256", out var stored)) return;  // reported as a missing tensor
        using var bytes = stored.to_type(ScalarType.Byte);
        string theirs = Convert.ToHexStringLower(bytes.data<byte>().ToArray());
        if (!string.Equals(theirs, _encoder.WeightsSha256, StringComparison.OrdinalIgnoreCase))
            throw new CheckpointException(
                $"{source}: the text encoder was trained on {_encoder.Info.Name} base weights with SHA-256 {theirs}, but {_encoder.Info.Package} {_encoder.Info.PackageVersion} here has {_encoder.WeightsSha256}.");
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _cache?.Dispose();
            _prefix?.Dispose();
        }
        base.Dispose(disposing);
    }
}
