using System.Text.Json;
using RLAgents.LanguageModel.Model;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.LanguageModel.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Tests.Training;

/// <summary>Runs that use dropout draw from libtorch's process-wide generator, so they must not run beside each other.</summary>
[CollectionDefinition(nameof(GlobalTorchRng), DisableParallelization = true)]
public sealed class GlobalTorchRng;

[Collection(nameof(GlobalTorchRng))]
public class PretrainerTests
{
    private sealed class Collect : IProgress<PretrainMetrics>
    {
        public List<PretrainMetrics> Records { get; } = [];
        public Action<PretrainMetrics>? OnReport { get; init; }
        public void Report(PretrainMetrics value)
        {
            Records.Add(value);
            OnReport?.Invoke(value);
        }
    }

    private static PretrainOptions Options(int steps, double dropout = 0) => new()
    {
        Model = new GptConfig { VocabSize = 300, BlockSize = 24, NLayer = 2, NHead = 2, NEmbd = 32, Dropout = dropout },
        BatchSize = 16, Steps = steps, LearningRate = 3e-3, MinLearningRate = 3e-4, WarmupSteps = 10,
        EvalInterval = 10, EvalBatches = 4, LogInterval = 10, CheckpointInterval = 20, Seed = 5,
    };

    [Fact]
    public void PerplexityFallsOnAGeneratedCorpus()
    {
        using var dir = new TempDirectory();
        var progress = new Collect();
        var result = Pretrainer.Run(Options(120), CorpusGenerator.Sentences(3000, 1), dir.Path, resume: false, progress);

        var evals = progress.Records.Where(r => r.EvalPerplexity is not null).ToList();
        Assert.Equal(12, evals.Count);
        // After 10 steps the model is still near unigram statistics; by 120 it must have learned the grammar.
        Assert.True(evals[^1].EvalPerplexity < evals[0].EvalPerplexity / 2, $"perplexity {evals[0].EvalPerplexity} → {evals[^1].EvalPerplexity}");
        Assert.True(evals[^1].EvalPerplexity < 4.0, $"final perplexity {evals[^1].EvalPerplexity}");
        Assert.Equal(120, result.Step);
        Assert.Null(result.ResumedFromStep);

        string[] lines = File.ReadAllLines(Path.Combine(dir.Path, "metrics.jsonl"));
        Assert.Equal(progress.Records.Count, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        Assert.Equal(10, first.RootElement.GetProperty("step").GetInt64());
        Assert.True(first.RootElement.TryGetProperty("train_loss", out _));

        // Checkpoints: keep the newest two, each complete and loadable.
        var checkpoints = Directory.GetDirectories(Path.Combine(dir.Path, "checkpoints")).Select(d => Path.GetFileName(d)!).Order().ToArray();
        Assert.Equal(["step-000100", "step-000120"], checkpoints);
        var (model, tokenizer) = Pretrainer.LoadCheckpoint(result.CheckpointDirectory);
        using (model)
        {
            Assert.Equal(tokenizer.VocabSize, model.Config.VocabSize);
            Assert.Equal("go to the red ball", tokenizer.Decode(tokenizer.Encode("go to the red ball")));
        }

        var again = Assert.Throws<InvalidOperationException>(() => Pretrainer.Run(Options(120), CorpusGenerator.Sentences(3000, 1), dir.Path, resume: false));
        Assert.Contains("already holds checkpoints", again.Message);
    }

    [Fact]
    public void ResumedRunEqualsUninterruptedRun()
    {
        using var straight = new TempDirectory();
        using var interrupted = new TempDirectory();
        var corpus = CorpusGenerator.Sentences(1500, 2);
        var options = Options(40, dropout: 0.1);

        var full = Pretrainer.Run(options, corpus, straight.Path, resume: false);

        using var cancel = new CancellationTokenSource();
        var stopAt20 = new Collect { OnReport = r => { if (r.Step == 20) cancel.Cancel(); } };
        var partial = Pretrainer.Run(options, corpus, interrupted.Path, resume: false, stopAt20, cancel.Token);
        Assert.Equal(20, partial.Step);
        // Scribble over libtorch's generator: resume must restore it from the checkpoint.
        manual_seed(12345);
        var resumed = Pretrainer.Run(options, corpus, interrupted.Path, resume: true);
        Assert.Equal(20, resumed.ResumedFromStep);
        Assert.Equal(40, resumed.Step);

        Assert.Equal(full.FinalEvalLoss, resumed.FinalEvalLoss);
        Assert.Equal(File.ReadAllBytes(Path.Combine(full.CheckpointDirectory, "model.safetensors")),
                     File.ReadAllBytes(Path.Combine(resumed.CheckpointDirectory, "model.safetensors")));
        static string[] Losses(string dir) => File.ReadAllLines(Path.Combine(dir, "metrics.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => $"{e.GetProperty("step")}:{(e.TryGetProperty("train_loss", out var t) ? t.GetDouble() : double.NaN)}:{(e.TryGetProperty("eval_loss", out var v) ? v.GetDouble() : double.NaN)}")
            .ToArray();
        Assert.Equal(Losses(straight.Path), Losses(interrupted.Path));
    }

    [Fact]
    public void LiveTensorCountStaysFlatOverManySteps()
    {
        using var model = new GptModel(new GptConfig { VocabSize = 50, BlockSize = 16, NLayer = 2, NHead = 2, NEmbd = 16, Dropout = 0 });
        using var optimizer = new AdamOptimizer(model.named_parameters().Select(p => (p.name, p.parameter)), new AdamOptions { Beta2 = 0.95, WeightDecay = 0.1, MaxGradNorm = 1.0 });
        using var g = new Generator(3);
        TrainingStepResult Step() => TrainingStep.Run(optimizer, () =>
        {
            var ids = randint(50, [4, 17], dtype: int64, generator: g);
            return CausalLanguageModeling.Loss(model, ids[.., ..16], ids[.., 1..]);
        }, 1e-3);

        for (int i = 0; i < 3; i++) Step();
        long before = DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount;
        for (int i = 0; i < 60; i++) Step();
        Assert.Equal(before, DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void TrainsFromACorpusFileWithAGivenWordTokenizer()
    {
        using var dir = new TempDirectory();
        var lines = CorpusGenerator.Sentences(400, 3);
        string corpus = Path.Combine(dir.Path, "corpus.txt");
        File.WriteAllLines(corpus, lines);
        string tokenizerDir = Path.Combine(dir.Path, "words");
        Directory.CreateDirectory(tokenizerDir);
        WordLevelTokenizer.Build(lines).Save(tokenizerDir);

        var options = Options(10);
        options.CorpusPath = corpus;
        options.TokenizerDirectory = tokenizerDir;
        var result = Pretrainer.Run(options, Path.Combine(dir.Path, "run"), resume: false);
        var (model, tokenizer) = Pretrainer.LoadCheckpoint(result.CheckpointDirectory);
        using (model)
        {
            Assert.IsType<WordLevelTokenizer>(tokenizer);
            Assert.Equal(tokenizer.VocabSize, model.Config.VocabSize);
        }
        // Resuming a finished run does no more steps and reports where it resumed.
        var again = Pretrainer.Run(options, Path.Combine(dir.Path, "run"), resume: true);
        Assert.Equal((10L, 10L), (again.Step, again.ResumedFromStep!.Value));

        options.CorpusPath = Path.Combine(dir.Path, "missing.txt");
        Assert.Contains("corpusPath", Assert.Throws<FileNotFoundException>(() => Pretrainer.Run(options, Path.Combine(dir.Path, "run2"), false)).Message);
    }

    [Fact]
    public void InvalidOptionsNameTheField()
    {
        using var dir = new TempDirectory();
        var bad = Options(10);
        bad.BatchSize = 0;
        Assert.Contains("BatchSize", Assert.Throws<System.ComponentModel.DataAnnotations.ValidationException>(() => Pretrainer.Run(bad, ["a b c"], dir.Path, false)).Message);
        var warm = Options(10);
        warm.WarmupSteps = 20;
        Assert.Contains("warmupSteps", Assert.Throws<System.ComponentModel.DataAnnotations.ValidationException>(() => Pretrainer.Run(warm, ["a b c"], dir.Path, false)).Message);
        var tooSmall = Assert.Throws<InvalidDataException>(() => Pretrainer.Run(Options(10), ["a b c"], dir.Path, false));
        Assert.Contains("too few", tooSmall.Message);
    }
}
