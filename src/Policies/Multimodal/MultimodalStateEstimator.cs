using RLAgents.Environments;
using RLAgents.LanguageModel.Model;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Policies.Multimodal;

/// <summary>
/// The multimodal Transformer state estimator: observations → tokens (one encoder per modality,
/// in the space's fixed order: image cells with 2-D positions, vectors and discrete values as
/// single tokens, text through the backbone's own token embedding) plus a modality-type embedding
/// per token and a learned [CLS] token; the GPT backbone runs with bidirectional attention and a
/// padding mask; <see cref="FusionMode"/> decides how the modalities meet. Output: state [B, D].
/// </summary>
public sealed class MultimodalStateEstimator : StateEstimator
{
    private readonly GptModel backbone;
    private readonly ModuleList<TokenEncoder> encoders;
    private readonly Embedding modality_type;
    private readonly Parameter cls;
    private readonly CrossAttentionBlock? cross;
    private readonly LayerNorm? ln_cross;
    private readonly ModuleList<Linear>? fusion;
    private readonly Tensor modalityIds;
    private readonly int[] _encoderOf;   // modality → encoder index, −1 for text
    private readonly FusionMode _fusion;
    private readonly int _padId, _textTokens, _stateSize;

    /// <summary>
    /// Builds the estimator for <paramref name="space"/> around <paramref name="backboneModel"/>;
    /// text modalities arrive as token ids [B, <see cref="MultimodalOptions.MaxTextTokens"/>] padded with <paramref name="padId"/>.
    /// </summary>
    public MultimodalStateEstimator(ObservationSpace space, MultimodalOptions options, GptModel backboneModel, int padId, Rng rng)
        : base(nameof(MultimodalStateEstimator))
    {
        Space = space;
        backbone = backboneModel;
        _fusion = options.Fusion;
        _padId = padId;
        _textTokens = options.MaxTextTokens;
        int width = backboneModel.Config.NEmbd;
        encoders = new ModuleList<TokenEncoder>();
        _encoderOf = new int[space.Count];
        int spatialTokens = 0, otherTokens = 0, texts = 0;
        for (int m = 0; m < space.Count; m++)
        {
            if (space[m].Space is TextSpace) { _encoderOf[m] = -1; texts++; continue; }
            var encoder = TokenEncoder.Create(space[m], width, rng);
            _encoderOf[m] = encoders.Count;
            encoders.Add(encoder);
            if (encoder.IsSpatial) spatialTokens += encoder.TokenCount; else otherTokens += encoder.TokenCount;
        }
        modality_type = nn.Embedding(space.Count, width);
        Init.Embedding(modality_type, rng);
        cls = new Parameter(tensor(Enumerable.Range(0, width).Select(_ => (float)(0.02 * rng.NextNormal())).ToArray(), [1, 1, width]));
        modalityIds = arange(space.Count, dtype: int64);

        int longest = _fusion switch
        {
            FusionMode.Early => 1 + spatialTokens + otherTokens + texts * _textTokens,
            FusionMode.Late => Math.Max(spatialTokens, Math.Max(_textTokens, 1)),
            _ => 1 + texts * _textTokens,
        };
        if (longest > backboneModel.Config.BlockSize)
            throw new ArgumentException($"{_fusion} fusion of {space} needs {longest} positions but the backbone's blockSize is {backboneModel.Config.BlockSize}.");
        SequenceLength = longest;

        switch (_fusion)
        {
            case FusionMode.Early:
                _stateSize = width;
                break;
            case FusionMode.CrossAttention:
                if (texts == 0) throw new ArgumentException($"CrossAttention fusion needs a text modality; {space} has none.");
                if (encoders.Count == 0) throw new ArgumentException($"CrossAttention fusion needs an image or vector modality; {space} has only text.");
                cross = new CrossAttentionBlock(width, backboneModel.Config.NHead, rng);
                ln_cross = nn.LayerNorm(width);
                _stateSize = width;
                break;
            default:
                fusion = new ModuleList<Linear>();
                int inWidth = width * space.Count;
                foreach (int h in options.FusionHiddenSizes)
                {
                    var layer = nn.Linear(inWidth, h);
                    Init.Linear(layer, rng, Math.Sqrt(2));
                    fusion.Add(layer);
                    inWidth = h;
                }
                _stateSize = inWidth;
                break;
        }
        RegisterComponents();
    }

    /// <summary>The observation layout read.</summary>
    public ObservationSpace Space { get; }

    /// <summary>The GPT backbone (shared by every modality).</summary>
    public GptModel Backbone => backbone;

    /// <summary>The fusion mode.</summary>
    public FusionMode Fusion => _fusion;

    /// <summary>Longest sequence the backbone sees per observation.</summary>
    public int SequenceLength { get; }

    /// <inheritdoc />
    public override int StateSize => _stateSize;

    /// <inheritdoc />
    public override Tensor forward(ObservationInput input)
    {
        long b = input.Count;
        using var types = modality_type.forward(modalityIds); // [M, C]
        var tokens = new Tensor[Space.Count];                   // each [B, n_m, C]
        var masks = new Tensor?[Space.Count];                   // text: bool [B, L], true = real token
        for (int m = 0; m < Space.Count; m++)
        {
            if (_encoderOf[m] < 0)
            {
                var ids = input[m];
                masks[m] = ids.ne(_padId);
                tokens[m] = backbone.EmbedTokens(ids).add(types[m]);
            }
            else tokens[m] = encoders[_encoderOf[m]].forward(input[m]).add(types[m]);
        }
        var clsToken = cls.expand(b, 1, cls.shape[2]);
        if (_fusion == FusionMode.Late) return Late(tokens, masks);
        var (text, textMask) = PackText(input, b);
        var nonText = Enumerable.Range(0, Space.Count).Where(m => _encoderOf[m] >= 0).Select(m => tokens[m]).ToArray();
        return _fusion == FusionMode.Early ? Early(clsToken, nonText, text, textMask, b) : Cross(clsToken, nonText, text!, textMask!, b);
    }

    /// <summary>
    /// Every text modality's ids in order, real tokens packed to the front and pads to the end of
    /// the row (a stable sort on "is pad"), so no pad shifts the positions of later text: [B, T·L, C]
    /// with its mask [B, T·L], or nulls without text.
    /// </summary>
    private (Tensor? Tokens, Tensor? Mask) PackText(ObservationInput input, long b)
    {
        var texts = Enumerable.Range(0, Space.Count).Where(m => _encoderOf[m] < 0).ToArray();
        if (texts.Length == 0) return (null, null);
        var ids = cat(texts.Select(m => input[m]).ToArray(), 1);                                     // [B, T·L]
        var kinds = cat(texts.Select(m => full(b, input[m].shape[1], (long)m, dtype: int64)).ToArray(), 1);
        var order = ids.eq(_padId).to_type(ScalarType.Int32).sort(1, stable: true).Indices;
        var packed = ids.gather(1, order);
        var embeddings = backbone.EmbedTokens(packed).add(modality_type.forward(kinds.gather(1, order)));
        return (embeddings, packed.ne(_padId));
    }

    private Tensor Early(Tensor clsToken, Tensor[] nonText, Tensor? text, Tensor? textMask, long b)
    {
        // [CLS, image cells, vectors, packed text]: text last, so its padding sits at the very end.
        Tensor[] parts = text is null ? [clsToken, .. nonText] : [clsToken, .. nonText, text];
        var sequence = cat(parts, 1); // [B, 1 + Σ n_m, C]
        Tensor? mask = null;
        if (textMask is not null) mask = cat([ones(b, sequence.shape[1] - textMask.shape[1], dtype: @bool), textMask], 1);
        return Run(sequence, mask).select(1, 0);
    }

    private Tensor Late(Tensor[] tokens, Tensor?[] masks)
    {
        var pooled = new Tensor[tokens.Length];
        for (int m = 0; m < tokens.Length; m++)
        {
            var hidden = Run(tokens[m], masks[m]); // [B, n_m, C]
            if (masks[m] is { } mask)
            {
                // Masked mean: padded positions contribute nothing; an empty text pools to zeros.
                var weights = mask.to_type(ScalarType.Float32).unsqueeze(-1);
                pooled[m] = hidden.mul(weights).sum(1).div(weights.sum(1).clamp_min(1));
            }
            else pooled[m] = hidden.mean([1]);
        }
        var x = cat(pooled, 1); // [B, M·C]
        foreach (var layer in fusion!) x = layer.forward(x).tanh();
        return x;
    }

    private Tensor Cross(Tensor clsToken, Tensor[] nonText, Tensor text, Tensor textMask, long b)
    {
        var sequence = cat([clsToken, text], 1);                                   // [B, 1 + T·L, C]
        var mask = cat([ones(b, 1, dtype: @bool), textMask], 1);
        var hidden = Run(sequence, mask);
        var context = cat(nonText, 1);                                             // [B, image cells + vectors, C]
        var fused = cross!.forward(hidden, context);
        return ln_cross!.forward(fused.select(1, 0));
    }

    private Tensor Run(Tensor embeddings, Tensor? mask) =>
        backbone.forward(new GptInput(Embeddings: embeddings, AttentionMask: mask, Causal: false, ComputeLogits: false)).HiddenStates;
}
