using RLAgents.LanguageModel.Onnx;
using RLAgents.Policies.Export;

namespace RLAgents.Policies;

// ONNX twins of the policies' acting outputs (see Export/PolicyOnnxExporter).

/// <summary>The values an exported acting graph ends in.</summary>
/// <param name="Preferences">Logits or Q-values, float [B, K].</param>
/// <param name="PreferencesName">The output's name: <c>logits</c> or <c>q_values</c>.</param>
/// <param name="Value">V(s), float [B], or null for policies without a state value.</param>
/// <param name="Memory">A recurrent policy's memory after the step, float [B, H] (the graph's <c>memory_out</c>), or null.</param>
public sealed record OnnxPolicyOutputs(string Preferences, string PreferencesName, string? Value, string? Memory = null);

public abstract partial class Policy
{
    /// <summary>
    /// Writes the acting graph: <paramref name="observation"/> holds, per modality in the space's order,
    /// the graph value in <see cref="Encoding.ObservationInput"/>'s form. A policy without an ONNX twin
    /// throws <see cref="OnnxExportException"/> naming it.
    /// </summary>
    public virtual OnnxPolicyOutputs ExportOnnx(OnnxGraphBuilder g, IReadOnlyList<string> observation) =>
        throw g.Unsupported(this, "this policy has no ONNX export (override Policy.ExportOnnx and implement IOnnxExportable)");
}

public sealed partial class ActorCriticPolicy : IOnnxExportable
{
    /// <summary>
    /// Writes <c>logits</c> [B, K] and <c>value</c> [B], the critic's own estimator included when it has one. A recurrent
    /// policy also reads the graph input <c>memory</c> [B, H] (zeros at an episode's first step) and writes the memory after
    /// the step, which the caller feeds back on the episode's next step.
    /// </summary>
    public override OnnxPolicyOutputs ExportOnnx(OnnxGraphBuilder g, IReadOnlyList<string> observation)
    {
        string state;
        string? memoryOut = null;
        using (g.Enter("actor")) state = actor.ExportOnnx(g, observation);
        if (memory is not null)
        {
            var memoryIn = g.AddInput(OnnxPolicyInfo.MemoryInput, OnnxDataType.Float, "batch", (long)memory.Size);
            using (g.Enter("recurrent")) (state, memoryOut) = memory.ExportOnnx(g, state, memoryIn);
        }
        var logits = g.Linear(state, policyHead.weight!, policyHead.bias, "policy_head");
        if (critic is not null)
            using (g.Enter("critic")) state = critic.ExportOnnx(g, observation);
        var value = g.Squeeze(g.Linear(state, valueHead.weight!, valueHead.bias, "value_head"), -1);
        return new OnnxPolicyOutputs(logits, "logits", value, memoryOut);
    }
}

public sealed partial class QNetworkPolicy : IOnnxExportable
{
    /// <summary>Writes <c>q_values</c> [B, K].</summary>
    public override OnnxPolicyOutputs ExportOnnx(OnnxGraphBuilder g, IReadOnlyList<string> observation)
    {
        string state;
        using (g.Enter("estimator")) state = estimator.ExportOnnx(g, observation);
        return new OnnxPolicyOutputs(g.Linear(state, qHead.weight!, qHead.bias, "qHead"), "q_values", null);
    }
}
