using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using RLAgents.LanguageModel.Pretrained;
using static RLAgents.Benchmarks.BenchTiming;
using static TorchSharp.torch;

namespace RLAgents.Benchmarks.LanguageModel;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- text-encoder [--model all-MiniLM-L6-v2] [--threads 1,2] [--repeats 20]</c>
///
/// Latency of a pretrained text encoder on a batch of 16 distinct BabyAI missions: tokenizing, one
/// padded batched forward (what a trainable encoder costs every step), the frozen
/// <see cref="CachedTextEncoder"/> cold (every mission a miss, encoded alone) and warm (every mission
/// a hit), and ONNX Runtime (all graph optimisations) on the same padded batch for reference.
/// </summary>
public static class TextEncoderBench
{
    public const string Command = "text-encoder";

    private static readonly string[] Missions =
    [
        "go to the red ball", "pick up the blue key", "open the yellow door", "go to a grey key",
        "pick up a ball", "put the green box next to the purple ball", "open the door on your left", "go to the box in front of you",
        "pick up the key behind you", "go to the red door and pick up the blue box", "pick up the grey box after you open the red door",
        "put a key next to the yellow ball, then go to a door", "open the purple door and then go to the green key",
        "go to the green ball on your right", "pick up a purple key and put it next to the grey ball", "open a door",
    ];

    public static int Run(string[] args)
    {
        string name = Option(args, "--model", PretrainedTextEncoders.MiniLM);
        int[] threads = Option(args, "--threads", "1,2").Split(',').Select(int.Parse).ToArray();
        int repeats = int.Parse(Option(args, "--repeats", "20"), CultureInfo.InvariantCulture);

        var sw = Stopwatch.StartNew();
        using var encoder = PretrainedTextEncoders.Load(name);
        double loadMs = sw.Elapsed.TotalMilliseconds;
        encoder.Encoder.ConfigureFineTuning(TextEncoderFineTuning.Frozen);
        encoder.Encoder.eval();
        using var cache = new CachedTextEncoder(encoder);
        var info = PretrainedTextEncoders.Find(name);
        byte[] onnx;
        using (var stream = AssemblyResources.Open(PretrainedTextEncoders.AssemblyPath(info), info.ModelResource))
        {
            onnx = new byte[stream.Length];
            stream.ReadExactly(onnx);
        }
        using var batch = encoder.Tokenizer.EncodeBatch(Missions);
        long b = batch.Ids.shape[0], t = batch.Ids.shape[1];

        Console.WriteLine($"{info.Name}: {encoder.Encoder.Config}; {encoder.Encoder.ParameterCount / 1e6:F1}M parameters; loaded from {info.Package} in {loadMs:F0} ms (parse, SHA-256, weights)");
        Console.WriteLine($"batch: {b} distinct missions, padded to {t} tokens; {Environment.ProcessorCount} logical CPUs, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        foreach (int n in threads)
        {
            set_num_threads(n);
            using var options = new SessionOptions { IntraOpNumThreads = n, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            using var session = new InferenceSession(onnx, options);
            var ids = batch.Ids.data<long>().ToArray();
            var mask = batch.Mask.data<long>().ToArray();
            var types = new long[ids.Length];

            Console.WriteLine();
            Console.WriteLine($"threads={n}: {"",-44} {"ms/batch",9} {"cpu-ms",8} {"µs/text",8}");
            Row("tokenize (WordPiece, 16 texts)", () => encoder.Tokenizer.EncodeBatch(Missions).Dispose());
            Row("TorchSharp forward, padded batch (no cache)", () =>
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                encoder.Encode(Missions);
            });
            Row("CachedTextEncoder cold (16 misses, one by one)", () =>
            {
                cache.Clear();
                using var scope = NewDisposeScope();
                cache.Encode(Missions);
            });
            Row("CachedTextEncoder warm (16 hits)", () =>
            {
                using var scope = NewDisposeScope();
                cache.Encode(Missions);
            });
            Row("ONNX Runtime, padded batch (optimised graph)", () =>
            {
                using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, [b, t]);
                using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, [b, t]);
                using var typesValue = OrtValue.CreateTensorValueFromMemory(types, [b, t]);
                using var runOptions = new RunOptions();
                using var results = session.Run(runOptions, ["input_ids", "attention_mask", "token_type_ids"], [idsValue, maskValue, typesValue], ["last_hidden_state"]);
            });

            void Row(string label, Action action)
            {
                var time = Measure(action, warmup: 3, repeats: repeats);
                Console.WriteLine($"  {label,-51} {time.Wall * 1e3,9:F2} {time.Cpu * 1e3,8:F2} {time.Wall * 1e6 / b,8:F0}");
            }
        }
        return 0;
    }
}
