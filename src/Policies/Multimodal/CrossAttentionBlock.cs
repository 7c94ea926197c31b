using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RLAgents.Policies.Multimodal;

/// <summary>
/// A pre-LayerNorm cross-attention block: queries from one sequence (text tokens) attend to
/// another (image and vector tokens), then an MLP; both with residual connections.
/// x [B, Lq, C], context [B, Lk, C] (optionally with a key mask, bool [B, Lk], true = attend) → [B, Lq, C].
/// </summary>
public sealed partial class CrossAttentionBlock : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly LayerNorm ln_q;
    private readonly LayerNorm ln_kv;
    private readonly Linear q_proj;
    private readonly Linear kv_proj;
    private readonly Linear out_proj;
    private readonly LayerNorm ln_mlp;
    private readonly Linear fc;
    private readonly Linear proj;
    private readonly int _heads, _width;

    /// <summary>Creates the block of width <paramref name="width"/> with <paramref name="heads"/> heads.</summary>
    public CrossAttentionBlock(int width, int heads, Environments.Rng rng) : base(nameof(CrossAttentionBlock))
    {
        if (width % heads != 0) throw new ArgumentException($"Cross-attention width {width} must be a multiple of the head count {heads}.");
        (_width, _heads) = (width, heads);
        ln_q = nn.LayerNorm(width);
        ln_kv = nn.LayerNorm(width);
        q_proj = nn.Linear(width, width);
        kv_proj = nn.Linear(width, 2 * width);
        out_proj = nn.Linear(width, width);
        ln_mlp = nn.LayerNorm(width);
        fc = nn.Linear(width, 4 * width);
        proj = nn.Linear(4 * width, width);
        foreach (var layer in new[] { q_proj, kv_proj, out_proj, fc, proj }) Networks.Init.Linear(layer, rng, null);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x, Tensor context) => forward(x, context, null);

    /// <summary>As <see cref="forward(Tensor, Tensor)"/>, with context positions where <paramref name="contextMask"/> is false left out (each row needs one true entry).</summary>
    public Tensor forward(Tensor x, Tensor context, Tensor? contextMask)
    {
        long b = x.shape[0], lq = x.shape[1], lk = context.shape[1];
        int hs = _width / _heads;
        // [B, L, C] → [B, H, L, hs]
        var q = q_proj.forward(ln_q.forward(x)).view(b, lq, _heads, hs).transpose(1, 2);
        var kv = kv_proj.forward(ln_kv.forward(context)).split(_width, dim: 2);
        var k = kv[0].view(b, lk, _heads, hs).transpose(1, 2);
        var v = kv[1].view(b, lk, _heads, hs).transpose(1, 2);
        var attend = contextMask?.view(b, 1, 1, lk);                                 // broadcast over heads and queries
        var y = F.scaled_dot_product_attention(q, k, v, attend).transpose(1, 2).contiguous().view(b, lq, _width);
        x = x.add(out_proj.forward(y));
        return x.add(proj.forward(F.gelu(fc.forward(ln_mlp.forward(x)))));
    }
}
