using Microsoft.ML.OnnxRuntime;
using RLAgents.Environments;
using RLAgents.Policies.Export;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests.Export;

/// <summary>Observations from envs, weights that look trained, and the TorchSharp-vs-ONNX Runtime comparison.</summary>
internal static class ExportTestKit
{
    /// <summary>Tolerance on logits, Q-values and values: max |Δ| between TorchSharp and ONNX Runtime.</summary>
    public const float Tolerance = 1e-5f;

    /// <summary>
    /// Adds N(0, <paramref name="scale"/>²) noise to every parameter, so heads initialised near zero
    /// (policy gain 0.01, LoRA B = 0) give logits with real gaps, as trained ones do.
    /// </summary>
    public static void Perturb(nn.Module module, ulong seed, double scale = 0.1)
    {
        using var generator = new Generator(seed);
        using var _ = no_grad();
        foreach (var p in module.parameters())
        {
            using var noise = randn(p.shape, generator: generator).mul_(scale);
            p.add_(noise);
        }
    }

    /// <summary>
    /// Preferences [B·K] and, with <paramref name="withValues"/>, values [B] from TorchSharp; a recurrent policy reads
    /// <paramref name="memory"/> [B × H] and its next memory is returned too.
    /// </summary>
    public static (float[] Preferences, float[]? Values, float[]? Memory) Torch(Policy policy, ObservationBatch batch, bool withValues, float[]? memory = null)
    {
        using var scope = NewDisposeScope();
        var input = policy.Tensorizer.ToInput(batch);
        if (memory is not null) input.Sequence = new RLAgents.Policies.Networks.SequenceInput(1, tensor(memory, [batch.Count, memory.Length / batch.Count]));
        var (preferences, values) = policy.Outputs(input, withValues);
        return (preferences.data<float>().ToArray(), values?.data<float>().ToArray(), input.Sequence?.FinalValues);
    }

    /// <summary>A memory of <paramref name="size"/> units for <paramref name="rows"/> rows in [−0.5, 0.5) (a mid-episode one), from <paramref name="seed"/>.</summary>
    public static float[] Memory(int rows, int size, ulong seed)
    {
        var rng = new Rng(seed);
        var values = new float[rows * size];
        for (int i = 0; i < values.Length; i++) values[i] = (float)rng.Uniform(-0.5, 0.5);
        return values;
    }

    /// <summary>Runs <paramref name="model"/> in ONNX Runtime (one thread, all graph optimisations) on <paramref name="inputs"/>.</summary>
    public static Dictionary<string, float[]> Ort(byte[] model, OnnxInputArray[] inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var values = inputs.Select(i => i.Data switch
        {
            float[] f => OrtValue.CreateTensorValueFromMemory(f, i.Shape),
            byte[] b => OrtValue.CreateTensorValueFromMemory(b, i.Shape),
            long[] l => OrtValue.CreateTensorValueFromMemory(l, i.Shape),
            _ => throw new ArgumentException($"input {i.Name}: unexpected data"),
        }).ToArray();
        try
        {
            var names = session.OutputMetadata.Keys.ToArray();
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, inputs.Select(i => i.Name).ToArray(), values, names);
            return names.Select((n, k) => (n, results[k].GetTensorDataAsSpan<float>().ToArray())).ToDictionary(p => p.n, p => p.Item2);
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    /// <summary>
    /// Exports <paramref name="policy"/> at <paramref name="opset"/>, runs both sides on <paramref name="batch"/>
    /// and asserts max |Δ| ≤ <see cref="Tolerance"/> on every output and identical greedy actions. Returns the export.
    /// </summary>
    public static OnnxPolicyExport AssertParity(Policy policy, ObservationBatch batch, long opset = 17)
    {
        policy.eval();
        var export = PolicyOnnxExporter.Export(policy, new OnnxExportOptions { Opset = opset });
        var inputs = OnnxInputFeed.For(export).Encode(batch);
        // A recurrent policy acts from a memory: the same mid-episode memory on both sides, and its successor compared.
        float[]? memory = export.Info.MemorySize > 0 ? Memory(batch.Count, export.Info.MemorySize, 17) : null;
        if (memory is not null) inputs = [.. inputs, new OnnxInputArray(OnnxPolicyInfo.MemoryInput, memory, [batch.Count, export.Info.MemorySize])];
        var outputs = Ort(ToBytes(export), inputs);
        var (preferences, values, nextMemory) = Torch(policy, batch, withValues: !export.Info.IsQNetwork, memory);
        if (nextMemory is not null) AssertClose(nextMemory, outputs[OnnxPolicyInfo.MemoryOutput], OnnxPolicyInfo.MemoryOutput);
        var onnxPreferences = outputs[export.Info.PreferencesOutput];
        AssertClose(preferences, onnxPreferences, export.Info.PreferencesOutput);
        if (values is not null) AssertClose(values, outputs["value"], "value");
        else Assert.False(outputs.ContainsKey("value"));
        int k = export.Info.ActionSpace.N;
        for (int i = 0; i < batch.Count; i++)
            Assert.True(ArgMax(preferences.AsSpan(i * k, k)) == ArgMax(onnxPreferences.AsSpan(i * k, k)), $"observation {i}: greedy actions differ");
        return export;
    }

    /// <summary>The serialized model.</summary>
    public static byte[] ToBytes(OnnxPolicyExport export)
    {
        using var stream = new MemoryStream();
        export.Model.Write(stream);
        return stream.ToArray();
    }

    public static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float worst = 0;
        int at = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            float d = Math.Abs(expected[i] - actual[i]);
            if (!(d <= worst)) (worst, at) = (d, i);
        }
        Assert.True(worst <= Tolerance, $"{what}: max |Δ| = {worst} at {at} (torch {expected[at]}, onnx {actual[at]})");
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int j = 1; j < row.Length; j++)
            if (row[j] > row[best]) best = j;
        return best;
    }
}
