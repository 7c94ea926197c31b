using RLAgents.Environments;
using RLAgents.LanguageModel.Lora;
using RLAgents.LanguageModel.Model;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.LanguageModel.Training;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.FineTuning;

/// <summary>
/// Supervised fine-tuning of a <see cref="GptModel"/> on (prompt, target) pairs, full or through LoRA
/// adapters. <see cref="ComputeLoss"/> is the reusable piece: an agent's supervised phase can add it
/// to its own loss and optimiser; <see cref="Step"/> and <see cref="Train"/> run the updates here.
/// </summary>
public sealed class SftTrainer : IDisposable
{
    private readonly GptModel _model;
    private readonly ITokenizer _tokenizer;
    private readonly TextSftOptions _options;
    private readonly AdamOptimizer _optimizer;
    private readonly Rng _rng;

    /// <summary>Prepares fine-tuning; with <see cref="TextSftOptions.Lora"/> set, adapters are attached and the base frozen.</summary>
    public SftTrainer(GptModel model, ITokenizer tokenizer, TextSftOptions options)
    {
        options.Validate();
        if (tokenizer.VocabSize > model.Config.VocabSize)
            throw new ArgumentException($"The tokenizer has {tokenizer.VocabSize} ids but the model only {model.Config.VocabSize}.", nameof(tokenizer));
        _model = model;
        _tokenizer = tokenizer;
        _options = options;
        if (options.Lora is not null && !model.Projections().Any(p => p.Layer.HasAdapter)) LoraAdapters.Attach(model, options.Lora);
        _optimizer = new AdamOptimizer(LoraAdapters.TrainableParameters(model), new AdamOptions
        {
            LearningRate = options.LearningRate, Beta2 = 0.95, WeightDecay = options.WeightDecay, MaxGradNorm = options.MaxGradNorm,
        });
        _rng = new Rng(Rng.DeriveSeed(unchecked((ulong)options.Seed), "sft-batches"));
    }

    /// <summary>Updates made so far.</summary>
    public long StepCount => _optimizer.StepCount;

    /// <summary>Tokenises and pads <paramref name="examples"/> for this model's block size.</summary>
    public SftBatch Collate(IReadOnlyList<SftExample> examples) => SftBatch.Collate(examples, _tokenizer, _model.Config.BlockSize);

    /// <summary>Mean cross-entropy over target tokens only (prompt and padding masked out): a scalar with its graph attached.</summary>
    public Tensor ComputeLoss(SftBatch batch) => MaskedLoss(_model, batch);

    /// <summary>The masked loss for any model and batch (see <see cref="ComputeLoss"/>).</summary>
    public static Tensor MaskedLoss(GptModel model, SftBatch batch) =>
        CausalLanguageModeling.Loss(model, batch.Inputs, batch.Labels, batch.AttentionMask);

    /// <summary>One update on <paramref name="examples"/>, at the scheduled learning rate.</summary>
    public TrainingStepResult Step(IReadOnlyList<SftExample> examples)
    {
        double lr = LearningRateSchedule.WarmupCosine(_optimizer.StepCount, _options.LearningRate, _options.MinLearningRate, _options.WarmupSteps, _options.Updates);
        _model.train();
        return TrainingStep.Run(_optimizer, () =>
        {
            var batch = Collate(examples);
            return ComputeLoss(batch);
        }, lr);
    }

    /// <summary>Runs <see cref="SupervisedOptions.Updates"/> updates on random minibatches of <paramref name="data"/>; returns each step's loss.</summary>
    public IReadOnlyList<double> Train(IReadOnlyList<SftExample> data, IProgress<(long Step, double Loss)>? progress = null, CancellationToken cancellationToken = default)
    {
        if (data.Count == 0) throw new ArgumentException("No fine-tuning examples.", nameof(data));
        var losses = new List<double>();
        var minibatch = new SftExample[Math.Min(_options.BatchSize, data.Count)];
        while (_optimizer.StepCount < _options.Updates && !cancellationToken.IsCancellationRequested)
        {
            for (int i = 0; i < minibatch.Length; i++) minibatch[i] = data[_rng.NextInt(data.Count)];
            double loss = Step(minibatch).Loss;
            losses.Add(loss);
            progress?.Report((_optimizer.StepCount, loss));
        }
        return losses;
    }

    /// <summary>Greedy continuation of <paramref name="prompt"/> in the SFT layout, up to &lt;eos&gt; or <paramref name="maxTokens"/>.</summary>
    public string Generate(string prompt, int maxTokens = 32)
    {
        var special = _tokenizer.Special;
        int[] ids = [special.Bos, .. _tokenizer.Encode(prompt), special.Sep];
        var generated = Generation.Greedy(_model, ids, maxTokens, special.Eos);
        return _tokenizer.Decode(generated, skipSpecial: true);
    }

    /// <summary>Frees the optimiser state (the model belongs to the caller).</summary>
    public void Dispose() => _optimizer.Dispose();
}
