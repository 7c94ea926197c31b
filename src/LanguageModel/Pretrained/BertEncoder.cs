using RLAgents.LanguageModel.Lora;
using RLAgents.LanguageModel.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Pretrained;

/// <summary>What to run a <see cref="BertEncoder"/> on.</summary>
/// <param name="TokenIds">WordPiece ids, int64 (B, T), [CLS] first; give this or <paramref name="Embeddings"/>.</param>
/// <param name="AttentionMask">Padding mask (B, T), bool or integer, nonzero = real token; null = no padding.</param>
/// <param name="TokenTypeIds">Segment ids (B, T) int64; null = all 0 (one segment).</param>
/// <param name="Embeddings">
/// Input vectors (B, T, C) used in place of the word embeddings (e.g. other modalities projected to
/// C); token-type and position embeddings and the embedding LayerNorm are still applied.
/// </param>
public sealed record BertInput(Tensor? TokenIds = null, Tensor? AttentionMask = null, Tensor? TokenTypeIds = null, Tensor? Embeddings = null);

/// <summary>How a text's token states become one vector.</summary>
public enum TextPooling
{
    /// <summary>Mean over the real (unpadded) tokens, [CLS] and [SEP] included, as sentence-transformers does.</summary>
    Mean,
    /// <summary>The [CLS] token's state (arctic-embed).</summary>
    Cls,
}

/// <summary>Which parameters of a pretrained encoder train.</summary>
public enum TextEncoderFineTuning
{
    /// <summary>Nothing trains; encodings can be cached per text (<see cref="CachedTextEncoder"/>).</summary>
    Frozen,
    /// <summary>LoRA adapters on the attention and MLP projections train; the base weights stay as loaded.</summary>
    Lora,
    /// <summary>Every parameter trains.</summary>
    Full,
    /// <summary>The top k layers train in full; the embeddings and the lower layers stay frozen.</summary>
    TopLayers,
}

/// <summary>
/// A BERT encoder (Devlin et al. 2019) in the Hugging Face <c>BertModel</c> arrangement: word +
/// position + token-type embeddings, LayerNorm, then post-LayerNorm Transformer layers with
/// bidirectional attention and GELU (erf) MLPs; no pooler. Its output is BERT's
/// <c>last_hidden_state</c>. The layers are the shared <see cref="Block"/> (fused q/k/v attention on
/// <c>scaled_dot_product_attention</c>, the same <see cref="AdaptableLinear"/> projections as
/// <see cref="GptModel"/>), so LoRA targets are named alike: <c>layers.{i}.attn.c_attn</c>,
/// <c>.attn.c_proj</c>, <c>.mlp.c_fc</c>, <c>.mlp.c_proj</c>; <c>layers.{i}.ln_1</c> and <c>.ln_2</c>
/// are BERT's attention-output and output LayerNorms. Pretrained weights come from
/// <see cref="PretrainedTextEncoders"/>.
/// </summary>
public sealed class BertEncoder : nn.Module<BertInput, Tensor>
{
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly LayerNorm ln_embeddings;
    private readonly Dropout drop;
    private readonly ModuleList<Block> layers;

    /// <summary>Builds the encoder with N(0, 0.02²) initialisation drawn from <paramref name="seed"/>; pretrained weights are loaded over it.</summary>
    public BertEncoder(BertConfig config, long seed = 0) : base(nameof(BertEncoder))
    {
        config.Validate();
        Config = config;
        using var generator = new Generator(unchecked((ulong)seed));
        word_embeddings = nn.Embedding(config.VocabSize, config.Width);
        position_embeddings = nn.Embedding(config.MaxPositions, config.Width);
        token_type_embeddings = nn.Embedding(config.TypeVocabSize, config.Width);
        using (no_grad())
        {
            word_embeddings.weight!.normal_(0, 0.02, generator);
            position_embeddings.weight!.normal_(0, 0.02, generator);
            token_type_embeddings.weight!.normal_(0, 0.02, generator);
        }
        ln_embeddings = nn.LayerNorm(config.Width, config.LayerNormEpsilon);
        drop = nn.Dropout(config.Dropout);
        var blockConfig = config.BlockConfig();
        layers = nn.ModuleList(Enumerable.Range(0, config.Layers)
            .Select(_ => new Block(blockConfig, generator, postLayerNorm: true, mlpWidth: config.MlpWidth)).ToArray());
        RegisterComponents();
    }

    /// <summary>The configuration this encoder was built with.</summary>
    public BertConfig Config { get; }

    /// <summary>Width C of the hidden states.</summary>
    public int Width => Config.Width;

    /// <summary>Number of parameters (adapters included once attached).</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>The LoRA-capable projections with their qualified names (e.g. <c>layers.0.attn.c_attn</c>).</summary>
    public IEnumerable<(string Name, AdaptableLinear Layer)> Projections() => AdaptableLinear.FindIn(this);

    /// <summary>Runs the encoder; returns the last hidden states (B, T, C), one per token (padded positions included, to be masked downstream).</summary>
    public override Tensor forward(BertInput input) => Prefix(input, Config.Layers);

    /// <summary>
    /// The embeddings and the first <paramref name="layers"/> layers: hidden states (B, T, C) after layer
    /// <paramref name="layers"/> − 1 (0: the embedding output). <see cref="Suffix"/> runs the rest.
    /// </summary>
    public Tensor Prefix(BertInput input, int layers)
    {
        if (layers < 0 || layers > Config.Layers) throw new ArgumentOutOfRangeException(nameof(layers), layers, $"layers must be in [0, {Config.Layers}].");
        if ((input.TokenIds is null) == (input.Embeddings is null))
            throw new ArgumentException("Give exactly one of TokenIds (B, T) and Embeddings (B, T, C).", nameof(input));
        var x = input.Embeddings ?? word_embeddings.forward(input.TokenIds!);  // (B, T, C)
        if (x.dim() != 3 || x.shape[2] != Width)
            throw new ArgumentException($"Embeddings must be (B, T, {Width}), got ({string.Join(", ", x.shape)}).", nameof(input));
        long b = x.shape[0], t = x.shape[1];
        if (t > Config.MaxPositions)
            throw new ArgumentException($"Sequence length {t} exceeds the encoder's {Config.MaxPositions} positions.", nameof(input));

        // BERT's order of sums: (word + token type) + position, then LayerNorm.
        using var positions = arange(t, dtype: int64, device: x.device);
        if (input.TokenTypeIds is { } types) x = x + token_type_embeddings.forward(types);
        else
        {
            using var segment = zeros(b, t, dtype: int64, device: x.device);
            x = x + token_type_embeddings.forward(segment);
        }
        x = drop.forward(ln_embeddings.forward(x + position_embeddings.forward(positions)));  // (B, T, C) + (T, C)

        var mask = input.AttentionMask is null ? null : KeyMask(input.AttentionMask, b, t);
        for (int i = 0; i < layers; i++) x = this.layers[i].forward(x, mask, false);
        return x;
    }

    /// <summary>
    /// Layers <paramref name="from"/> … L − 1 on <paramref name="hidden"/> (B, T, C), the states after layer
    /// <paramref name="from"/> − 1 (from <see cref="Prefix"/>, possibly cached), with the padding mask (B, T) of
    /// <see cref="BertInput.AttentionMask"/>: the same last hidden states as <see cref="forward"/> at real tokens.
    /// </summary>
    public Tensor Suffix(Tensor hidden, Tensor? attentionMask, int from)
    {
        if (from < 0 || from > Config.Layers) throw new ArgumentOutOfRangeException(nameof(from), from, $"from must be in [0, {Config.Layers}].");
        long b = hidden.shape[0], t = hidden.shape[1];
        var mask = attentionMask is null ? null : KeyMask(attentionMask, b, t);
        var x = hidden;
        for (int i = from; i < Config.Layers; i++) x = layers[i].forward(x, mask, false);
        return x;
    }

    /// <summary>
    /// True when parameter <paramref name="name"/> shapes the states after the first <paramref name="layers"/> layers
    /// (the embeddings and layers 0 … <paramref name="layers"/> − 1).
    /// </summary>
    public static bool ShapesPrefix(string name, int layers)
    {
        if (!name.StartsWith("layers.", StringComparison.Ordinal)) return true;
        int end = name.IndexOf('.', 7);
        return int.Parse(name.AsSpan(7, end - 7), System.Globalization.CultureInfo.InvariantCulture) < layers;
    }

    /// <summary>The lowest layer with a trainable parameter or adapter, or null when nothing below the top trains outside the layers (embeddings trainable) or nothing trains.</summary>
    public int? LowestTrainableLayer()
    {
        int? lowest = null;
        foreach (var (name, p) in named_parameters())
        {
            if (!p.requires_grad) continue;
            if (!name.StartsWith("layers.", StringComparison.Ordinal)) return null;
            int end = name.IndexOf('.', 7);
            int layer = int.Parse(name.AsSpan(7, end - 7), System.Globalization.CultureInfo.InvariantCulture);
            lowest = Math.Min(lowest ?? layer, layer);
        }
        return lowest;
    }

    /// <summary>
    /// Padding mask (B, T) → bool (B, 1, T, T), true = query i may attend key j, which holds when key j
    /// is a real token; padded queries attend the real keys too, as in BERT, so outputs at padded
    /// positions match the reference (they are ignored downstream). Null when nothing is padded, so
    /// the fused attention kernel runs. A row without any real token is an error (softmax over nothing).
    /// </summary>
    private static Tensor? KeyMask(Tensor attentionMask, long b, long t)
    {
        if (attentionMask.dim() != 2 || attentionMask.shape[0] != b || attentionMask.shape[1] != t)
            throw new ArgumentException($"AttentionMask must be (B, T) = ({b}, {t}), got ({string.Join(", ", attentionMask.shape)}).");
        using var keys = attentionMask.to(@bool);
        using var realPerRow = keys.any(1);
        if (!realPerRow.all().item<bool>()) throw new ArgumentException("AttentionMask has a row without any real token.");
        using var all = keys.all();
        if (all.item<bool>()) return null;
        return keys.view(b, 1, 1, t).expand(b, 1, t, t);
    }

    /// <summary>
    /// Token states (B, T, C) → one vector per text (B, C): the masked mean over real tokens or the
    /// [CLS] state. <paramref name="attentionMask"/> (B, T), nonzero = real; null = nothing padded.
    /// </summary>
    public static Tensor Pool(Tensor hidden, Tensor? attentionMask, TextPooling pooling)
    {
        if (pooling == TextPooling.Cls) return hidden[.., 0];
        if (attentionMask is null) return hidden.mean([1]);
        using var scope = NewDisposeScope();
        var weights = attentionMask.to(hidden.dtype).unsqueeze(-1);                // (B, T, 1)
        var sum = (hidden * weights).sum(1);                                       // (B, C)
        return (sum / weights.sum(1).clamp_min(1e-9)).MoveToOuterDisposeScope();  // (B, C) / (B, 1)
    }

    /// <summary>
    /// Sets which parameters train: <see cref="TextEncoderFineTuning.Frozen"/> none,
    /// <see cref="TextEncoderFineTuning.Full"/> all, <see cref="TextEncoderFineTuning.TopLayers"/>
    /// the top <paramref name="topLayers"/> layers, <see cref="TextEncoderFineTuning.Lora"/> only
    /// adapters, which it attaches with <paramref name="lora"/> (default <see cref="LoraOptions"/>)
    /// through <see cref="LoraAdapters.Attach"/>, on every layer or, with <paramref name="loraLayers"/>, on the top
    /// ones only (the layers below then stay exactly as pretrained). Returns the names of the parameters that now
    /// train. Call it once, before building the optimiser.
    /// </summary>
    public IReadOnlyList<string> ConfigureFineTuning(TextEncoderFineTuning mode, int topLayers = 0, LoraOptions? lora = null, int? loraLayers = null)
    {
        switch (mode)
        {
            case TextEncoderFineTuning.Lora:
                var options = lora ?? new LoraOptions();
                if (loraLayers is int top)
                {
                    if (top < 1 || top > Config.Layers) throw new ArgumentOutOfRangeException(nameof(loraLayers), top, $"loraLayers must be in [1, {Config.Layers}].");
                    // Targets named by layer ("layers.4.attn.c_attn") match those projections only.
                    options = new LoraOptions
                    {
                        Rank = options.Rank, Alpha = options.Alpha, Dropout = options.Dropout, Seed = options.Seed,
                        TargetModules = [.. Enumerable.Range(Config.Layers - top, top).SelectMany(i => options.TargetModules.Select(t => $"layers.{i}.{t}"))],
                    };
                }
                LoraAdapters.Attach(this, options);
                break;
            case TextEncoderFineTuning.TopLayers:
                if (topLayers < 1 || topLayers > Config.Layers)
                    throw new ArgumentOutOfRangeException(nameof(topLayers), topLayers, $"topLayers must be in [1, {Config.Layers}].");
                var trainable = Enumerable.Range(Config.Layers - topLayers, topLayers).Select(i => $"layers.{i}.").ToList();
                foreach (var (name, p) in named_parameters()) p.requires_grad = trainable.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal));
                break;
            default:
                foreach (var (_, p) in named_parameters()) p.requires_grad = mode == TextEncoderFineTuning.Full;
                break;
        }
        return named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
    }

    /// <summary>Whether no parameter requires gradients (the state <see cref="CachedTextEncoder"/> relies on).</summary>
    public bool IsFrozen => parameters().All(p => !p.requires_grad);
}
