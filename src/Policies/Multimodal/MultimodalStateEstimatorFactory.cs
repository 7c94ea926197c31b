using RLAgents.Environments;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Lora;
using RLAgents.LanguageModel.Model;
using RLAgents.LanguageModel.Pretrained;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Networks;

namespace RLAgents.Policies.Multimodal;

/// <summary>
/// Builds <see cref="MultimodalStateEstimator"/>s: a GPT backbone from scratch or from a pretraining
/// checkpoint, with LoRA adapters or frozen per <see cref="BackboneOptions.FineTune"/>, and the
/// tensorizer that turns text into the backbone tokenizer's ids; or, with a pretrained text encoder
/// (<see cref="BackboneOptions.Pretrained"/>), a scratch backbone whose text comes as strings through
/// <see cref="PretrainedTextTokens"/>. The encoder's package is read once per factory; every estimator gets
/// its own copy of the base weights (estimators train apart: actor and critic, the KL reference).
/// </summary>
public sealed class MultimodalStateEstimatorFactory : IStateEstimatorFactory, IDisposable
{
    private readonly MultimodalOptions _options;
    private readonly GptConfig _config;
    private readonly string? _weights;
    private readonly PretrainedTextEncoder? _text;
    private readonly bool _ownsText;

    /// <summary>
    /// Reads the checkpoint's configuration and tokenizer (if one is given) or prepares a scratch backbone
    /// whose text goes through <paramref name="tokenizer"/> (required then: see <see cref="TextTokenizers.ForVocabulary"/>),
    /// or, with <see cref="BackboneOptions.Pretrained"/>, the pretrained text encoder the options name (then no tokenizer
    /// is needed): <paramref name="textEncoder"/> when given (already loaded, frozen, without adapters; the caller keeps
    /// owning it), else loaded from its package.
    /// </summary>
    public MultimodalStateEstimatorFactory(MultimodalOptions options, ITokenizer? tokenizer = null, PretrainedTextEncoder? textEncoder = null)
    {
        _options = options;
        var b = options.Backbone;
        if (b.Pretrained is { } text)
        {
            if (b.Checkpoint is not null)
                throw new ArgumentException("policy.multimodal.backbone: pretrained reads the text itself, so it cannot be combined with checkpoint (a GPT pretrained to read text); drop one of them.");
            if (b.NEmbd % b.NHead != 0) throw new ArgumentException($"policy.multimodal.backbone.nEmbd ({b.NEmbd}) must be a multiple of nHead ({b.NHead}).");
            text.Validate();
            if (textEncoder is not null && !string.Equals(textEncoder.Info.Name, text.Name, StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"policy.multimodal.backbone.pretrained names '{text.Name}' but the encoder given is '{textEncoder.Info.Name}'.");
            _ownsText = textEncoder is null;
            _text = textEncoder ?? PretrainedTextEncoders.Load(text.Name, maxTokens: text.MaxTokens ?? options.MaxTextTokens, dropout: text.Dropout);
            // Text never reaches the backbone's token table: one row keeps the model well formed.
            _config = new GptConfig
            {
                VocabSize = 1, BlockSize = b.BlockSize, NLayer = b.NLayer, NHead = b.NHead, NEmbd = b.NEmbd, Causal = false, Dropout = 0,
            };
        }
        else if (b.Checkpoint is { } dir)
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

    /// <summary>The tokenizer text modalities go through (null when a pretrained text encoder reads them).</summary>
    public ITokenizer? Tokenizer { get; }

    /// <summary>The pretrained text encoder every estimator copies, or null.</summary>
    public PretrainedTextEncoder? TextEncoder => _text;

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
        // The text encoder draws after the backbone, so a config without one initialises exactly as before.
        var text = _text is null ? null : new PretrainedTextTokens(_text.Copy(), b.Pretrained!, _config.NEmbd, rng);
        MultimodalStateEstimator estimator;
        try
        {
            estimator = new MultimodalStateEstimator(space, _options, model, Tokenizer?.Special.Pad ?? 0, rng, text);
        }
        catch (ArgumentException e)
        {
            // The constructor checks the options against the env's observations (a fusion mode or cell matching the
            // modalities cannot feed, a sequence longer than blockSize): a configuration mistake, reported as one.
            model.Dispose();
            text?.Dispose();
            // Messages that name their key already (policy.multimodal.cellTextMatching …) keep it; others get the section's.
            throw new Environments.Configuration.ConfigurationException(e.Message.StartsWith("policy.", StringComparison.Ordinal) ? "" : "policy.multimodal", e.Message);
        }
        // Default trainable set of the backbone (LoRA: the adapters only, as Attach left it); phases may override it for the whole policy.
        if (b.FineTune == FineTuneMode.Frozen)
            foreach (var p in model.parameters()) p.requires_grad = false;
        return estimator;
    }

    /// <inheritdoc />
    public ObservationTensorizer CreateTensorizer(ObservationSpace space) =>
        new(space, m => Tokenizer is null ? new RawTextTensorizer() : new TokenIdTensorizer(Tokenizer, _options.MaxTextTokens));

    /// <summary>Disposes the pretrained encoder the estimators copy when this factory loaded it (not the estimators).</summary>
    public void Dispose()
    {
        if (_ownsText) _text?.Dispose();
    }
}
