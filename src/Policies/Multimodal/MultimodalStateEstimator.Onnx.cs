using RLAgents.LanguageModel.Onnx;
using static TorchSharp.torch;

namespace RLAgents.Policies.Multimodal;

// ONNX twins of the multimodal Transformer state estimator and its parts, op for op as their
// forward passes (see Export/PolicyOnnxExporter). Sequence lengths are fixed by the space, the
// batch axis stays dynamic.

public sealed partial class MultimodalStateEstimator : IOnnxExportable
{
    /// <inheritdoc />
    public override string ExportOnnx(OnnxGraphBuilder g, IReadOnlyList<string> observation)
    {
        string like = observation[0];                               // any input: they share the batch axis
        var tokens = new string?[Space.Count];                      // each [B, n_m, C]
        var masks = new string?[Space.Count];                       // text: bool [B, L], true = real token
        for (int m = 0; m < Space.Count; m++)
        {
            if (_encoderOf[m] == -2) continue;
            if (_encoderOf[m] < 0)
            {
                masks[m] = g.NotEqualTo(observation[m], g.Scalar((long)_padId));
                string embedded;
                using (g.Enter("backbone")) embedded = backbone.ExportTokenEmbedding(g, observation[m]);
                tokens[m] = g.Add(embedded, TypeRow(g, m));
            }
            else
            {
                string encoded;
                using (g.Enter($"encoders.{_encoderOf[m]}")) encoded = encoders[_encoderOf[m]].ExportOnnx(g, observation[m]);
                tokens[m] = g.Add(encoded, TypeRow(g, m));
            }
        }
        string? memoryTokens = null, memoryMask = null;
        if (memory is not null)
        {
            using (g.Enter("memory"))
            {
                memoryTokens = memory.ExportOnnx(g, observation);
                memoryMask = memory.ExportMask(g, observation);
            }
            memoryTokens = g.Add(memoryTokens, TypeRow(g, memory.MaskIndex));
        }
        long width = cls.shape[2];
        var clsToken = g.Op("Expand", [g.Parameter("cls", cls), g.BatchShape(like, 1, width)]); // [B, 1, C]
        if (_fusion == FusionMode.Late) return Late(g, tokens, masks, memoryTokens, memoryMask);
        var (text, textMask) = PackText(g, observation);
        if (matching is not null)
            for (int m = 0; m < Space.Count; m++)
            {
                if (_matchingOf[m] < 0) continue;
                var grid = (CellTokenEncoder)encoders[_encoderOf[m]];
                string codes;
                using (g.Enter($"encoders.{_encoderOf[m]}")) codes = grid.ExportCodes(g, observation[m]);
                using (g.Enter($"matching.{_matchingOf[m]}")) tokens[m] = g.Add(tokens[m]!, matching[_matchingOf[m]].ExportOnnx(g, codes, grid.CodeTable, text!, textMask!));
            }
        var nonText = Enumerable.Range(0, Space.Count).Where(m => _encoderOf[m] >= 0).Select(m => tokens[m]!).ToList();
        long contextLength = Enumerable.Range(0, Space.Count).Where(m => _encoderOf[m] >= 0).Sum(m => (long)encoders[_encoderOf[m]].TokenCount);
        if (memoryTokens is not null) nonText.Add(memoryTokens);
        var context = nonText.Count == 0 ? null : g.Concat(1, [.. nonText]);
        var contextMask = memoryMask is null ? null : g.Concat(1, g.TrueMask(like, contextLength), memoryMask);
        if (_fusion == FusionMode.Early)
        {
            // [CLS, image cells, vectors, memory, packed text], as Early.
            var parts = new List<string> { clsToken };
            var maskParts = new List<string> { g.TrueMask(like, 1) };
            if (context is not null)
            {
                parts.Add(context);
                maskParts.Add(contextMask ?? g.TrueMask(like, contextLength));
            }
            if (text is not null)
            {
                parts.Add(text);
                maskParts.Add(textMask!);
            }
            var mask = textMask is null && contextMask is null ? null : g.Concat(1, [.. maskParts]);
            return g.Gather(Run(g, g.Concat(1, [.. parts]), mask), g.Scalar(0L), axis: 1);
        }
        var hidden = Run(g, g.Concat(1, clsToken, text!), g.Concat(1, g.TrueMask(like, 1), textMask!));
        string fused;
        using (g.Enter("cross")) fused = cross!.ExportOnnx(g, hidden, context!, contextMask);
        return g.LayerNorm(g.Gather(fused, g.Scalar(0L), axis: 1), ln_cross!.weight!, ln_cross.bias, ln_cross.eps, "ln_cross");
    }

    /// <summary>Row m of the modality-type table, [C] (call in the estimator's own scope).</summary>
    private string TypeRow(OnnxGraphBuilder g, int m)
    {
        var table = modality_type.weight!;
        return g.Parameter("modality_type.weight", $"row{m}", () => table[m]);
    }

    /// <summary>
    /// PackText's stable partition without a sort: a real token goes to (real tokens before it), a
    /// pad to (real tokens in the row) + (pads before it); one scatter moves ids and their kinds.
    /// → embeddings [B, T·L, C] and mask [B, T·L], or nulls without text.
    /// </summary>
    private (string? Tokens, string? Mask) PackText(OnnxGraphBuilder g, IReadOnlyList<string> observation)
    {
        var texts = Enumerable.Range(0, Space.Count).Where(m => _encoderOf[m] == -1).ToArray();
        if (texts.Length == 0) return (null, null);
        var ids = g.Concat(1, texts.Select(m => observation[m]).ToArray());                      // int64 [B, T·L]
        var kinds = texts.SelectMany(m => Enumerable.Repeat((long)m, _textTokens)).ToArray();
        var kindRows = g.Op("Expand", [g.Constant([1, kinds.Length], kinds), g.Op("Shape", [ids])]);
        var isPad = g.EqualTo(ids, g.Scalar((long)_padId));
        var pad = g.Cast(isPad, OnnxDataType.Int64);
        var real = g.Sub(g.Scalar(1L), pad);
        var one = g.Scalar(1L);
        var realPosition = g.Sub(g.Op("CumSum", [real, one]), one);
        var padPosition = g.Add(g.ReduceSum(real, true, 1), g.Sub(g.Op("CumSum", [pad, one]), one));
        var position = g.Op("Where", [isPad, padPosition, realPosition]);
        var packed = g.Op("ScatterElements", [ids, position, ids], OnnxAttribute.Of("axis", 1L));
        var packedKinds = g.Op("ScatterElements", [kindRows, position, kindRows], OnnxAttribute.Of("axis", 1L));
        string embeddings;
        using (g.Enter("backbone")) embeddings = backbone.ExportTokenEmbedding(g, packed);
        embeddings = g.Add(embeddings, g.Gather(g.Parameter("modality_type.weight", modality_type.weight!), packedKinds));
        return (embeddings, g.NotEqualTo(packed, g.Scalar((long)_padId)));
    }

    private string Late(OnnxGraphBuilder g, string?[] tokens, string?[] masks, string? memoryTokens, string? memoryMask)
    {
        var pooled = new List<string>();
        for (int m = 0; m < tokens.Length; m++)
            if (_encoderOf[m] != -2) pooled.Add(Pool(g, tokens[m]!, masks[m]));
        if (memoryTokens is not null) pooled.Add(Pool(g, memoryTokens, memoryMask));
        var x = g.Concat(1, [.. pooled]); // [B, pools·C]
        for (int i = 0; i < fusion!.Count; i++) x = g.Tanh(g.Linear(x, fusion[i].weight!, fusion[i].bias, $"fusion.{i}"));
        return x;
    }

    private string Pool(OnnxGraphBuilder g, string tokens, string? mask)
    {
        var hidden = Run(g, tokens, mask); // [B, n, C]
        if (mask is null) return g.ReduceMean(hidden, false, 1);
        var weights = g.Unsqueeze(g.Cast(mask, OnnxDataType.Float), -1);
        var count = g.Op("Max", [g.ReduceSum(weights, false, 1), g.Scalar(1f)]);
        return g.Div(g.ReduceSum(g.Mul(hidden, weights), false, 1), count);
    }

    private string Run(OnnxGraphBuilder g, string embeddings, string? mask)
    {
        using (g.Enter("backbone")) return backbone.ExportOnnx(g, embeddings, mask);
    }
}

public sealed partial class CrossAttentionBlock : IOnnxExportable
{
    /// <summary>x [B, Lq, C], context [B, Lk, C], optional key mask bool [B, Lk] → [B, Lq, C].</summary>
    public string ExportOnnx(OnnxGraphBuilder g, string x, string context, string? contextMask)
    {
        long hs = _width / _heads;
        string Heads(string part) => g.Transpose(g.Reshape(part, 0, 0, _heads, hs), 0, 2, 1, 3); // [B, L, C] → [B, H, L, hs]
        var q = Heads(g.Linear(g.LayerNorm(x, ln_q.weight!, ln_q.bias, ln_q.eps, "ln_q"), q_proj.weight!, q_proj.bias, "q_proj"));
        var kv = g.Linear(g.LayerNorm(context, ln_kv.weight!, ln_kv.bias, ln_kv.eps, "ln_kv"), kv_proj.weight!, kv_proj.bias, "kv_proj");
        var halves = g.Op("Split", [kv, g.Ints(_width, _width)], 2, OnnxAttribute.Of("axis", 2L));
        var attend = contextMask is null ? null : g.Unsqueeze(contextMask, 1, 2);                // broadcast over heads and queries
        var y = g.Attention(q, Heads(halves[0]), Heads(halves[1]), attend, 1 / Math.Sqrt(hs));
        y = g.Reshape(g.Transpose(y, 0, 2, 1, 3), 0, 0, _width);
        x = g.Add(x, g.Linear(y, out_proj.weight!, out_proj.bias, "out_proj"));
        var hidden = g.Gelu(g.Linear(g.LayerNorm(x, ln_mlp.weight!, ln_mlp.bias, ln_mlp.eps, "ln_mlp"), fc.weight!, fc.bias, "fc"), tanhApproximation: false);
        return g.Add(x, g.Linear(hidden, proj.weight!, proj.bias, "proj"));
    }
}

public abstract partial class TokenEncoder
{
    /// <summary>
    /// Writes this encoder: the modality's value in <see cref="Encoding.ObservationInput"/>'s form →
    /// tokens [B, TokenCount, C]. An encoder without an ONNX twin throws <see cref="OnnxExportException"/> naming it.
    /// </summary>
    public virtual string ExportOnnx(OnnxGraphBuilder g, string input) =>
        throw g.Unsupported(this, "this token encoder has no ONNX export (override TokenEncoder.ExportOnnx and implement IOnnxExportable)");
}

public sealed partial class CellTokenEncoder : IOnnxExportable
{
    /// <summary>Each cell's codes, int64 [B, H·W, Ch], as <see cref="Codes"/>.</summary>
    public string ExportCodes(OnnxGraphBuilder g, string input) =>
        g.Add(g.Reshape(g.Cast(input, OnnxDataType.Int64), 0, _h * _w, _channels), g.Parameter("offsets", offsets));

    /// <inheritdoc />
    public override string ExportOnnx(OnnxGraphBuilder g, string input)
    {
        var codes = ExportCodes(g, input);
        var cells = g.ReduceSum(g.Gather(g.Parameter("values.weight", values.weight!), codes), false, 2); // [B, H·W, Ch, C] → [B, H·W, C]
        // The 2-D positions depend on weights only: rows[r] + cols[c] per cell, [H·W, C], written once.
        var position = g.Parameter("rows.weight", "plus_cols", () => rows.forward(rowIndex).add(cols.forward(colIndex)));
        g.MarkUsed("cols.weight");
        return g.Add(cells, position);
    }
}

public sealed partial class VectorTokenEncoder : IOnnxExportable
{
    /// <inheritdoc />
    public override string ExportOnnx(OnnxGraphBuilder g, string input) =>
        g.Unsqueeze(g.Linear(g.Cast(input, OnnxDataType.Float), projection.weight!, projection.bias, "projection"), 1);
}

public sealed partial class DiscreteTokenEncoder : IOnnxExportable
{
    /// <inheritdoc />
    public override string ExportOnnx(OnnxGraphBuilder g, string input)
    {
        var index = _start == 0 ? input : g.Sub(input, g.Scalar((long)_start));
        return g.Unsqueeze(g.Gather(g.Parameter("table.weight", table.weight!), index), 1);
    }
}

public sealed partial class HistoryTokenEncoder : IOnnxExportable
{
    /// <summary>Writes the memory tokens: the age table [1, K, C] plus each kept modality's frames → [B, K, C].</summary>
    public string ExportOnnx(OnnxGraphBuilder g, IReadOnlyList<string> observation)
    {
        var tokens = g.Parameter("age.weight", "steps", () => age.forward(ages).unsqueeze(0));
        for (int i = 0; i < frames.Count; i++)
            using (g.Enter($"frames.{i}"))
                tokens = g.Add(tokens, frames[i].ExportOnnx(g, observation[_historyIndex[i]]));
        return tokens;
    }

    /// <summary>Writes <see cref="Mask"/>: the uint8 mask modality ≠ 0, bool [B, K] (compared as int64, which every runtime's Equal takes).</summary>
    public string ExportMask(OnnxGraphBuilder g, IReadOnlyList<string> observation) =>
        g.NotEqualTo(g.Cast(observation[_maskIndex], OnnxDataType.Int64), g.Scalar(0L));
}

public abstract partial class HistoryFrameEncoder
{
    /// <summary>Writes this frame encoder: [B, K·S] → [B, K, C].</summary>
    public virtual string ExportOnnx(OnnxGraphBuilder g, string input) =>
        throw g.Unsupported(this, "this history encoder has no ONNX export (override HistoryFrameEncoder.ExportOnnx and implement IOnnxExportable)");
}

public sealed partial class SymbolicFrameEncoder : IOnnxExportable
{
    /// <inheritdoc />
    public override string ExportOnnx(OnnxGraphBuilder g, string input)
    {
        // The multi-hot code of forward, built the same way: ones scattered into zeros [B·K, H·W·codes].
        var index = g.Add(g.Reshape(g.Cast(input, OnnxDataType.Int64), -1, (long)_cells * _channels), g.Parameter("offsets", offsets));
        var zero = OnnxAttribute.Of("value", OnnxTensor.FromArray("value", [1], new[] { 0f }));
        var one = OnnxAttribute.Of("value", OnnxTensor.FromArray("value", [1], new[] { 1f }));
        var empty = g.Op("ConstantOfShape", [g.Concat(0, g.Size(index, 0), g.Ints((long)_cells * _codes))], zero);
        var hot = g.Op("ScatterElements", [empty, index, g.Op("ConstantOfShape", [g.Op("Shape", [index])], one)], OnnxAttribute.Of("axis", 1L));
        return g.Reshape(g.Linear(hot, projection.weight!, projection.bias, "projection"), -1, _steps, projection.weight!.shape[0]);
    }
}

public sealed partial class ProjectedFrameEncoder : IOnnxExportable
{
    /// <inheritdoc />
    public override string ExportOnnx(OnnxGraphBuilder g, string input)
    {
        var x = g.Cast(input, OnnxDataType.Float);
        if (_scale != 1.0) x = g.Mul(x, g.Scalar((float)_scale));
        return g.Linear(g.Reshape(x, 0, _steps, _size), projection.weight!, projection.bias, "projection");
    }
}

public sealed partial class DiscreteFrameEncoder : IOnnxExportable
{
    /// <inheritdoc />
    public override string ExportOnnx(OnnxGraphBuilder g, string input)
    {
        var index = g.Op("Clip", [g.Cast(input, OnnxDataType.Int64), g.Scalar(0L), g.Scalar((long)_n - 1)]); // float [B, K] → int64, truncated as torch casts
        return g.Gather(g.Parameter("table.weight", table.weight!), index);
    }
}

public sealed partial class CellTextMatching : IOnnxExportable
{
    /// <summary>
    /// Codes int64 [B, N, Ch] (rows of <paramref name="codeTable"/> [V, C]), packed text tokens [B, T, C] and their mask bool [B, T]
    /// → the feature per cell [B, N, C], as <see cref="Cells"/> of <see cref="CodeScores"/>.
    /// </summary>
    public string ExportOnnx(OnnxGraphBuilder g, string codes, Tensor codeTable, string text, string textMask)
    {
        long v = codeTable.shape[0];
        // The codes' queries depend on weights only: [1, H, V, d], written once.
        var q = g.Parameter("q_proj.weight", "codes", () => q_proj.forward(codeTable).view(1, v, _heads, _headSize).transpose(1, 2).contiguous().detach());
        var k = g.Transpose(g.Reshape(g.Linear(g.LayerNorm(text, ln_text.weight!, ln_text.bias, ln_text.eps, "ln_text"), k_proj.weight!, null, "k_proj"), 0, 0, _heads, _headSize), 0, 2, 3, 1); // [B, H, d, T]
        var scores = g.Mul(g.MatMul(q, k), g.Scalar((float)(1.0 / Math.Sqrt(_headSize))));                       // [B, H, V, T]
        scores = g.Op("Where", [g.Unsqueeze(textMask, 1, 2), scores, g.Scalar(float.NegativeInfinity)]);
        string perCode;                                                                                             // [B, V, H·F]
        if (role_position is null) perCode = g.Transpose(g.ReduceMax(scores, false, -1), 0, 2, 1);
        else
        {
            // The export's packed text is always the full T = texts · L rows the role table was built for.
            var where = g.MatMul(g.Softmax(scores), g.Parameter("role_position", role_position));                // [B, H, V, R]
            var both = g.Concat(-1, g.Unsqueeze(g.ReduceMax(scores, false, -1), -1), where);                      // [B, H, V, 1 + R]
            perCode = g.Reshape(g.Transpose(both, 0, 2, 1, 3), 0, 0, -1);
        }
        int width = _heads * _features;
        var index = g.Op("Expand", [g.Reshape(codes, 0, -1, 1), g.Ints(1, 1, width)]);        // [B, N·Ch, H·F]
        var perCell = g.Op("GatherElements", [perCode, index], OnnxAttribute.Of("axis", 1L));
        var cells = g.Reshape(perCell, 0, -1, _channels * width);                                                     // [B, N, Ch·H·F]
        return g.Linear(cells, out_proj.weight!, out_proj.bias, "out_proj");
    }
}
