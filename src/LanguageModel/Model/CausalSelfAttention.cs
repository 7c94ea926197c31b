using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RLAgents.LanguageModel.Model;

/// <summary>
/// Multi-head self-attention with one fused q/k/v projection, computed by
/// scaled_dot_product_attention (fused kernels on CPU when no explicit mask is given).
/// </summary>
internal sealed partial class CausalSelfAttention : nn.Module<Tensor, Tensor?, bool, Tensor>
{
    private readonly AdaptableLinear c_attn;
    private readonly AdaptableLinear c_proj;
    private readonly TorchSharp.Modules.Dropout resid_dropout;
    private readonly int _nHead;
    private readonly double _attnDropout;

    public CausalSelfAttention(GptConfig config, Generator? generator) : base(nameof(CausalSelfAttention))
    {
        c_attn = new AdaptableLinear(config.NEmbd, 3L * config.NEmbd, config.Bias, 0.02, generator);
        // GPT-2 scales residual projections by 1/√(2·nLayer) so the residual stream's variance stays O(1) with depth.
        c_proj = new AdaptableLinear(config.NEmbd, config.NEmbd, config.Bias, 0.02 / Math.Sqrt(2.0 * config.NLayer), generator);
        resid_dropout = nn.Dropout(config.Dropout);
        _nHead = config.NHead;
        _attnDropout = config.Dropout;
        RegisterComponents();
    }

    /// <summary>
    /// x (B, T, C); mask null or bool (B, 1, T, T) with true = may attend (then it already encodes
    /// causality); causal is used only when mask is null.
    /// </summary>
    public override Tensor forward(Tensor x, Tensor? mask, bool causal) => forward(x, mask, causal, (int)x.shape[1]);

    /// <summary>
    /// As <see cref="forward(Tensor, Tensor?, bool)"/> for the first <paramref name="queries"/> positions only: (B, N, C), every
    /// position still a key. A causal pattern then needs an explicit mask (the fused causal kernel assumes N = T).
    /// </summary>
    public Tensor forward(Tensor x, Tensor? mask, bool causal, int queries)
    {
        long b = x.shape[0], t = x.shape[1], c = x.shape[2], n = queries;
        // (B, T, 3C) → three (B, T, C) → (B, nh, T, hs); the queries keep their first N positions
        var qkv = c_attn.forward(x).split(c, dim: 2);
        var q = (n == t ? qkv[0] : qkv[0].narrow(1, 0, n)).view(b, n, _nHead, c / _nHead).transpose(1, 2);
        var k = qkv[1].view(b, t, _nHead, c / _nHead).transpose(1, 2);
        var v = qkv[2].view(b, t, _nHead, c / _nHead).transpose(1, 2);
        double p = training ? _attnDropout : 0.0;
        if (n < t && mask is null && causal) mask = ones(n, t, dtype: ScalarType.Bool, device: x.device).tril();   // query i sees keys ≤ i
        else if (n < t && mask is not null) mask = mask.narrow(2, 0, n);                                        // (B, 1, N, T)
        // (B, nh, N, hs); libtorch rejects an explicit mask together with is_causal, hence the split.
        var y = mask is null
            ? F.scaled_dot_product_attention(q, k, v, null, p, causal)
            : F.scaled_dot_product_attention(q, k, v, mask, p, false);
        // (B, nh, N, hs) → (B, N, C)
        y = y.transpose(1, 2).contiguous().view(b, n, c);
        return resid_dropout.forward(c_proj.forward(y));
    }
}
