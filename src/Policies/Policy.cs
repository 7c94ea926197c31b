using RLAgents.Environments;
using RLAgents.Policies.Distributions;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Selection;
using RLAgents.Policies.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies;

/// <summary>
/// What <see cref="Policy.Act"/> writes: per observation the chosen action (its integers in
/// <see cref="Actions"/>, its floats in <see cref="ContinuousActions"/>, laid out by the action space's
/// <see cref="ActionLayout"/>), the log-probability of that action under the distribution that chose
/// it, the value estimate and, when room was allocated for it, that whole distribution. Allocated
/// once and reused, so acting allocates no arrays.
/// </summary>
public sealed class ActResult
{
    /// <summary>
    /// Allocates room for <paramref name="capacity"/> observations of a Discrete action space; with
    /// <paramref name="actions"/> &gt; 0 also for their action distributions (for episode logs), which
    /// <see cref="Policy.Act"/> then fills.
    /// </summary>
    public ActResult(int capacity, int actions = 0) : this(capacity, 1, 0, actions) { }

    /// <summary>
    /// Allocates room for <paramref name="capacity"/> actions of <paramref name="layout"/>; with
    /// <paramref name="describe"/> also for each acting distribution (<see cref="ActionDistribution.DescriptionSize"/> floats).
    /// </summary>
    public ActResult(int capacity, ActionLayout layout, bool describe = false)
        : this(capacity, layout.DiscreteCount, layout.ContinuousCount, describe ? new ActionDistribution(layout).DescriptionSize : 0) { }

    private ActResult(int capacity, int discrete, int continuous, int actions)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(actions);
        Capacity = capacity;
        DiscreteCount = discrete;
        ContinuousCount = continuous;
        Actions = new int[capacity * discrete];
        ContinuousActions = new float[capacity * continuous];
        LogProbs = new float[capacity];
        Values = new float[capacity];
        ActionCount = actions;
        Probabilities = new float[capacity * actions];
    }

    /// <summary>Observations room was allocated for.</summary>
    public int Capacity { get; }

    /// <summary>Integers per action (Kd; 1 for a Discrete space).</summary>
    public int DiscreteCount { get; }

    /// <summary>Floats per action (Kc).</summary>
    public int ContinuousCount { get; }

    /// <summary>Chosen actions' integers, [Capacity × Kd] (action-space values, i.e. including each element's start).</summary>
    public int[] Actions { get; }

    /// <summary>Chosen actions' floats, [Capacity × Kc].</summary>
    public float[] ContinuousActions { get; }

    /// <summary>log-probability of each chosen action under the selecting distribution (NaN for TD3's noisy actions).</summary>
    public float[] LogProbs { get; }

    /// <summary>V(s) for actor-critic policies; Q(s, a) of the chosen action for Q-networks; 0 when values were not requested.</summary>
    public float[] Values { get; }

    /// <summary>Floats per distribution in <see cref="Probabilities"/> (0 when not requested): K probabilities for a Discrete space.</summary>
    public int ActionCount { get; }

    /// <summary>
    /// The selecting distribution of entry i at <c>[i*ActionCount, (i+1)*ActionCount)</c>, the one
    /// <see cref="LogProbs"/> reads: for each categorical its probabilities (softmax of the preferences
    /// for sampling and greedy selection, at the Boltzmann temperature for Boltzmann, ε/K + (1 − ε)·[a = argmax]
    /// for ε-greedy), then the Gaussian's means and stds. Empty when not requested.
    /// </summary>
    public float[] Probabilities { get; }

    /// <summary>The distribution of entry <paramref name="i"/> (empty when not requested).</summary>
    public ReadOnlySpan<float> ProbabilitiesOf(int i) => Probabilities.AsSpan(i * ActionCount, ActionCount);

    /// <summary>The integers of entry <paramref name="i"/>'s action.</summary>
    public ReadOnlySpan<int> DiscreteOf(int i) => Actions.AsSpan(i * DiscreteCount, DiscreteCount);

    /// <summary>The floats of entry <paramref name="i"/>'s action.</summary>
    public ReadOnlySpan<float> ContinuousOf(int i) => ContinuousActions.AsSpan(i * ContinuousCount, ContinuousCount);

    /// <summary>Number of valid entries after the last call.</summary>
    public int Count { get; internal set; }

    /// <summary>Copies the first <c>batch.Count</c> chosen actions into <paramref name="batch"/> (same layout), ready for a vector env's step.</summary>
    public void CopyTo(ActionBatch batch)
    {
        if (batch.Layout.DiscreteCount != DiscreteCount || batch.Layout.ContinuousCount != ContinuousCount)
            throw new ArgumentException($"The action batch holds {batch.Layout.DiscreteCount} integers and {batch.Layout.ContinuousCount} floats per action; these results {DiscreteCount} and {ContinuousCount}.");
        Actions.AsSpan(0, batch.Discrete.Length).CopyTo(batch.Discrete);
        ContinuousActions.AsSpan(0, batch.Continuous.Length).CopyTo(batch.Continuous);
    }
}

/// <summary>
/// A policy: state estimator(s), an action selector and a value evaluator over one observation
/// space and an action space (Discrete, MultiDiscrete, Box or a Dict of those), whose
/// <see cref="Distribution"/> the action selector's parameters describe. Few verbs: <see cref="Act"/>
/// here; evaluating actions and values on <see cref="ActorCriticPolicy"/>; Q-values on
/// <see cref="QNetworkPolicy"/>; reparameterised actions on <see cref="ContinuousActor"/>.
/// </summary>
public abstract partial class Policy : nn.Module
{
    private float[] _prefs = [];
    private float[] _values = [];

    /// <summary>Creates the module.</summary>
    protected Policy(string name, ObservationSpace observationSpace, Space actionSpace, ObservationTensorizer tensorizer, bool squashed = false) : base(name)
    {
        ObservationSpace = observationSpace;
        ActionSpace = actionSpace;
        Tensorizer = tensorizer;
        Distribution = new ActionDistribution(actionSpace.ActionLayout, squashed);
    }

    /// <summary>Observation layout read.</summary>
    public ObservationSpace ObservationSpace { get; }

    /// <summary>Actions produced.</summary>
    public Space ActionSpace { get; }

    /// <summary>The action distribution the acting parameters describe.</summary>
    public ActionDistribution Distribution { get; }

    /// <summary>Converts observation batches to this policy's input tensors.</summary>
    public ObservationTensorizer Tensorizer { get; }

    /// <summary>
    /// The action selector's parameters [B, P] (<see cref="ActionDistribution"/>'s layout: policy logits,
    /// Q-values, Gaussian means and log-stds) and, when <paramref name="withValues"/>, the value
    /// evaluator's output (V [B], or Q [B, K] when <see cref="ValuesArePerAction"/>) or null.
    /// </summary>
    protected abstract (Tensor Preferences, Tensor? Values) ActingOutputs(ObservationInput observations, bool withValues);

    /// <summary>
    /// Preferences [B, K] (logits or Q-values) and, with <paramref name="withValues"/>, the value evaluator's
    /// output (V(s) [B], or Q(s, ·) [B, K] for Q-networks), without gradients; the tensors belong to the
    /// caller's dispose scope. For callers that select actions themselves (a policy server). A recurrent policy reads
    /// and writes the memory of <see cref="ObservationInput.Sequence"/>, as <see cref="Act"/> does.
    /// </summary>
    public (Tensor Preferences, Tensor? Values) Outputs(ObservationInput observations, bool withValues = true)
    {
        using (no_grad())
        {
            var outputs = ActingOutputs(observations, withValues);
            observations.Sequence?.KeepFinal(); // a recurrent policy's new memory, for RecurrentMemory.Commit
            return outputs;
        }
    }

    /// <summary>
    /// Writes what <see cref="ActingOutputs"/> would, as host floats ([B, P] preferences, and the values when
    /// <paramref name="withValues"/>), without tensor calls — for small MLPs (<see cref="HostMlp"/>) — and returns
    /// true; false when this policy or these observations need the tensor path.
    /// </summary>
    private protected virtual bool HostOutputs(ObservationInput observations, int batch, bool withValues, float[] preferences, float[] values) => false;

    /// <summary>True when <see cref="ActResult.Values"/> is Q(s, a) of the chosen action rather than V(s).</summary>
    protected virtual bool ValuesArePerAction => false;

    /// <summary>
    /// Chooses actions for a batch of observations with <paramref name="selection"/>; random draws
    /// come from <paramref name="rng"/> (so they are reproducible and checkpointed). No gradients.
    /// </summary>
    public void Act(ObservationInput observations, ActionSelection selection, Rng rng, ActResult result, bool withValues = true)
    {
        var dist = Distribution;
        int batch = (int)observations.Count, p = dist.ParameterSize, kd = dist.DiscreteCount, kc = dist.ContinuousCount;
        if (batch > result.Capacity) throw new ArgumentException($"ActResult holds {result.Capacity} entries; the batch has {batch}.");
        if (result.DiscreteCount != kd || result.ContinuousCount != kc)
            throw new ArgumentException($"ActResult holds actions of {result.DiscreteCount} integers and {result.ContinuousCount} floats; the policy's {ActionSpace} has {kd} and {kc}.");
        int perAction = ValuesArePerAction ? dist.LogitsSize : 1;
        if (_prefs.Length < batch * p) _prefs = new float[batch * p];
        if (_values.Length < batch * perAction) _values = new float[batch * perAction];
        bool distributions = result.ActionCount > 0;
        if (distributions && result.ActionCount != dist.DescriptionSize)
            throw new ArgumentException($"ActResult holds distributions of {result.ActionCount} floats; the policy's have {dist.DescriptionSize}.");
        if ((selection.Strategy != SelectionStrategy.Uniform || withValues) && !HostOutputs(observations, batch, withValues, _prefs, _values))
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var (prefs, values) = ActingOutputs(observations, withValues);
            observations.Sequence?.KeepFinal(); // a recurrent policy's new memory, before the scope frees it
            prefs.data<float>().CopyTo(_prefs, 0, 0);
            values?.data<float>().CopyTo(_values, 0, 0);
        }
        for (int i = 0; i < batch; i++)
        {
            var description = distributions ? result.Probabilities.AsSpan(i * result.ActionCount, result.ActionCount) : default;
            double logProb = dist.Select(_prefs.AsSpan(i * p, p), selection, rng, result.Actions.AsSpan(i * kd, kd), result.ContinuousActions.AsSpan(i * kc, kc), description, i);
            result.LogProbs[i] = (float)logProb;
            result.Values[i] = !withValues ? 0 : ValuesArePerAction ? _values[i * perAction + result.Actions[i] - dist.Layout.DiscreteStarts[0]] : _values[i];
        }
        result.Count = batch;
    }

    /// <summary>Copies every parameter and buffer from <paramref name="source"/> (same architecture).</summary>
    public void CopyFrom(Policy source) => Polyak(source, 1.0);

    /// <summary>θ ← τ·θ_source + (1 − τ)·θ, parameter by parameter (τ = 1 is a hard copy).</summary>
    public void Polyak(Policy source, double tau) => Polyak(this, source, tau);

    /// <summary>θ_target ← τ·θ_source + (1 − τ)·θ_target for two modules of the same architecture (target networks).</summary>
    public static void Polyak(nn.Module target, nn.Module source, double tau)
    {
        using var _ = no_grad();
        var mine = target.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, theirs) in source.named_parameters())
        {
            var p = mine[name];
            if (tau >= 1) p.copy_(theirs);
            else p.mul_(1 - tau).add_(theirs, alpha: tau);
        }
    }
}
