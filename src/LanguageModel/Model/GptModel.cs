using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RLAgents.LanguageModel.Model;

/// <summary>What to run the backbone on: token ids or precomputed embeddings, and an optional padding mask.</summary>
/// <param name="TokenIds">Token ids, int64 (B, T); give this or <paramref name="Embeddings"/>.</param>
/// <param name="Embeddings">
/// Input vectors (B, T, C), e.g. <see cref="GptModel.EmbedTokens"/> output concatenated with image or
/// vector encodings along T. Position embeddings are added inside the model either way.
/// </param>
/// <param name="AttentionMask">Padding mask (B, T), bool or integer, nonzero = real position; null = no padding.</param>
/// <param name="Causal">Causal (true) or bidirectional (false) attention; null = <see cref="GptConfig.Causal"/>.</param>
/// <param name="ComputeLogits">Whether to apply the LM head (skip it when only hidden states are needed).</param>
/// <param name="FirstPositions">
/// Read out only the first N positions (e.g. 1 for a [CLS] readout): the last block still attends over every key
/// but computes its queries, MLP and the final LayerNorm for those N positions alone, so the outputs are (B, N, …)
/// and equal the first N rows of the full forward. Null: every position.
/// </param>
public sealed record GptInput(
    Tensor? TokenIds = null,
    Tensor? Embeddings = null,
    Tensor? AttentionMask = null,
    bool? Causal = null,
    bool ComputeLogits = true,
    int? FirstPositions = null);

/// <summary>The backbone's outputs.</summary>
/// <param name="HiddenStates">Final-LayerNorm hidden states (B, T, C), one per position (T = <see cref="GptInput.FirstPositions"/> when given), for heads.</param>
/// <param name="Logits">Next-token logits (B, T, V), or null when not requested.</param>
public sealed record GptOutput(Tensor HiddenStates, Tensor? Logits);

/// <summary>
/// A GPT decoder in the nanoGPT / GPT-2 shape: learned token and position embeddings, a stack of
/// pre-LayerNorm blocks, a final LayerNorm, and an LM head tied to the token embedding
/// (logits = h · Wteᵀ, so there is no separate head matrix). Parameter names follow GPT-2
/// (<c>wte</c>, <c>wpe</c>, <c>h.{i}.attn.c_attn</c>, …, <c>ln_f</c>), which keeps the Hugging Face mapping direct.
/// </summary>
public sealed partial class GptModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding wte;
    private readonly Embedding wpe;
    private readonly Dropout drop;
    private readonly ModuleList<Block> h;
    private readonly LayerNorm ln_f;

    // TorchSharp 0.107's nn.init.normal_ ignores its generator argument, so initialisation calls Tensor.normal_(mean, std, generator).
    /// <summary>Builds the model with GPT-2 initialisation drawn from <paramref name="seed"/> (independent of the global torch RNG).</summary>
    public GptModel(GptConfig config, long seed = 0) : base(nameof(GptModel))
    {
        config.Validate();
        Config = config.Clone();
        var generator = new Generator((ulong)seed);
        wte = nn.Embedding(config.VocabSize, config.NEmbd);
        wpe = nn.Embedding(config.BlockSize, config.NEmbd);
        using (no_grad())
        {
            wte.weight!.normal_(0, 0.02, generator);
            wpe.weight!.normal_(0, 0.02, generator);
        }
        drop = nn.Dropout(config.Dropout);
        h = nn.ModuleList(Enumerable.Range(0, config.NLayer).Select(_ => new Block(config, generator)).ToArray());
        ln_f = nn.LayerNorm(config.NEmbd, config.LayerNormEpsilon, bias: config.Bias);
        generator.Dispose();
        RegisterComponents();
    }

    /// <summary>The configuration this model was built with (a copy).</summary>
    public GptConfig Config { get; }

    /// <summary>The token embedding table Wte (V, C), also the LM head's weight.</summary>
    public Parameter TokenEmbeddingWeight => wte.weight!;

    /// <summary>Token ids (B, T) int64 → token embeddings (B, T, C), without positions; for fusing with other modalities.</summary>
    public Tensor EmbedTokens(Tensor tokenIds) => wte.forward(tokenIds);

    /// <summary>Hidden states (…, C) → logits (…, V) through the tied head.</summary>
    public Tensor LanguageModelHead(Tensor hidden) => F.linear(hidden, wte.weight!);

    /// <summary>Token ids (B, T) → logits (B, T, V) with the configured attention pattern.</summary>
    public override Tensor forward(Tensor tokenIds) => forward(new GptInput(TokenIds: tokenIds)).Logits!;

    /// <summary>Runs the backbone; see <see cref="GptInput"/>.</summary>
    public GptOutput forward(GptInput input)
    {
        if ((input.TokenIds is null) == (input.Embeddings is null))
            throw new ArgumentException("Give exactly one of TokenIds (B, T) and Embeddings (B, T, C).", nameof(input));
        var x = input.Embeddings ?? EmbedTokens(input.TokenIds!);
        if (x.dim() != 3 || x.shape[2] != Config.NEmbd)
            throw new ArgumentException($"Embeddings must be (B, T, {Config.NEmbd}), got ({string.Join(", ", x.shape)}).", nameof(input));
        long b = x.shape[0], t = x.shape[1];
        if (t > Config.BlockSize)
            throw new ArgumentException($"Sequence length {t} exceeds the block size {Config.BlockSize}.", nameof(input));

        if (input.FirstPositions is < 1 || input.FirstPositions > t)
            throw new ArgumentException($"FirstPositions must be in [1, {t}], got {input.FirstPositions}.", nameof(input));
        bool causal = input.Causal ?? Config.Causal;
        var positions = arange(t, dtype: int64, device: x.device);
        x = drop.forward(x + wpe.forward(positions));  // (B, T, C) + (T, C)
        var mask = input.AttentionMask is null ? null : BuildMask(input.AttentionMask, b, t, causal);
        for (int i = 0; i < h.Count; i++)
            x = i == h.Count - 1 && input.FirstPositions is int n && n < t ? h[i].forward(x, mask, causal, n) : h[i].forward(x, mask, causal);
        x = ln_f.forward(x);
        return new GptOutput(x, input.ComputeLogits ? LanguageModelHead(x) : null);
    }

    /// <summary>
    /// Padding mask (B, T) → bool (B, 1, T, T), true = query i may attend key j: key j is real and,
    /// when causal, j ≤ i. Every position may also attend itself, so rows of padded queries are never
    /// fully masked (a fully masked row gives NaN in softmax); their outputs are ignored downstream.
    /// </summary>
    private static Tensor BuildMask(Tensor attentionMask, long b, long t, bool causal)
    {
        if (attentionMask.dim() != 2 || attentionMask.shape[0] != b || attentionMask.shape[1] != t)
            throw new ArgumentException($"AttentionMask must be (B, T) = ({b}, {t}), got ({string.Join(", ", attentionMask.shape)}).");
        var keys = attentionMask.to(@bool).view(b, 1, 1, t);
        var allowed = causal ? keys.logical_and(ones(t, t, dtype: @bool, device: keys.device).tril()) : keys.expand(b, 1, t, t);
        return allowed.logical_or(eye(t, dtype: @bool, device: keys.device));
    }

    /// <summary>
    /// Number of parameters; with <paramref name="excludePositionEmbeddings"/> the position table is
    /// left out (it does no multiply-adds), the usual count for FLOP estimates.
    /// </summary>
    public long ParameterCount(bool excludePositionEmbeddings = false)
    {
        long n = parameters().Sum(p => p.numel());
        return excludePositionEmbeddings ? n - wpe.weight!.numel() : n;
    }

    /// <summary>The LoRA-capable projections with their qualified names (e.g. <c>h.0.attn.c_attn</c>).</summary>
    public IEnumerable<(string Name, AdaptableLinear Layer)> Projections() => AdaptableLinear.FindIn(this);
}
