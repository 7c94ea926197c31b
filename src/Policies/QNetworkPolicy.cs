using RLAgents.Environments;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Policies;

/// <summary>
/// A Q-network: the value evaluator is a Q(s,·) head [B, K] on a state estimator, and the action
/// selector reads the Q-values (greedy, ε-greedy or Boltzmann).
/// </summary>
public sealed partial class QNetworkPolicy : Policy
{
    private readonly StateEstimator estimator;
    private readonly Linear qHead;
    private readonly PolicyOptions _options;
    private readonly IStateEstimatorFactory _estimators;

    /// <summary>Builds the network; weights are drawn from <paramref name="rng"/>.</summary>
    public QNetworkPolicy(ObservationSpace observationSpace, Space actionSpace, PolicyOptions options, IStateEstimatorFactory estimators, Rng rng)
        : base(nameof(QNetworkPolicy), observationSpace, actionSpace, estimators.CreateTensorizer(observationSpace))
    {
        _options = options;
        _estimators = estimators;
        estimator = estimators.Create(observationSpace, rng);
        qHead = nn.Linear(estimator.StateSize, actionSpace.AsDiscrete("A Q-network over discrete actions (SAC or TD3 learn continuous ones)").N);
        Init.Linear(qHead, rng, options.OrthogonalInit ? 1.0 : null);
        RegisterComponents();
    }

    /// <summary>Convenience: an MLP state estimator from <paramref name="options"/>.</summary>
    public QNetworkPolicy(ObservationSpace observationSpace, Space actionSpace, PolicyOptions options, Rng rng)
        : this(observationSpace, actionSpace, options, new MlpStateEstimatorFactory(options), rng) { }

    /// <summary>Q(s, ·) [B, K].</summary>
    public Tensor QValues(ObservationInput observations)
    {
        var state = estimator.forward(observations);
        return qHead.forward(state);
    }

    /// <summary>A network of the same architecture holding a copy of these weights (a target network).</summary>
    public QNetworkPolicy CloneNetwork()
    {
        var copy = new QNetworkPolicy(ObservationSpace, ActionSpace, _options, _estimators, new Rng(0UL));
        copy.CopyFrom(this);
        return copy;
    }

    /// <inheritdoc />
    protected override bool ValuesArePerAction => true;

    private HostMlp? _host;
    private bool _hostBuilt;

    /// <summary>The host forward and backward of this network (<see cref="HostMlp"/>), or null when it is not a small
    /// MLP on one vector modality; DQN trains through it (issue 16).</summary>
    internal HostMlp? HostNetwork
    {
        get
        {
            if (!_hostBuilt) (_host, _hostBuilt) = (HostMlp.TryCreate(estimator, qHead), true);
            return _host;
        }
    }

    /// <inheritdoc />
    private protected override bool HostOutputs(ObservationInput observations, int batch, bool withValues, float[] preferences, float[] values)
    {
        if (HostNetwork is not { } host || !host.Accepts(observations, batch)) return false;
        host.Forward(observations, batch, preferences);
        if (withValues) preferences.AsSpan(0, batch * host.OutputSize).CopyTo(values);
        return true;
    }

    /// <inheritdoc />
    protected override (Tensor Preferences, Tensor? Values) ActingOutputs(ObservationInput observations, bool withValues)
    {
        var q = QValues(observations);
        return (q, withValues ? q : null);
    }
}
