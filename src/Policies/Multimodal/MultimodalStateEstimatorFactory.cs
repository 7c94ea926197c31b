using RLAgents.Environments;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Lora;
using RLAgents.LanguageModel.Model;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Networks;

namespace RLAgents.Policies.Multimodal;

/// <summary>
/// Builds <see cref="MultimodalStateEstimator"/>s: a GPT backbone from scratch or from a pretraining
/// checkpoint, with LoRA adapters or frozen per <see cref="BackboneOptions.FineTune"/>, and the
/// tensorizer that turns text into the backbone tokenizer's ids.
/// </summary>
public sealed class MultimodalStateEstimatorFactory : IStateEstimatorFactory
{
    private readonly MultimodalOptions _options;
    private readonly GptConfig _config;
    private readonly string? _weights;

    /// <summary>
    /// Reads the checkpoint's configuration and tokenizer (if one is given) or prepares a scratch backbone
    /// whose text goes through <paramref name="tokenizer"/> (required then: see <see cref="TextTokenizers.ForVocabulary"/>).
    /// </summary>
    public MultimodalStateEstimatorFactory(MultimodalOptions options, ITokenizer? tokenizer = null)
    {
        _options = options;
        var b = options.Backbone;
        if (b.Checkpoint is { } dir)
        {
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"policy.multimodal.backbone.checkpoint: folder '{dir}' does not exist.");
            _config = GptConfig.Load(Path.Combine(dir, "config.json"));
            _weights = Path.Combine(dir, "model.safetensors");
            if (!File.Exists(_weights)) throw new FileNotFoundException($"policy.multimodal.backbone.checkpoint: '{_weights}' does not exist.", _weights);
            Tokenizer = tokenizer ?? LanguageModel.Training.Pretrainer.LoadTokenizer(dir);
            if (Tokenizer.VocabSize > _config.VocabSize)
                throw new ArgumentException($"policy.multimodal.backbone.checkpoint: the tokenizer has {Tokenizer.VocabSize} ids but the model only {_config.VocabSize}.");
        }
        else
        {
            if (b.NEmbd % b.NHead != 0) throw new ArgumentException($"policy.multimodal.backbone.nEmbd ({b.NEmbd}) must be a multiple of nHead ({b.NHead}).");
            Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer), "A scratch backbone needs the tokenizer of the environment's text.");
            _config = new GptConfig
            {
                VocabSize = Tokenizer.VocabSize, BlockSize = b.BlockSize, NLayer = b.NLayer, NHead = b.NHead, NEmbd = b.NEmbd,
                Causal = false, Dropout = 0,
            };
        }
    }

    /// <summary>The tokenizer text modalities go through.</summary>
    public ITokenizer Tokenizer { get; }

    /// <summary>The backbone's configuration.</summary>
    public GptConfig BackboneConfig => _config;

    /// <inheritdoc />
    public StateEstimator Create(ObservationSpace space, Rng rng)
    {
        ulong seed = rng.NextUInt64();
        var model = new GptModel(_config, unchecked((long)seed));
        if (_weights is not null) ModelWeights.Load(model, _weights);
        var b = _options.Backbone;
        // Adapters draw from a derived seed so the rest of the network is initialised as without LoRA (B = 0: same outputs).
        if (b.FineTune == FineTuneMode.Lora)
            LoraAdapters.Attach(model, new LoraOptions { Rank = b.LoraRank, Alpha = b.LoraAlpha, Seed = unchecked((long)Rng.DeriveSeed(seed, "lora")) });
        var estimator = new MultimodalStateEstimator(space, _options, model, Tokenizer.Special.Pad, rng);
        // Default trainable set of the backbone (LoRA: the adapters only, as Attach left it); phases may override it for the whole policy.
        if (b.FineTune == FineTuneMode.Frozen)
            foreach (var p in model.parameters()) p.requires_grad = false;
        return estimator;
    }

    /// <inheritdoc />
    public ObservationTensorizer CreateTensorizer(ObservationSpace space) =>
        new(space, m => new TokenIdTensorizer(Tokenizer, _options.MaxTextTokens));
}
