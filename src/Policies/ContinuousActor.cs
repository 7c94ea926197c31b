using RLAgents.Environments;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Policies;

/// <summary>
/// The actor of off-policy continuous control (SAC, TD3): a state estimator and a head giving, per
/// continuous action element, the mean μ(s) and a state-dependent log σ(s) of a tanh-squashed Gaussian
/// whose samples span the Box bounds. SAC samples it (<see cref="Sample"/>); TD3 uses its mode
/// bias + scale·tanh(μ(s)) as the deterministic policy (<see cref="Deterministic"/>). Box action spaces only.
/// </summary>
public sealed class ContinuousActor : Policy
{
    /// <summary>log σ is squashed into [<see cref="LogStdMin"/>, <see cref="LogStdMax"/>] (CleanRL's sac_continuous_action.py, SpinningUp).</summary>
    public const double LogStdMin = -5, LogStdMax = 2;

    private readonly StateEstimator estimator;
    private readonly Linear policyHead;
    private readonly PolicyOptions _options;
    private readonly IStateEstimatorFactory _estimators;

    /// <summary>Builds the network; weights are drawn from <paramref name="rng"/>.</summary>
    public ContinuousActor(ObservationSpace observationSpace, Space actionSpace, PolicyOptions options, IStateEstimatorFactory estimators, Rng rng)
        : base(nameof(ContinuousActor), observationSpace, RequireBox(actionSpace), estimators.CreateTensorizer(observationSpace), squashed: true)
    {
        _options = options;
        _estimators = estimators;
        estimator = estimators.Create(observationSpace, rng);
        policyHead = nn.Linear(estimator.StateSize, Distribution.HeadSize(stateDependentStd: true));
        Init.Linear(policyHead, rng, options.OrthogonalInit ? 0.01 : null);
        RegisterComponents();
    }

    /// <summary>Convenience: an MLP state estimator from <paramref name="options"/>.</summary>
    public ContinuousActor(ObservationSpace observationSpace, Space actionSpace, PolicyOptions options, Rng rng)
        : this(observationSpace, actionSpace, options, new MlpStateEstimatorFactory(options), rng) { }

    private static Space RequireBox(Space space) =>
        space is BoxSpace ? space : throw new NotSupportedException($"SAC and TD3 act in a Box action space; this environment's is {space}.");

    /// <summary>The distribution's parameters [B, 2·Kc]: μ(s), then log σ(s) = min + ½(max − min)(tanh(x) + 1).</summary>
    public Tensor Parameters(ObservationInput observations)
    {
        var head = policyHead.forward(estimator.forward(observations));
        int kc = Distribution.ContinuousCount;
        var mean = head.narrow(1, 0, kc);
        var logStd = head.narrow(1, kc, kc).tanh().add(1).mul(0.5 * (LogStdMax - LogStdMin)).add(LogStdMin);
        return cat([mean, logStd], 1);
    }

    /// <summary>Reparameterised actions [B, Kc] in env units and their log π(a|s) [B], with ε ~ N(0, I) [B, Kc] given (SAC).</summary>
    public (Tensor Actions, Tensor LogProbs) Sample(ObservationInput observations, Tensor noise) =>
        Distribution.RSample(Parameters(observations), noise);

    /// <summary>The deterministic action bias + scale·tanh(μ(s)) [B, Kc] (TD3's actor).</summary>
    public Tensor Deterministic(ObservationInput observations) => Distribution.Mode(Parameters(observations));

    /// <summary>A network of the same architecture holding a copy of these weights (a target actor).</summary>
    public ContinuousActor CloneNetwork()
    {
        var copy = new ContinuousActor(ObservationSpace, ActionSpace, _options, _estimators, new Rng(0UL));
        copy.CopyFrom(this);
        return copy;
    }

    /// <inheritdoc />
    protected override (Tensor Preferences, Tensor? Values) ActingOutputs(ObservationInput observations, bool withValues) =>
        (Parameters(observations), null);
}

/// <summary>
/// A critic Q(s, a) [B] over continuous actions: the action joins the observation as one more float
/// modality (<c>action</c>, the Box), so one state estimator reads both (for the MLP, CleanRL's
/// Linear(obs + act) stack; the Transformer gets an action token) and a linear head gives the value.
/// </summary>
public sealed class ContinuousQNetwork : nn.Module
{
    /// <summary>Name of the modality that carries the action.</summary>
    public const string ActionModality = "action";

    private readonly StateEstimator estimator;
    private readonly Linear q_head;
    private readonly ObservationSpace _space;
    private readonly PolicyOptions _options;
    private readonly IStateEstimatorFactory _estimators;
    private readonly ObservationSpace _observations;
    private readonly BoxSpace _actions;

    /// <summary>Builds the network for observations of <paramref name="observationSpace"/> and actions of <paramref name="actionSpace"/>; weights from <paramref name="rng"/>.</summary>
    public ContinuousQNetwork(ObservationSpace observationSpace, BoxSpace actionSpace, PolicyOptions options, IStateEstimatorFactory estimators, Rng rng)
        : base(nameof(ContinuousQNetwork))
    {
        if (observationSpace.Modalities.Any(m => m.Name == ActionModality))
            throw new ArgumentException($"The observation already has a modality named '{ActionModality}'; a Q(s, a) critic adds the action under that name.");
        _observations = observationSpace;
        _actions = actionSpace;
        _options = options;
        _estimators = estimators;
        _space = new ObservationSpace([.. observationSpace.Modalities, new Modality(ActionModality, actionSpace)]);
        estimator = estimators.Create(_space, rng);
        q_head = nn.Linear(estimator.StateSize, 1);
        Init.Linear(q_head, rng, options.OrthogonalInit ? 1.0 : null);
        RegisterComponents();
    }

    /// <summary>Q(s, a) [B] for observations and actions [B, Kc] in env units.</summary>
    public Tensor forward(ObservationInput observations, Tensor actions)
    {
        var tensors = new Tensor[_space.Count];
        for (int m = 0; m < observations.Space.Count; m++) tensors[m] = observations[m];
        tensors[^1] = actions;
        var state = estimator.forward(new ObservationInput(_space, tensors));
        return q_head.forward(state).squeeze(-1);
    }

    /// <summary>A network of the same architecture holding a copy of these weights (a target critic).</summary>
    public ContinuousQNetwork CloneNetwork()
    {
        var copy = new ContinuousQNetwork(_observations, _actions, _options, _estimators, new Rng(0UL));
        Policy.Polyak(copy, this, 1.0);
        return copy;
    }
}
