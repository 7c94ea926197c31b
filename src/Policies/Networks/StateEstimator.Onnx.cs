using RLAgents.LanguageModel.Onnx;

namespace RLAgents.Policies.Networks;

// ONNX twins of the state estimator seam and the MLP estimator (see Export/PolicyOnnxExporter).

public abstract partial class StateEstimator
{
    /// <summary>
    /// Writes this estimator's forward pass: <paramref name="observation"/> holds, per modality in the
    /// space's order, the graph value in <see cref="Encoding.ObservationInput"/>'s form → state [B, StateSize].
    /// An estimator without an ONNX twin (a plug-in) throws <see cref="OnnxExportException"/> naming it.
    /// </summary>
    public virtual string ExportOnnx(OnnxGraphBuilder g, IReadOnlyList<string> observation) =>
        throw g.Unsupported(this, "this state estimator has no ONNX export (override StateEstimator.ExportOnnx and implement IOnnxExportable)");
}

public abstract partial class Backbone
{
    /// <summary>Writes the backbone: features [B, InputSize] → [B, OutputSize].</summary>
    public virtual string ExportOnnx(OnnxGraphBuilder g, string features) =>
        throw g.Unsupported(this, "this backbone has no ONNX export (override Backbone.ExportOnnx and implement IOnnxExportable)");
}

public sealed partial class MlpBackbone : IOnnxExportable
{
    /// <inheritdoc />
    public override string ExportOnnx(OnnxGraphBuilder g, string features)
    {
        var x = features;
        for (int i = 0; i < layers.Count; i++)
        {
            var z = g.Linear(x, layers[i].weight!, layers[i].bias, $"layers.{i}");
            x = _activation == Activation.Tanh ? g.Tanh(z) : g.Relu(z);
        }
        return x;
    }
}

public sealed partial class EncoderStateEstimator : IOnnxExportable
{
    /// <inheritdoc />
    public override string ExportOnnx(OnnxGraphBuilder g, IReadOnlyList<string> observation)
    {
        var parts = new string[encoders.Count];
        for (int m = 0; m < parts.Length; m++)
            using (g.Enter($"encoders.{m}"))
                parts[m] = encoders[m].ExportOnnx(g, observation[m]);
        using (g.Enter("backbone")) return backbone.ExportOnnx(g, g.Concat(1, parts)); // [B, Σ feature widths]
    }
}
