using RLAgents.LanguageModel.Onnx;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Model;

// The GPT backbone's inference pass written as ONNX (see OnnxGraphBuilder): one partial per module,
// each the ONNX twin of that module's forward, in the order the forward calls them. Dropout is the
// identity at inference and writes nothing.

public sealed partial class GptModel : IOnnxExportable
{
    /// <summary>
    /// Writes the backbone on precomputed embeddings with bidirectional attention, as the policies run
    /// it (<see cref="GptInput"/> with <c>Causal: false</c>): embeddings (B, T, C) float, optional
    /// padding mask (B, T) bool (true = real position) → final-LayerNorm hidden states (B, T, C).
    /// T stays dynamic (positions are a slice of the table). Call inside the backbone's scope.
    /// </summary>
    public string ExportOnnx(OnnxGraphBuilder g, string embeddings, string? attentionMask)
    {
        // The token table belongs to the backbone even when no text is read (ExportTokenEmbedding writes it when one is).
        g.MarkUsed("wte.weight");
        var t = g.Size(embeddings, 1);
        var positions = g.Op("Slice", [g.Parameter("wpe.weight", wpe.weight!), g.Ints(0), t, g.Ints(0)]); // (T, C)
        var x = g.Add(embeddings, positions);
        string? mask = null;
        if (attentionMask is not null)
        {
            // (B, T) → (B, 1, T, T): key j real, or j = i, as BuildMask.
            var keys = g.Unsqueeze(g.Cast(attentionMask, OnnxDataType.Bool), 1, 2);
            var square = g.Op("ConstantOfShape", [g.Concat(0, t, t)]);
            var eye = g.Cast(g.Op("EyeLike", [square]), OnnxDataType.Bool);
            mask = g.Op("Or", [keys, eye]);
        }
        for (int i = 0; i < h.Count; i++)
            using (g.Enter($"h.{i}"))
                x = h[i].ExportOnnx(g, x, mask);
        return g.LayerNorm(x, ln_f.weight!, ln_f.bias, ln_f.eps, "ln_f");
    }

    /// <summary>Writes <see cref="EmbedTokens"/>: token ids (…) int64 → (…, C).</summary>
    public string ExportTokenEmbedding(OnnxGraphBuilder g, string tokenIds) => g.Gather(g.Parameter("wte.weight", wte.weight!), tokenIds);
}

internal sealed partial class Block : IOnnxExportable
{
    /// <summary>x (B, T, C) → (B, T, C), pre- or post-LayerNorm as the block runs.</summary>
    internal string ExportOnnx(OnnxGraphBuilder g, string x, string? mask)
    {
        if (_postLayerNorm)
        {
            string attended;
            using (g.Enter("attn")) attended = attn.ExportOnnx(g, x, mask);
            x = g.LayerNorm(g.Add(x, attended), ln_1.weight!, ln_1.bias, ln_1.eps, "ln_1");
            string transformed;
            using (g.Enter("mlp")) transformed = mlp.ExportOnnx(g, x);
            return g.LayerNorm(g.Add(x, transformed), ln_2.weight!, ln_2.bias, ln_2.eps, "ln_2");
        }
        var normed = g.LayerNorm(x, ln_1.weight!, ln_1.bias, ln_1.eps, "ln_1");
        using (g.Enter("attn")) x = g.Add(x, attn.ExportOnnx(g, normed, mask));
        normed = g.LayerNorm(x, ln_2.weight!, ln_2.bias, ln_2.eps, "ln_2");
        using (g.Enter("mlp")) return g.Add(x, mlp.ExportOnnx(g, normed));
    }
}

internal sealed partial class CausalSelfAttention : IOnnxExportable
{
    /// <summary>x (B, T, C), mask null or bool broadcastable to (B, 1, T, T) → (B, T, C); bidirectional.</summary>
    internal string ExportOnnx(OnnxGraphBuilder g, string x, string? mask)
    {
        long c = c_attn.InFeatures, hs = c / _nHead;
        var qkv = g.Op("Split", [c_attn.ExportOnnx(g, x, "c_attn"), g.Ints(c, c, c)], 3, OnnxAttribute.Of("axis", 2L));
        // (B, T, C) → (B, nh, T, hs)
        string Heads(string part) => g.Transpose(g.Reshape(part, 0, 0, _nHead, hs), 0, 2, 1, 3);
        var y = g.Attention(Heads(qkv[0]), Heads(qkv[1]), Heads(qkv[2]), mask, 1 / Math.Sqrt(hs));
        // (B, nh, T, hs) → (B, T, C)
        y = g.Reshape(g.Transpose(y, 0, 2, 1, 3), 0, 0, c);
        return c_proj.ExportOnnx(g, y, "c_proj");
    }
}

internal sealed partial class Mlp : IOnnxExportable
{
    /// <summary>x (B, T, C) → (B, T, C).</summary>
    internal string ExportOnnx(OnnxGraphBuilder g, string x)
    {
        var hidden = g.Gelu(c_fc.ExportOnnx(g, x, "c_fc"), _approximate == TorchSharp.Modules.GELU.Approximate.tanh);
        return c_proj.ExportOnnx(g, hidden, "c_proj");
    }
}

public sealed partial class AdaptableLinear : IOnnxExportable
{
    /// <summary>
    /// Writes the layer as <c>&lt;name&gt;.weight_t</c> (and bias): x (…, in) → (…, out). An adapter
    /// that is not merged is folded in, W + (α/r) B A, as <see cref="Merge"/> would, so the graph holds
    /// one MatMul and the model itself is left unchanged.
    /// </summary>
    public string ExportOnnx(OnnxGraphBuilder g, string x, string name)
    {
        if (lora_A is not null) g.MarkUsed(name + ".lora_A", name + ".lora_B");
        if (lora_A is null || IsMerged) return g.Linear(x, weight, bias, name);
        return g.Linear(x, "adapted", () => weight.add(matmul(lora_B!, lora_A), _loraScale), bias, name);
    }
}
