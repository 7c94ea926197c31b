using RLAgents.LanguageModel.Onnx;
using RLAgents.Policies.Export;
using TorchSharp.Modules;

namespace RLAgents.Policies.Encoding;

// ONNX twins of the MLP estimator's modality encoders and of the text encodings (see Export/PolicyOnnxExporter).

public abstract partial class ModalityEncoder
{
    /// <summary>
    /// Writes this encoder: the modality's value in <see cref="ObservationInput"/>'s form → features
    /// [B, OutputSize]. An encoder without an ONNX twin (a plug-in) throws <see cref="OnnxExportException"/> naming it.
    /// </summary>
    public virtual string ExportOnnx(OnnxGraphBuilder g, string input) =>
        throw g.Unsupported(this, "this modality encoder has no ONNX export (override ModalityEncoder.ExportOnnx and implement IOnnxExportable)");
}

public sealed partial class VectorEncoder : IOnnxExportable
{
    /// <inheritdoc />
    public override string ExportOnnx(OnnxGraphBuilder g, string input) => g.Cast(input, OnnxDataType.Float);
}

public sealed partial class ScaledImageEncoder : IOnnxExportable
{
    /// <inheritdoc />
    public override string ExportOnnx(OnnxGraphBuilder g, string input) =>
        g.Mul(g.Cast(input, OnnxDataType.Float), g.Scalar((float)_scale)); // torch multiplies float32 by the scale rounded to float32
}

public sealed partial class SymbolicImageEncoder : IOnnxExportable
{
    /// <inheritdoc />
    public override string ExportOnnx(OnnxGraphBuilder g, string input)
    {
        // uint8 [B, H·W·C] → int64 codes [B, cells, C] shifted into each channel's rows → [B, cells, C, E] → Σ_C → [B, cells·E]
        var codes = g.Add(g.Reshape(g.Cast(input, OnnxDataType.Int64), 0, _cells, _channels), g.Parameter("offsets", offsets));
        var vectors = g.Gather(g.Parameter("embedding.weight", ((Embedding)embedding).weight!), codes);
        return g.Reshape(g.ReduceSum(vectors, false, 2), 0, (long)_cells * _embedding);
    }
}

public sealed partial class DiscreteEncoder : IOnnxExportable
{
    /// <inheritdoc />
    public override string ExportOnnx(OnnxGraphBuilder g, string input)
    {
        var index = _start == 0 ? input : g.Sub(input, g.Scalar((long)_start)); // int64 [B]
        return g.Gather(g.Parameter("embedding.weight", ((Embedding)embedding).weight!), index);
    }
}

public partial interface ITextTensorizer
{
    /// <summary>
    /// How an exported graph takes this text: as token ids of <see cref="OnnxTextEncoding.Tokenizer"/>,
    /// int64 [B, Length] (null length: any), padded with its pad id. Null when the encoding has no ONNX form.
    /// </summary>
    OnnxTextEncoding? OnnxEncoding => null;

    /// <summary>Writes the conversion of token ids (the graph input, int64 [B, L]) to this tensorizer's tensor.</summary>
    string ExportOnnx(OnnxGraphBuilder g, string tokenIds) =>
        throw new OnnxExportException($"{g.ScopePath}: the text encoding {GetType().Name} has no ONNX form");
}

public sealed partial class TokenIdTensorizer
{
    /// <summary>Token ids [B, <see cref="Width"/>], pads after the text.</summary>
    public OnnxTextEncoding OnnxEncoding => new(_tokenizer, Width);

    /// <summary>The ids are the tensor: nothing to write.</summary>
    public string ExportOnnx(OnnxGraphBuilder g, string tokenIds) => tokenIds;
}

public sealed partial class BagOfTokensTensorizer
{
    /// <summary>Token ids of any length [B, L], padded with the pad id (not counted).</summary>
    public OnnxTextEncoding OnnxEncoding => new(Tokenizer, null);

    /// <summary>ids int64 [B, L] → counts float [B, V]: one-hot rows, pads zeroed, summed over L.</summary>
    public string ExportOnnx(OnnxGraphBuilder g, string tokenIds)
    {
        var oneHot = g.Op("OneHot", [tokenIds, g.Ints(Width), g.Constant([2], new[] { 0f, 1f })], OnnxAttribute.Of("axis", -1L)); // [B, L, V]
        var real = g.Unsqueeze(g.Cast(g.NotEqualTo(tokenIds, g.Scalar((long)Tokenizer.Special.Pad)), OnnxDataType.Float), -1);
        return g.ReduceSum(g.Mul(oneHot, real), false, 1);
    }
}
