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
    /// <remarks>
    /// Keys and values are affine in the normalised context z = ln_kv(context) [B, Lk, C], so the projections are moved
    /// to the query side: per head h, q_h·k_j = (q_h W_k,h)·z_j + q_h·b_k,h, whose last term is the same for every key
    /// and cancels in the softmax; and Σ_j a_j v_j = (Σ_j a_j z_j) W_v,hᵀ + b_v,h because the weights sum to one. That is
    /// the same attention with O(B·H·Lq·C) projection work instead of O(B·Lk·C²) — for one CLS query over 50 image and
    /// vector tokens about 25× fewer multiply-adds — and the context is never projected at all.
    /// </remarks>
    public Tensor forward(Tensor x, Tensor context, Tensor? contextMask)
    {
        long b = x.shape[0], lq = x.shape[1], lk = context.shape[1];
        int hs = _width / _heads, h = _heads;
        // Batched products arranged so every matmul is a 3-D bmm over heads (weights) or over rows (context), never a broadcast copy.
        var q = q_proj.forward(ln_q.forward(x)).view(b * lq, h, hs).transpose(0, 1);         // [H, B·Lq, hs]
        var w = kv_proj.weight!.view(2, h, hs, _width);                                       // W_k and W_v by head, [2, H, hs, C]
        var qk = q.bmm(w[0])                                                                  // q_h W_k,h: [H, B·Lq, C]
            .view(h, b, lq, _width).permute(1, 0, 2, 3).reshape(b, h * lq, _width);           // [B, H·Lq, C]
        var z = ln_kv.forward(context);                                                       // [B, Lk, C]
        var scores = qk.bmm(z.transpose(1, 2)).mul(1.0 / Math.Sqrt(hs));                    // [B, H·Lq, Lk]
        if (contextMask is not null) scores = scores.masked_fill(contextMask.view(b, 1, lk).logical_not(), double.NegativeInfinity);
        var mixed = scores.softmax(-1).bmm(z)                                                 // Σ_j a_j z_j: [B, H·Lq, C]
            .view(b, h, lq, _width).permute(1, 0, 2, 3).reshape(h, b * lq, _width);          // [H, B·Lq, C]
        var valueBias = kv_proj.bias!.view(2, h, 1, hs)[1];                                   // [H, 1, hs]
        var y = mixed.bmm(w[1].transpose(1, 2)).add(valueBias)                                // [H, B·Lq, hs]
            .transpose(0, 1).reshape(b, lq, _width);
        x = x.add(out_proj.forward(y));
        return x.add(proj.forward(F.gelu(fc.forward(ln_mlp.forward(x)))));
    }
}
