using System.Globalization;
using RLAgents.LanguageModel.Model;
using RLAgents.LanguageModel.Training;
using TorchSharp;
using static RLAgents.Benchmarks.BenchTiming;
using static TorchSharp.torch;

namespace RLAgents.Benchmarks.LanguageModel;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- lm [--threads 1,2] [--steps 20]</c>
///
/// Training and inference throughput of the GPT backbone on CPU, with model FLOP utilisation:
/// achieved FLOP/s divided by the FLOP/s of a 2048³ float32 matmul measured in the same process
/// and thread setting. FLOPs per token follow nanoGPT / PaLM: training 6N + 12·L·C·T (N = parameters
/// without the position table, the attention term covers QKᵀ and AV forward and backward), inference a
/// third of that. A training step is the real one: batch sampling, forward, loss, backward, global-norm
/// clipping and AdamW (<see cref="TrainingStep.Run"/>).
/// On a shared, oversubscribed machine run it with <c>OMP_WAIT_POLICY=PASSIVE</c>: libtorch's OpenMP
/// threads otherwise spin while waiting for a descheduled peer, and two threads become 5–10× slower
/// than one. The CPU-time columns (MFU against the matmul's FLOP per CPU-second) are the steadier figure there.
/// </summary>
public static class LanguageModelBench
{
    private sealed record Size(string Name, GptConfig Config, int Batch);

    public static int Run(string[] args)
    {
        int[] threads = Option(args, "--threads", "1,2").Split(',').Select(int.Parse).ToArray();
        int steps = int.Parse(Option(args, "--steps", "20"), CultureInfo.InvariantCulture);

        var training = new[]
        {
            new Size("0.14M 2x64", Config(vocab: 512, block: 64, layers: 2, heads: 2, embd: 64), 32),
            new Size("0.87M 4x128", Config(vocab: 512, block: 64, layers: 4, heads: 4, embd: 128), 32),
            new Size("3.3M 4x256", Config(vocab: 512, block: 64, layers: 4, heads: 8, embd: 256), 32),
        };
        var inference = new[]
        {
            new Size("agent 0.87M 4x128", Config(vocab: 512, block: 64, layers: 4, heads: 4, embd: 128), 16),
            new Size("agent 0.14M 2x64", Config(vocab: 512, block: 64, layers: 2, heads: 2, embd: 64), 16),
        };

        Console.WriteLine($"TorchSharp {typeof(torch).Assembly.GetName().Version}, {Environment.ProcessorCount} logical CPUs, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        foreach (int n in threads)
        {
            set_num_threads(n);
            var peak = MatmulFlops(2048);
            Console.WriteLine();
            Console.WriteLine($"threads={n}: 2048^3 float32 matmul {peak.Wall / 1e9:F1} GFLOP/s wall, {peak.Cpu / 1e9:F1} GFLOP/s per CPU-second");
            Console.WriteLine($"  {"training",-22} {"params",9} {"batch",7} {"ms/step",9} {"tokens/s",10} {"GFLOP/s",8} {"MFU",6} {"cpu-ms",8} {"MFU(cpu)",9}");
            foreach (var size in training) TrainRow(size, steps, peak);
            Console.WriteLine($"  {"inference (no grad)",-22} {"params",9} {"batch",7} {"ms/call",9} {"tokens/s",10} {"GFLOP/s",8} {"MFU",6} {"cpu-ms",8} {"MFU(cpu)",9}");
            foreach (var size in inference) InferRow(size, steps * 3, peak);
        }
        return 0;
    }

    private static GptConfig Config(int vocab, int block, int layers, int heads, int embd) =>
        new() { VocabSize = vocab, BlockSize = block, NLayer = layers, NHead = heads, NEmbd = embd, Dropout = 0 };

    /// <summary>FLOP/s of an n×n by n×n float32 matmul, per wall second and per CPU second.</summary>
    private static Timing MatmulFlops(int n)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(1);
        var a = randn([n, n], generator: g);
        var b = randn([n, n], generator: g);
        var t = Measure(() => a.mm(b).Dispose(), warmup: 2, repeats: 7);
        double flops = 2.0 * n * n * n;
        return new Timing(flops / t.Wall, flops / t.Cpu);
    }

    private static double FlopsPerToken(GptModel model, bool training)
    {
        var c = model.Config;
        double perToken = 6.0 * model.ParameterCount(excludePositionEmbeddings: true) + 12.0 * c.NLayer * c.NEmbd * c.BlockSize;
        return training ? perToken : perToken / 3;
    }

    private static void TrainRow(Size size, int steps, Timing peak)
    {
        using var model = new GptModel(size.Config, seed: 1);
        model.train();
        using var optimizer = new AdamOptimizer(model.named_parameters().Select(p => (p.name, p.parameter)), new AdamOptions { Beta2 = 0.95, WeightDecay = 0.1, MaxGradNorm = 1.0 });
        using var g = new Generator(2);
        int t = size.Config.BlockSize;
        TrainingStepResult Step() => TrainingStep.Run(optimizer, () =>
        {
            var ids = randint(size.Config.VocabSize, [size.Batch, t + 1], dtype: int64, generator: g);
            return CausalLanguageModeling.Loss(model, ids[.., ..t], ids[.., 1..]);
        }, 1e-3);

        Report(size, model, Measure(() => Step(), warmup: 3, repeats: steps), training: true, peak);
    }

    private static void InferRow(Size size, int calls, Timing peak)
    {
        using var model = new GptModel(size.Config, seed: 1);
        model.eval();
        using var g = new Generator(3);
        using var ids = randint(size.Config.VocabSize, [size.Batch, size.Config.BlockSize], dtype: int64, generator: g);
        void Call()
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            model.forward(new GptInput(TokenIds: ids));
        }
        Report(size, model, Measure(Call, warmup: 5, repeats: calls), training: false, peak);
    }

    private static void Report(Size size, GptModel model, Timing time, bool training, Timing peak)
    {
        double tokens = (double)size.Batch * size.Config.BlockSize;
        double work = FlopsPerToken(model, training) * tokens;
        Console.WriteLine($"  {size.Name,-22} {model.ParameterCount() / 1e6,8:F3}M {size.Batch + "x" + size.Config.BlockSize,7} {time.Wall * 1e3,9:F1} {tokens / time.Wall,10:F0} " +
            $"{work / time.Wall / 1e9,8:F1} {work / time.Wall / peak.Wall,6:P0} {time.Cpu * 1e3,8:F1} {work / time.Cpu / peak.Cpu,9:P0}");
    }
}
