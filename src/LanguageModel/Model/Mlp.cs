using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RLAgents.LanguageModel.Model;

/// <summary>The position-wise feed-forward network: C → H → GELU → C, H = 4C unless given (BERT reads it from its weights).</summary>
internal sealed partial class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly AdaptableLinear c_fc;
    private readonly AdaptableLinear c_proj;
    private readonly TorchSharp.Modules.Dropout dropout;
    private readonly TorchSharp.Modules.GELU.Approximate _approximate;

    public Mlp(GptConfig config, Generator? generator, long? hiddenWidth = null) : base(nameof(Mlp))
    {
        long hidden = hiddenWidth ?? 4L * config.NEmbd;
        c_fc = new AdaptableLinear(config.NEmbd, hidden, config.Bias, 0.02, generator);
        c_proj = new AdaptableLinear(hidden, config.NEmbd, config.Bias, 0.02 / Math.Sqrt(2.0 * config.NLayer), generator);
        dropout = nn.Dropout(config.Dropout);
        _approximate = config.Activation == GptActivation.GeluTanh ? TorchSharp.Modules.GELU.Approximate.tanh : TorchSharp.Modules.GELU.Approximate.none;
        RegisterComponents();
    }

    /// <summary>x (B, T, C) → (B, T, C).</summary>
    public override Tensor forward(Tensor x) =>
        dropout.forward(c_proj.forward(F.gelu(c_fc.forward(x), _approximate)));
}
