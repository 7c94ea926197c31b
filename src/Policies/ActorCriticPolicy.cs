using RLAgents.Environments;
using RLAgents.Policies.Distributions;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Policies;

/// <summary>
/// Differentiable outputs of <see cref="ActorCriticPolicy.EvaluateActions"/>, each [B]. The entropy is
/// computed on first read: PPO without an entropy bonus reads it only on the minibatches it logs, and each
/// tensor call it saves is a forward and a backward node fewer on every other one (issue 16).
/// </summary>
public sealed class ActionEvaluation
{
    private Tensor? _entropy;
    private readonly Func<Tensor>? _entropyOf;

    /// <summary>Outputs already computed.</summary>
    public ActionEvaluation(Tensor logProbs, Tensor entropy, Tensor values)
    {
        LogProbs = logProbs;
        _entropy = entropy;
        Values = values;
    }

    /// <summary>Outputs whose entropy is computed by <paramref name="entropyOf"/> when first read.</summary>
    public ActionEvaluation(Tensor logProbs, Func<Tensor> entropyOf, Tensor values)
    {
        LogProbs = logProbs;
        _entropyOf = entropyOf;
        Values = values;
    }

    /// <summary>log π(a|s) of the given actions.</summary>
    public Tensor LogProbs { get; }

    /// <summary>Entropy of π(·|s) (computed on first read, in the reader's dispose scope).</summary>
    public Tensor Entropy => _entropy ??= _entropyOf!();

    /// <summary>V(s).</summary>
    public Tensor Values { get; }
}

/// <summary>
/// An actor-critic policy: action selector = state estimator + policy head (the action
/// distribution's parameters [B, P]: logits for discrete elements; for continuous ones Gaussian means
/// and a learned state-independent log-std, as CleanRL's <c>ppo_continuous_action.py</c>);
/// value evaluator = (its own or the shared) state estimator + value head (V [B]).
/// </summary>
public sealed partial class ActorCriticPolicy : Policy
{
    private readonly StateEstimator actor;
    private readonly StateEstimator? critic;
    private readonly Linear policyHead;
    private readonly Linear valueHead;
    private readonly Parameter? logStd;
    private readonly RecurrentCore? memory;

    /// <summary>Builds the networks; weights are drawn from <paramref name="rng"/>.</summary>
    public ActorCriticPolicy(ObservationSpace observationSpace, Space actionSpace, PolicyOptions options, IStateEstimatorFactory estimators, Rng rng)
        : base(nameof(ActorCriticPolicy), observationSpace, actionSpace, estimators.CreateTensorizer(observationSpace))
    {
        actor = estimators.Create(observationSpace, rng);
        critic = options.SharesStateEstimator ? null : estimators.Create(observationSpace, rng);
        if (options.Recurrent)
        {
            if (critic is not null) throw new ArgumentException("A recurrent policy needs one state estimator shared by the actor and the critic.");
            memory = new RecurrentCore(actor.StateSize, options.MemorySize ?? actor.StateSize, rng);
        }
        policyHead = nn.Linear(actor.StateSize, Distribution.HeadSize(stateDependentStd: false));
        valueHead = nn.Linear((critic ?? actor).StateSize, 1);
        // CleanRL: small policy-head gain keeps the initial policy near uniform; value head gain 1.
        Init.Linear(policyHead, rng, options.OrthogonalInit ? 0.01 : null);
        Init.Linear(valueHead, rng, options.OrthogonalInit ? 1.0 : null);
        // Registered by hand: a shared estimator must appear once, or optimisers would step it twice.
        register_module("actor", actor);
        if (critic is not null) register_module("critic", critic);
        if (memory is not null) register_module("recurrent", memory);
        register_module("policy_head", policyHead);
        register_module("value_head", valueHead);
        if (Distribution.ContinuousCount > 0)
        {
            // log σ starts at options.InitialLogStd for every continuous element (CleanRL: 0, σ = 1).
            logStd = nn.Parameter(full(Distribution.ContinuousCount, options.InitialLogStd, float32));
            register_parameter("log_std", logStd);
        }
    }

    /// <summary>Convenience: MLP state estimators from <paramref name="options"/>.</summary>
    public ActorCriticPolicy(ObservationSpace observationSpace, Space actionSpace, PolicyOptions options, Rng rng)
        : this(observationSpace, actionSpace, options, new MlpStateEstimatorFactory(options), rng) { }

    /// <summary>True when actor and critic share one state estimator.</summary>
    public bool SharesStateEstimator => critic is null;

    /// <summary>Units of the recurrent memory (<see cref="PolicyOptions.Recurrent"/>), 0 for a memoryless policy.</summary>
    public int MemorySize => memory?.Size ?? 0;

    /// <summary>
    /// The actor's state [B, D] of <paramref name="observations"/>: the estimator's, and for a recurrent policy that plus
    /// the memory it updates (which reads <see cref="ObservationInput.Sequence"/> and writes its final memory there).
    /// </summary>
    private Tensor ActorState(ObservationInput observations)
    {
        var state = actor.forward(observations);
        return memory is null ? state : memory.Forward(state, observations.Sequence);
    }

    /// <summary>The action distribution's parameters [B, P] (policy logits [B, K] for a Discrete space).</summary>
    public Tensor Logits(ObservationInput observations)
    {
        var state = ActorState(observations);
        return Distribution.Parameters(policyHead.forward(state), logStd);
    }

    /// <summary>V(s) [B].</summary>
    public Tensor Value(ObservationInput observations)
    {
        var state = critic is null ? ActorState(observations) : critic.forward(observations);
        var v = valueHead.forward(state);
        return v.squeeze(-1);
    }

    /// <summary>log π(a|s), entropy and V(s) for a batch of observations and actions (zero-based integers, floats as taken).</summary>
    public ActionEvaluation EvaluateActions(ObservationInput observations, ActionTensors actions)
    {
        var state = ActorState(observations);
        var logits = Distribution.Parameters(policyHead.forward(state), logStd);
        Tensor values;
        if (critic is null)
        {
            var v = valueHead.forward(state);
            values = v.squeeze(-1);
        }
        else values = Value(observations);
        return new ActionEvaluation(Distribution.LogProb(logits, actions), () => Distribution.Entropy(logits), values);
    }

    private HostMlp? _hostActor, _hostCritic;
    private bool _hostBuilt;
    private float[] _hostHead = [];

    private void BuildHost()
    {
        // A recurrent policy's memory has no host form: it always takes the tensor path.
        if (memory is not null) _hostBuilt = true;
        if (!_hostBuilt) (_hostActor, _hostCritic, _hostBuilt) = (HostMlp.TryCreate(actor, policyHead), HostMlp.TryCreate(critic ?? actor, valueHead), true);
    }

    /// <summary>
    /// The host forms of the actor (→ logits [B, K]) and the critic (→ V [B, 1]) for training them on the host, or null
    /// unless they are separate small MLPs on one vector modality and the action is one categorical.
    /// </summary>
    internal (HostMlp Actor, HostMlp Critic)? HostTrainingNetworks
    {
        get
        {
            BuildHost();
            if (critic is null || _hostActor is null || _hostCritic is null) return null;
            if (Distribution.DiscreteCount != 1 || Distribution.ContinuousCount != 0 || _hostActor.OutputSize != Distribution.LogitsSize) return null;
            return (_hostActor, _hostCritic);
        }
    }

    /// <summary>
    /// V(s) of all <paramref name="batch"/> rows of <paramref name="observations"/> into <paramref name="values"/>, without
    /// gradients: on the host for a small MLP critic (no tensor calls, no allocation), else through <see cref="Value"/>.
    /// </summary>
    public void ValuesInto(ObservationInput observations, int batch, Span<float> values)
    {
        BuildHost();
        if (_hostCritic is not null && _hostCritic.Accepts(observations, batch))
        {
            _hostCritic.Forward(observations, batch, values);
            return;
        }
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var v = Value(observations); // [B]
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(v.bytes)[..batch].CopyTo(values);
    }

    /// <inheritdoc />
    private protected override bool HostOutputs(ObservationInput observations, int batch, bool withValues, float[] preferences, float[] values)
    {
        BuildHost();
        if (_hostActor is null || _hostCritic is null || !_hostActor.Accepts(observations, batch) || withValues && !_hostCritic.Accepts(observations, batch))
            return false;
        int kc = Distribution.ContinuousCount;
        // The state-independent log σ [kc], read in place like the weights (an optimiser step is seen at once).
        var logStds = kc == 0 ? default : HostMlp.InPlace(logStd!, kc);
        if (logStds.Length != kc) return false;
        if (kc == 0 && withValues && HostMlp.Both(_hostActor.MultiplyAdds(batch)))
        {
            ActInParallel(_hostActor, _hostCritic, observations, batch, preferences, values);
            return true;
        }
        if (kc == 0) _hostActor.Forward(observations, batch, preferences);
        else
        {
            // Rows [head ‖ log σ] (Distribution.Parameters' layout): the head [B, H] goes through a scratch buffer.
            int h = _hostActor.OutputSize, p = h + kc;
            if (_hostHead.Length < batch * h) _hostHead = new float[batch * h];
            _hostActor.Forward(observations, batch, _hostHead);
            for (int i = 0; i < batch; i++)
            {
                _hostHead.AsSpan(i * h, h).CopyTo(preferences.AsSpan(i * p));
                logStds.CopyTo(preferences.AsSpan(i * p + h));
            }
        }
        if (withValues) _hostCritic.Forward(observations, batch, values);
        return true;
    }

    /// <summary>The actor's logits and the critic's values on two threads (<see cref="HostMlp.Both"/>); a method of its own so
    /// that the closure is allocated only on this path, never on the allocation-free small-batch one.</summary>
    private static void ActInParallel(HostMlp actor, HostMlp critic, ObservationInput observations, int batch, float[] preferences, float[] values) =>
        Parallel.Invoke(() => actor.Forward(observations, batch, preferences), () => critic.Forward(observations, batch, values));

    /// <inheritdoc />
    protected override (Tensor Preferences, Tensor? Values) ActingOutputs(ObservationInput observations, bool withValues)
    {
        var state = ActorState(observations);
        var logits = Distribution.Parameters(policyHead.forward(state), logStd);
        if (!withValues) return (logits, null);
        if (critic is null) return (logits, valueHead.forward(state).squeeze(-1));
        return (logits, Value(observations));
    }
}
