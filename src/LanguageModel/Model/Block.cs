using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Model;

/// <summary>A pre-LayerNorm Transformer block: x + attn(ln(x)), then x + mlp(ln(x)).</summary>
internal sealed class Block : nn.Module<Tensor, Tensor?, bool, Tensor>
{
    private readonly LayerNorm ln_1;
    private readonly CausalSelfAttention attn;
    private readonly LayerNorm ln_2;
    private readonly Mlp mlp;

    public Block(GptConfig config, Generator? generator) : base(nameof(Block))
    {
        ln_1 = nn.LayerNorm(config.NEmbd, config.LayerNormEpsilon, bias: config.Bias);
        attn = new CausalSelfAttention(config, generator);
        ln_2 = nn.LayerNorm(config.NEmbd, config.LayerNormEpsilon, bias: config.Bias);
        mlp = new Mlp(config, generator);
        RegisterComponents();
    }

    /// <summary>x (B, T, C) → (B, T, C); mask and causal as in <see cref="CausalSelfAttention"/>.</summary>
    public override Tensor forward(Tensor x, Tensor? mask, bool causal)
    {
        x = x + attn.forward(ln_1.forward(x), mask, causal);
        return x + mlp.forward(ln_2.forward(x));
    }
}
