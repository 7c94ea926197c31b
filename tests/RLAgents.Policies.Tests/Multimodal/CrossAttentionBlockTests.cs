using RLAgents.Environments;
using RLAgents.Policies.Multimodal;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RLAgents.Policies.Tests.Multimodal;

public sealed class CrossAttentionBlockTests
{
    /// <summary>The block as textbook attention: keys and values projected from the normalised context, then softmax(q·kᵀ/√hs)·v.</summary>
    private static Tensor Reference(CrossAttentionBlock block, Tensor x, Tensor context, Tensor? mask, int heads)
    {
        var p = block.named_parameters().ToDictionary(n => n.name, n => (Tensor)n.parameter);
        long b = x.shape[0], lq = x.shape[1], lk = context.shape[1], c = x.shape[2], hs = c / heads;
        Tensor Norm(Tensor t, string name) => F.layer_norm(t, [c], p[name + ".weight"], p[name + ".bias"], 1e-5);
        Tensor Linear(Tensor t, string name) => F.linear(t, p[name + ".weight"], p[name + ".bias"]);
        var q = Linear(Norm(x, "ln_q"), "q_proj").view(b, lq, heads, hs).transpose(1, 2);
        var kv = Linear(Norm(context, "ln_kv"), "kv_proj").split(c, dim: 2);
        var k = kv[0].view(b, lk, heads, hs).transpose(1, 2);
        var v = kv[1].view(b, lk, heads, hs).transpose(1, 2);
        var y = F.scaled_dot_product_attention(q, k, v, mask?.view(b, 1, 1, lk)).transpose(1, 2).reshape(b, lq, c);
        x = x.add(Linear(y, "out_proj"));
        return x.add(Linear(F.gelu(Linear(Norm(x, "ln_mlp"), "fc")), "proj"));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(3, true)]
    public void AttentionWithTheProjectionsMovedToTheQueriesEqualsTextbookAttention(int queries, bool masked)
    {
        using var scope = NewDisposeScope();
        using var block = new CrossAttentionBlock(32, 4, new Rng(3));
        using (no_grad())
            foreach (var (_, parameter) in block.named_parameters()) parameter.add_(randn(parameter.shape, generator: new Generator(5)).mul(0.1)); // biases and norms away from 0 and 1
        var g = new Generator(9);
        var x = randn([5, queries, 32], generator: g);
        var context = randn([5, 11, 32], generator: g);
        Tensor? mask = null;
        if (masked)
        {
            mask = ones(5, 11, dtype: ScalarType.Bool);
            mask[2, 4..] = false;
            mask[4, ..10] = false;
        }
        var expected = Reference(block, x, context, mask, heads: 4);
        var actual = block.forward(x, context, mask);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(actual.allclose(expected, rtol: 0, atol: 1e-5), $"largest difference {actual.sub(expected).abs().max().item<float>()}");
        // The masked positions matter: dropping the mask changes the rows that have one.
        if (masked) Assert.False(block.forward(x, context, null).allclose(actual, rtol: 0, atol: 1e-4));
    }
}
