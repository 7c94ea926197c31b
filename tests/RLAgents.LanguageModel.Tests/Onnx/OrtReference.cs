using Microsoft.ML.OnnxRuntime;

namespace RLAgents.LanguageModel.Tests.Onnx;

/// <summary>ONNX Runtime, the reference: sessions on one thread and a run that returns one float output with its shape.</summary>
internal static class OrtReference
{
    public static InferenceSession Session(byte[] model)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        return new InferenceSession(model, options);
    }

    /// <summary>Runs <paramref name="session"/> on int64 or float inputs (name → data, shape) and returns <paramref name="output"/>.</summary>
    public static (float[] Data, long[] Shape) Run(InferenceSession session, IReadOnlyDictionary<string, (Array Data, long[] Shape)> inputs, string output)
    {
        var values = inputs.ToDictionary(kv => kv.Key, kv => kv.Value.Data switch
        {
            long[] l => OrtValue.CreateTensorValueFromMemory(l, kv.Value.Shape),
            float[] f => OrtValue.CreateTensorValueFromMemory(f, kv.Value.Shape),
            _ => throw new ArgumentException($"Input '{kv.Key}': only long[] and float[] are used here."),
        });
        try
        {
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, values, [output]);
            return (results[0].GetTensorDataAsSpan<float>().ToArray(), results[0].GetTensorTypeAndShape().Shape);
        }
        finally
        {
            foreach (var v in values.Values) v.Dispose();
        }
    }
}
