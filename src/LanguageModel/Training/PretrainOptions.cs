using System.ComponentModel.DataAnnotations;
using RLAgents.LanguageModel.Model;

namespace RLAgents.LanguageModel.Training;

/// <summary>Options of <c>rlagents pretrain</c>: causal-LM training of a <see cref="GptModel"/> on a text corpus.</summary>
public sealed class PretrainOptions : IValidatableObject
{
    /// <summary>Model shape. <c>vocabSize</c> is the size a new BPE tokenizer is trained to; the model takes the tokenizer's actual size.</summary>
    [Required] public GptConfig Model { get; set; } = new();

    /// <summary>UTF-8 text file to train on (ignored when a corpus is passed to <see cref="Pretrainer.Run(PretrainOptions, IEnumerable{string}, string, bool, IProgress{PretrainMetrics}?, CancellationToken)"/>).</summary>
    public string? CorpusPath { get; set; }

    /// <summary>
    /// True: every line is a document, encoded on its own and followed by &lt;eos&gt;. False: the text is one
    /// stream and newlines are tokens.
    /// </summary>
    public bool LinesAreDocuments { get; set; } = true;

    /// <summary>Folder with an existing tokenizer (vocab.json + merges.txt, or word_vocab.json); null = train byte-level BPE on the corpus.</summary>
    public string? TokenizerDirectory { get; set; }

    /// <summary>Fraction of the token stream (its end) held out for evaluation perplexity.</summary>
    [Range(0.001, 0.5)] public double ValidationFraction { get; set; } = 0.1;

    /// <summary>Sequences per update; each is <c>model.blockSize</c> tokens long.</summary>
    [Range(1, 1 << 16)] public int BatchSize { get; set; } = 32;

    /// <summary>Number of optimisation steps.</summary>
    [Range(1, int.MaxValue)] public int Steps { get; set; } = 1000;

    /// <summary>Peak learning rate (reached at the end of warmup).</summary>
    [Range(1e-8, 1.0)] public double LearningRate { get; set; } = 1e-3;

    /// <summary>Learning rate at the end of the cosine decay.</summary>
    [Range(0.0, 1.0)] public double MinLearningRate { get; set; } = 1e-4;

    /// <summary>Linear warmup steps.</summary>
    [Range(0, int.MaxValue)] public int WarmupSteps { get; set; } = 100;

    /// <summary>AdamW decoupled weight decay (matrices only).</summary>
    [Range(0.0, 1.0)] public double WeightDecay { get; set; } = 0.1;

    /// <summary>AdamW β₁.</summary>
    [Range(0.0, 0.9999)] public double Beta1 { get; set; } = 0.9;

    /// <summary>AdamW β₂.</summary>
    [Range(0.0, 0.99999)] public double Beta2 { get; set; } = 0.95;

    /// <summary>Global gradient-norm clip; 0 disables clipping.</summary>
    [Range(0.0, 1e6)] public double MaxGradNorm { get; set; } = 1.0;

    /// <summary>Steps between evaluations of the held-out perplexity (and at the last step).</summary>
    [Range(1, int.MaxValue)] public int EvalInterval { get; set; } = 100;

    /// <summary>Batches per evaluation (the same batches every time, so evaluations are comparable).</summary>
    [Range(1, 10_000)] public int EvalBatches { get; set; } = 10;

    /// <summary>Steps between training-metric lines.</summary>
    [Range(1, int.MaxValue)] public int LogInterval { get; set; } = 10;

    /// <summary>Steps between checkpoints (one is always written at the end).</summary>
    [Range(1, int.MaxValue)] public int CheckpointInterval { get; set; } = 500;

    /// <summary>How many of the newest checkpoints to keep.</summary>
    [Range(1, 1000)] public int KeepCheckpoints { get; set; } = 2;

    /// <summary>Run seed: model initialisation, dropout and batch sampling all derive from it.</summary>
    public long Seed { get; set; } = 1;

    /// <summary>libtorch intra-op threads; 0 keeps libtorch's default.</summary>
    [Range(0, 1024)] public int Threads { get; set; }

    /// <summary>Validates every field (the model too); throws <see cref="ValidationException"/> naming the field.</summary>
    public void Validate()
    {
        Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);
        try { Model.Validate(); }
        catch (ValidationException e) { throw new ValidationException($"model: {e.Message}"); }
    }

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MinLearningRate > LearningRate)
            yield return new ValidationResult($"minLearningRate ({MinLearningRate}) must not exceed learningRate ({LearningRate}).", [nameof(MinLearningRate)]);
        if (WarmupSteps > Steps)
            yield return new ValidationResult($"warmupSteps ({WarmupSteps}) must not exceed steps ({Steps}).", [nameof(WarmupSteps)]);
    }
}

/// <summary>A metrics record: training metrics every <see cref="PretrainOptions.LogInterval"/> steps, evaluation ones every <see cref="PretrainOptions.EvalInterval"/>.</summary>
/// <param name="Step">Updates completed.</param>
/// <param name="TrainLoss">Mean training loss since the previous record, or null on evaluation-only records.</param>
/// <param name="LearningRate">Learning rate of the last update.</param>
/// <param name="GradNorm">Gradient norm before clipping at the last update.</param>
/// <param name="TokensPerSecond">Training throughput since the previous record.</param>
/// <param name="EvalLoss">Held-out loss, on evaluation records.</param>
/// <param name="EvalPerplexity">exp(<paramref name="EvalLoss"/>).</param>
public sealed record PretrainMetrics(long Step, double? TrainLoss, double LearningRate, double? GradNorm, double? TokensPerSecond, double? EvalLoss, double? EvalPerplexity);

/// <summary>What a pretraining run ended with.</summary>
/// <param name="Step">Updates completed.</param>
/// <param name="ResumedFromStep">The checkpoint step it resumed from, or null for a fresh run.</param>
/// <param name="FinalEvalLoss">Held-out loss at the end.</param>
/// <param name="CheckpointDirectory">The last checkpoint written.</param>
public sealed record PretrainResult(long Step, long? ResumedFromStep, double FinalEvalLoss, string CheckpointDirectory);
