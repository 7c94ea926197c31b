using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Model;

/// <summary>
/// A Transformer block. Pre-LayerNorm (GPT-2, the default): x + attn(ln_1(x)), then x + mlp(ln_2(x)).
/// Post-LayerNorm (BERT): ln_1(x + attn(x)), then ln_2(x + mlp(x)); there ln_1 and ln_2 normalise
/// the residual sums, BERT's attention.output.LayerNorm and output.LayerNorm.
/// </summary>
internal sealed partial class Block : nn.Module<Tensor, Tensor?, bool, Tensor>
{
    private readonly LayerNorm ln_1;
    private readonly CausalSelfAttention attn;
    private readonly LayerNorm ln_2;
    private readonly Mlp mlp;
    private readonly bool _postLayerNorm;

    /// <param name="config">Widths, heads, bias, dropout, activation and LayerNorm epsilon.</param>
    /// <param name="generator">Initialisation randomness.</param>
    /// <param name="postLayerNorm">BERT's post-LN arrangement instead of GPT-2's pre-LN.</param>
    /// <param name="mlpWidth">Hidden width of the MLP; null = 4 C.</param>
    public Block(GptConfig config, Generator? generator, bool postLayerNorm = false, long? mlpWidth = null) : base(nameof(Block))
    {
        ln_1 = nn.LayerNorm(config.NEmbd, config.LayerNormEpsilon, bias: config.Bias);
        attn = new CausalSelfAttention(config, generator);
        ln_2 = nn.LayerNorm(config.NEmbd, config.LayerNormEpsilon, bias: config.Bias);
        mlp = new Mlp(config, generator, mlpWidth);
        _postLayerNorm = postLayerNorm;
        RegisterComponents();
    }

    /// <summary>x (B, T, C) → (B, T, C); mask and causal as in <see cref="CausalSelfAttention"/>.</summary>
    public override Tensor forward(Tensor x, Tensor? mask, bool causal)
    {
        if (_postLayerNorm)
        {
            x = ln_1.forward(x + attn.forward(x, mask, causal));
            return ln_2.forward(x + mlp.forward(x));
        }
        x = x + attn.forward(ln_1.forward(x), mask, causal);
        return x + mlp.forward(ln_2.forward(x));
    }

    /// <summary>
    /// The first <paramref name="queries"/> rows of <see cref="forward(Tensor, Tensor?, bool)"/>: x (B, T, C) → (B, N, C).
    /// Keys and values come from every position; the residual, the MLP and the queries only from the first N.
    /// </summary>
    public Tensor forward(Tensor x, Tensor? mask, bool causal, int queries)
    {
        var first = x.narrow(1, 0, queries);                                          // (B, N, C)
        if (_postLayerNorm)
        {
            first = ln_1.forward(first + attn.forward(x, mask, causal, queries));
            return ln_2.forward(first + mlp.forward(first));
        }
        first = first + attn.forward(ln_1.forward(x), mask, causal, queries);
        return first + mlp.forward(ln_2.forward(first));
    }
}
