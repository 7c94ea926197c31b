using System.Text.Json;
using RLAgents.Core;
using RLAgents.Core.Metrics;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Model;
using RLAgents.LanguageModel.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Training;

/// <summary>
/// Causal-LM pretraining: tokenizer (loaded or trained), random-window batches, AdamW with warmup and
/// cosine decay, gradient clipping, held-out perplexity, <c>metrics.jsonl</c> and atomic checkpoints
/// in the run directory, and exact resume (weights, optimizer moments, step, batch and dropout RNG).
/// Run directory layout: <c>metrics.jsonl</c> and a TensorBoard event file (<see cref="RunMetrics"/>), <c>tokenizer/</c>, <c>checkpoints/step-NNNNNN/</c>
/// each with <c>model.safetensors</c>, <c>config.json</c>, <c>optimizer.safetensors</c>,
/// <c>trainer_state.json</c> and the tokenizer files.
/// </summary>
public static class Pretrainer
{
    /// <summary>File name of the training state inside a checkpoint.</summary>
    public const string TrainerStateFile = "trainer_state.json";

    /// <summary>File name of the resolved options in a pretraining run directory.</summary>
    public const string ConfigFile = "config.json";

    /// <summary>The run-directory format this build writes (run.json's <c>format</c>).</summary>
    public const int RunFormat = 2;

    /// <summary>Trains on the text file <see cref="PretrainOptions.CorpusPath"/>.</summary>
    public static PretrainResult Run(PretrainOptions options, string runDirectory, bool resume, IProgress<PretrainMetrics>? progress = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(options.CorpusPath)) throw new System.ComponentModel.DataAnnotations.ValidationException("corpusPath: required when no corpus is passed in.");
        if (!File.Exists(options.CorpusPath)) throw new FileNotFoundException($"corpusPath: file not found: {options.CorpusPath}", options.CorpusPath);
        return Run(options, File.ReadLines(options.CorpusPath), runDirectory, resume, progress, cancellationToken);
    }

    /// <summary>Trains on <paramref name="corpus"/> (lines of text, e.g. from a corpus generator).</summary>
    public static PretrainResult Run(PretrainOptions options, IEnumerable<string> corpus, string runDirectory, bool resume, IProgress<PretrainMetrics>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var math = ReproducibleMath.Ensure();
        _ = NativeHeap.Apply();
        Directory.CreateDirectory(runDirectory);
        if (options.Threads > 0) set_num_threads(options.Threads);
        string checkpointRoot = Path.Combine(runDirectory, "checkpoints");
        var latest = CheckpointStore.Latest(checkpointRoot);
        if (!resume && latest is not null)
            throw new InvalidOperationException($"{runDirectory} already holds checkpoints (latest step {latest.Value.Step}); resume, or choose a new run directory.");

        if (!resume)
        {
            // The run directory's format: the resolved options and what ran where.
            AtomicFile.WriteText(Path.Combine(runDirectory, ConfigFile), OptionsBinder.Serialize(options));
            RunInfo.Write(runDirectory, RunFormat, "pretraining", "pretrain", options.Seed, new Dictionary<string, object?>
            {
                ["corpus"] = options.CorpusPath,
                ["reproducibleMath"] = math.Active,
                ["mathMode"] = math.Description,
                ["torchThreads"] = options.Threads,
            }, [typeof(torch).Assembly]);
        }
        var lines = corpus as IReadOnlyList<string> ?? corpus.ToList();
        ITokenizer tokenizer = latest is { } ck ? LoadTokenizer(ck.Path)
            : options.TokenizerDirectory is { } dir ? LoadTokenizer(dir)
            : ByteLevelBpeTokenizer.Train(lines, options.Model.VocabSize);
        tokenizer.Save(Path.Combine(runDirectory, "tokenizer"));

        var config = options.Model.Clone();
        config.VocabSize = tokenizer.VocabSize;
        if (latest is { } c)
        {
            var saved = GptConfig.Load(Path.Combine(c.Path, "config.json"));
            if (JsonSerializer.Serialize(saved, GptConfig.Json) != JsonSerializer.Serialize(config, GptConfig.Json))
                throw new InvalidOperationException($"{c.Path}: the checkpoint's model configuration differs from the options' model; resume with the options the run started with.");
        }

        ulong seed = unchecked((ulong)options.Seed);
        manual_seed(unchecked((long)Rng.DeriveSeed(seed, "torch")));
        using var model = new GptModel(config, unchecked((long)Rng.DeriveSeed(seed, "init")));
        var stream = TokenStream.Build(lines, tokenizer, options.LinesAreDocuments, options.ValidationFraction, config.BlockSize);
        using var optimizer = new AdamOptimizer(model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)), new AdamOptions
        {
            LearningRate = options.LearningRate, Beta1 = options.Beta1, Beta2 = options.Beta2, Epsilon = 1e-8,
            WeightDecay = options.WeightDecay, MaxGradNorm = options.MaxGradNorm,
        });
        var batchRng = new Rng(Rng.DeriveSeed(seed, "batches"));

        long step = 0;
        if (latest is { } from)
        {
            ModelWeights.Load(model, Path.Combine(from.Path, "model.safetensors"));
            optimizer.Load(Path.Combine(from.Path, "optimizer.safetensors"));
            var state = TrainerState.Load(Path.Combine(from.Path, TrainerStateFile));
            step = state.Step;
            batchRng.SetState(new RngState(state.BatchRng[0], state.BatchRng[1], state.BatchRng[2], state.BatchRng[3], false, 0));
            set_rng_state(tensor(Convert.FromBase64String(state.TorchRngState)));
        }

        // One row per step that logs or evaluates (both in one row); a resume drops rows after its checkpoint and any torn line.
        using var metrics = latest is { } resumed
            ? RunMetrics.Resume(runDirectory, row => row.GetProperty("step").GetInt64() <= resumed.Step)
            : RunMetrics.Create(runDirectory);
        model.train();
        double lossSum = 0, lastLr = 0, evalLoss = double.NaN;
        int lossCount = 0;
        long tokensPerStep = (long)options.BatchSize * config.BlockSize;
        // Times training steps only, so evaluation and checkpoint writing do not dilute tokens/s.
        var clock = new System.Diagnostics.Stopwatch();
        var wall = System.Diagnostics.Stopwatch.StartNew();
        string lastCheckpoint = latest?.Path ?? "";
        while (step < options.Steps && !cancellationToken.IsCancellationRequested)
        {
            lastLr = LearningRateSchedule.WarmupCosine(step, options.LearningRate, options.MinLearningRate, options.WarmupSteps, options.Steps);
            clock.Start();
            var result = TrainingStep.Run(optimizer, () =>
            {
                var (x, y) = TokenStream.Batch(stream.Train, options.BatchSize, config.BlockSize, batchRng);
                return CausalLanguageModeling.Loss(model, x, y);
            }, lastLr);
            clock.Stop();
            step++;
            lossSum += result.Loss;
            lossCount++;

            bool last = step == options.Steps;
            bool log = step % options.LogInterval == 0 || last, evaluate = step % options.EvalInterval == 0 || last;
            if (log || evaluate)
            {
                var row = new MetricsRow().Set("step", step).Metric("learning_rate", lastLr);
                double? trainLoss = null, tokensPerSecond = null, gradNorm = null, perplexity = null;
                if (log)
                {
                    (trainLoss, gradNorm, tokensPerSecond) = (lossSum / lossCount, result.GradNorm, lossCount * tokensPerStep / clock.Elapsed.TotalSeconds);
                    row.Metric("train_loss", trainLoss).Metric("grad_norm", gradNorm).Wall("tokens_per_s", Math.Round(tokensPerSecond.Value, 1));
                    (lossSum, lossCount) = (0, 0);
                    clock.Reset();
                }
                if (evaluate)
                {
                    evalLoss = Evaluate(model, stream.Validation, options, config.BlockSize, seed);
                    perplexity = Math.Exp(evalLoss);
                    row.Metric("eval_loss", evalLoss).Metric("eval_perplexity", perplexity);
                }
                metrics.Write(row.Wall("time_s", Math.Round(wall.Elapsed.TotalSeconds, 3)));
                progress?.Report(new PretrainMetrics(step, trainLoss, lastLr, gradNorm, tokensPerSecond, evaluate ? evalLoss : null, perplexity));
            }
            if (step % options.CheckpointInterval == 0 || last)
                lastCheckpoint = SaveCheckpoint(checkpointRoot, step, model, optimizer, tokenizer, batchRng, options.KeepCheckpoints);
        }
        if (cancellationToken.IsCancellationRequested && step > (latest?.Step ?? 0) && !lastCheckpoint.EndsWith($"step-{step:D6}", StringComparison.Ordinal))
            lastCheckpoint = SaveCheckpoint(checkpointRoot, step, model, optimizer, tokenizer, batchRng, options.KeepCheckpoints);
        if (double.IsNaN(evalLoss)) evalLoss = Evaluate(model, stream.Validation, options, config.BlockSize, seed);
        return new PretrainResult(step, latest?.Step, evalLoss, lastCheckpoint);
    }

    /// <summary>Loads the tokenizer saved in <paramref name="directory"/>: byte-level BPE if vocab.json is there, else word-level.</summary>
    public static ITokenizer LoadTokenizer(string directory) =>
        File.Exists(Path.Combine(directory, ByteLevelBpeTokenizer.VocabFile))
            ? ByteLevelBpeTokenizer.Load(directory)
            : WordLevelTokenizer.Load(directory);

    /// <summary>Loads a checkpoint folder's model (config.json + model.safetensors) and tokenizer.</summary>
    public static (GptModel Model, ITokenizer Tokenizer) LoadCheckpoint(string checkpointDirectory)
    {
        var model = new GptModel(GptConfig.Load(Path.Combine(checkpointDirectory, "config.json")));
        try
        {
            ModelWeights.Load(model, Path.Combine(checkpointDirectory, "model.safetensors"));
            return (model, LoadTokenizer(checkpointDirectory));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Mean held-out loss over the same <see cref="PretrainOptions.EvalBatches"/> batches every time.</summary>
    private static double Evaluate(GptModel model, int[] validation, PretrainOptions options, int blockSize, ulong seed)
    {
        var rng = new Rng(Rng.DeriveSeed(seed, "eval"));
        model.eval();
        double sum = 0;
        using (no_grad())
        {
            for (int i = 0; i < options.EvalBatches; i++)
            {
                using var scope = NewDisposeScope();
                var (x, y) = TokenStream.Batch(validation, options.BatchSize, blockSize, rng);
                sum += CausalLanguageModeling.Loss(model, x, y).item<float>();
            }
        }
        model.train();
        return sum / options.EvalBatches;
    }

    private static string SaveCheckpoint(string root, long step, GptModel model, AdamOptimizer optimizer, ITokenizer tokenizer, Rng batchRng, int keep) =>
        CheckpointStore.Write(root, step, dir =>
        {
            ModelWeights.Save(model, Path.Combine(dir, "model.safetensors"));
            model.Config.Save(Path.Combine(dir, "config.json"));
            optimizer.Save(Path.Combine(dir, "optimizer.safetensors"));
            tokenizer.Save(dir);
            using var rngState = get_rng_state();
            new TrainerState(step, Words(batchRng.GetState()), Convert.ToBase64String(rngState.data<byte>().ToArray()))
                .Save(Path.Combine(dir, TrainerStateFile));
        }, keep);

    // The batch sampler's xoshiro words (its normal-draw spare is unused here), as trainer_state.json stores them.
    private static ulong[] Words(RngState s) => [s.S0, s.S1, s.S2, s.S3];
}

/// <summary>The non-tensor training state of a checkpoint.</summary>
/// <param name="Step">Updates completed.</param>
/// <param name="BatchRng">xoshiro256** state of the batch sampler.</param>
/// <param name="TorchRngState">libtorch's CPU generator state (dropout), base64.</param>
internal sealed record TrainerState(long Step, ulong[] BatchRng, string TorchRngState)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true };

    public void Save(string path) => AtomicFile.WriteText(path, JsonSerializer.Serialize(this, Json));

    public static TrainerState Load(string path)
    {
        try
        {
            var state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path), Json);
            if (state is null || state.BatchRng is not { Length: 4 } || string.IsNullOrEmpty(state.TorchRngState))
                throw new CheckpointException($"{path}: step, batchRng (4 words) and torchRngState are required.");
            return state;
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{path}: {e.Message}");
        }
    }
}
