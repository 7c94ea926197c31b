using RLAgents.LanguageModel.Model;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RLAgents.LanguageModel.Training;

/// <summary>The next-token objective.</summary>
public static class CausalLanguageModeling
{
    /// <summary>Label value excluded from the loss (prompt, padding), as in PyTorch's cross_entropy.</summary>
    public const long IgnoreIndex = -100;

    /// <summary>
    /// Mean cross-entropy of predicting <paramref name="targets"/> (B, T) from <paramref name="inputs"/>
    /// (B, T); target positions equal to <see cref="IgnoreIndex"/> are left out. A scalar tensor.
    /// </summary>
    public static Tensor Loss(GptModel model, Tensor inputs, Tensor targets, Tensor? attentionMask = null)
    {
        var logits = model.forward(new GptInput(TokenIds: inputs, AttentionMask: attentionMask)).Logits!;  // (B, T, V)
        return F.cross_entropy(logits.view(-1, logits.shape[^1]), targets.reshape(-1), ignore_index: IgnoreIndex);
    }
}
