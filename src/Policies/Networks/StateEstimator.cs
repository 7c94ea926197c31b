using RLAgents.Environments;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Multimodal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Policies.Networks;

/// <summary>
/// The state estimator: observations of one space → a state representation [B, StateSize].
/// This is the seam every backbone fits: the MLP estimator below concatenates per-modality
/// features; a Transformer estimator tokenises the modalities and pools its output to the same
/// [B, D] state, and the heads never know which one they read.
/// </summary>
public abstract partial class StateEstimator : nn.Module<ObservationInput, Tensor>
{
    /// <summary>Creates the module.</summary>
    protected StateEstimator(string name) : base(name) { }

    /// <summary>Width D of the state representation.</summary>
    public abstract int StateSize { get; }
}

/// <summary>Builds state estimators for an observation space (one per actor, critic or Q-network).</summary>
public interface IStateEstimatorFactory
{
    /// <summary>A freshly initialised estimator for <paramref name="space"/>, its weights drawn from <paramref name="rng"/>.</summary>
    StateEstimator Create(ObservationSpace space, Rng rng);

    /// <summary>How observations reach this factory's estimators (e.g. text as token ids or as a bag of tokens).</summary>
    ObservationTensorizer CreateTensorizer(ObservationSpace space);
}

/// <summary>
/// A backbone over fused features: [B, InputSize] → [B, OutputSize]. MLP today; any module with
/// this shape (a Transformer reading one feature token, an RNN cell) can replace it.
/// </summary>
public abstract partial class Backbone : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module.</summary>
    protected Backbone(string name) : base(name) { }

    /// <summary>Feature width read.</summary>
    public abstract int InputSize { get; }

    /// <summary>State width produced.</summary>
    public abstract int OutputSize { get; }
}

/// <summary>A multilayer perceptron: Linear → activation, for each hidden width.</summary>
public sealed partial class MlpBackbone : Backbone
{
    private readonly ModuleList<Linear> layers;
    private readonly Activation _activation;
    private readonly int _in, _out;

    /// <summary>Creates the MLP; with <paramref name="orthogonalInit"/> weights are orthogonal with gain √2 and biases zero (CleanRL).</summary>
    public MlpBackbone(int inputSize, IReadOnlyList<int> hiddenSizes, Activation activation, bool orthogonalInit, Rng rng) : base(nameof(MlpBackbone))
    {
        _in = inputSize;
        _activation = activation;
        layers = new ModuleList<Linear>();
        int width = inputSize;
        foreach (int h in hiddenSizes)
        {
            var layer = nn.Linear(width, h);
            Init.Linear(layer, rng, orthogonalInit ? Math.Sqrt(2) : null);
            layers.Add(layer);
            width = h;
        }
        _out = width;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override int InputSize => _in;

    /// <summary>The hidden layers in order, each followed by the activation (for <see cref="HostMlp"/>).</summary>
    internal IEnumerable<(Linear Layer, Activation Activation)> Layers => layers.Select(l => (l, _activation));

    /// <inheritdoc />
    public override int OutputSize => _out;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        // [B, in] → [B, h₁] → … → [B, OutputSize]; intermediates belong to the caller's dispose scope.
        var x = input;
        foreach (var layer in layers)
        {
            var z = layer.forward(x);
            x = _activation == Activation.Tanh ? z.tanh() : z.relu();
        }
        return ReferenceEquals(x, input) ? input.alias() : x;
    }
}

/// <summary>One encoder per modality in the space's fixed order, concatenated, then a backbone.</summary>
public sealed partial class EncoderStateEstimator : StateEstimator
{
    private readonly ModuleList<ModalityEncoder> encoders;
    private readonly Backbone backbone;

    /// <summary>Combines <paramref name="encoderList"/> (one per modality, in order) with <paramref name="backboneModule"/>.</summary>
    public EncoderStateEstimator(IEnumerable<ModalityEncoder> encoderList, Backbone backboneModule) : base(nameof(EncoderStateEstimator))
    {
        encoders = new ModuleList<ModalityEncoder>(encoderList.ToArray());
        int features = encoders.Sum(e => e.OutputSize);
        if (features != backboneModule.InputSize)
            throw new ArgumentException($"Encoders produce {features} features but the backbone reads {backboneModule.InputSize}.");
        backbone = backboneModule;
        RegisterComponents();
    }

    /// <summary>Total width of the concatenated modality features.</summary>
    public int FeatureSize => encoders.Sum(e => e.OutputSize);

    /// <inheritdoc />
    public override int StateSize => backbone.OutputSize;

    /// <summary>
    /// The MLP layers when this estimator is one float vector modality (read as is) into an <see cref="MlpBackbone"/>,
    /// the shape <see cref="HostMlp"/> runs on the host; otherwise null.
    /// </summary>
    internal IReadOnlyList<(Linear Layer, Activation Activation)>? HostLayers =>
        encoders.Count == 1 && encoders[0] is VectorEncoder && backbone is MlpBackbone mlp && mlp.Layers.Any() ? mlp.Layers.ToList() : null;

    /// <inheritdoc />
    public override Tensor forward(ObservationInput input)
    {
        // Intermediates belong to the caller's dispose scope (one per step or minibatch).
        if (encoders.Count == 1) return backbone.forward(encoders[0].forward(input[0]));
        var parts = new Tensor[encoders.Count];
        for (int m = 0; m < parts.Length; m++) parts[m] = encoders[m].forward(input[m]);
        return backbone.forward(cat(parts, 1)); // features [B, Σ feature widths]
    }
}

/// <summary>
/// Builds <see cref="EncoderStateEstimator"/>s with an <see cref="MlpBackbone"/> from <see cref="PolicyOptions"/>.
/// Text modalities become bags of tokens of <paramref name="textTokenizer"/> (the environment's
/// vocabulary, see <see cref="TextTokenizers.ForVocabulary"/>); without one, a word-vocabulary
/// <see cref="TextSpace"/> gives its own words and any other text is read byte by byte.
/// </summary>
public sealed class MlpStateEstimatorFactory(PolicyOptions options, ITokenizer? textTokenizer = null) : IStateEstimatorFactory
{
    /// <inheritdoc />
    public StateEstimator Create(ObservationSpace space, Rng rng)
    {
        var tensorizer = CreateTensorizer(space);
        var encoders = space.Modalities.Select((m, i) => ModalityEncoder.Create(m, options, tensorizer, i, rng)).ToList();
        var backbone = new MlpBackbone(encoders.Sum(e => e.OutputSize), options.HiddenSizes, options.Activation, options.OrthogonalInit, rng);
        return new EncoderStateEstimator(encoders, backbone);
    }

    /// <inheritdoc />
    public ObservationTensorizer CreateTensorizer(ObservationSpace space) =>
        new(space, m => new BagOfTokensTensorizer(textTokenizer ?? TextTokenizers.ForVocabulary(((TextSpace)space[m].Space).Vocabulary)));
}

