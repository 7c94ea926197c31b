using RLAgents.Environments;
using RLAgents.Policies.Distributions;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Selection;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies;

/// <summary>
/// What <see cref="Policy.Act"/> writes: per observation the chosen action, the log-probability of
/// that action under the distribution that chose it, the value estimate and, when room was
/// allocated for it, that whole distribution. Allocated once and reused, so acting allocates no arrays.
/// </summary>
public sealed class ActResult
{
    /// <summary>
    /// Allocates room for <paramref name="capacity"/> observations; with <paramref name="actions"/>
    /// &gt; 0 also for their action distributions (for episode logs), which <see cref="Policy.Act"/> then fills.
    /// </summary>
    public ActResult(int capacity, int actions = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(actions);
        Actions = new int[capacity];
        LogProbs = new float[capacity];
        Values = new float[capacity];
        ActionCount = actions;
        Probabilities = new float[capacity * actions];
    }

    /// <summary>Chosen actions (action-space values, i.e. including the space's start).</summary>
    public int[] Actions { get; }

    /// <summary>log-probability of each chosen action under the selecting distribution.</summary>
    public float[] LogProbs { get; }

    /// <summary>V(s) for actor-critic policies; Q(s, a) of the chosen action for Q-networks; 0 when values were not requested.</summary>
    public float[] Values { get; }

    /// <summary>Actions per distribution in <see cref="Probabilities"/> (0 when not requested).</summary>
    public int ActionCount { get; }

    /// <summary>
    /// The selecting distribution of entry i at <c>[i*ActionCount, (i+1)*ActionCount)</c>, the one
    /// <see cref="LogProbs"/> reads: softmax of the preferences for sampling and greedy selection
    /// (at the Boltzmann temperature for Boltzmann), ε/K + (1 − ε)·[a = argmax] for ε-greedy. Empty when not requested.
    /// </summary>
    public float[] Probabilities { get; }

    /// <summary>The distribution of entry <paramref name="i"/> (empty when not requested).</summary>
    public ReadOnlySpan<float> ProbabilitiesOf(int i) => Probabilities.AsSpan(i * ActionCount, ActionCount);

    /// <summary>Number of valid entries after the last call.</summary>
    public int Count { get; internal set; }
}

/// <summary>
/// A policy: state estimator(s), an action selector and a value evaluator over one observation
/// space and a Discrete action space. Few verbs: <see cref="Act"/> here; evaluating actions and
/// values on <see cref="ActorCriticPolicy"/>; Q-values on <see cref="QNetworkPolicy"/>.
/// </summary>
public abstract partial class Policy : nn.Module
{
    private float[] _prefs = [];
    private float[] _values = [];
    private double[] _logp = [];

    /// <summary>Creates the module.</summary>
    protected Policy(string name, ObservationSpace observationSpace, DiscreteSpace actionSpace, ObservationTensorizer tensorizer) : base(name)
    {
        ObservationSpace = observationSpace;
        ActionSpace = actionSpace;
        Tensorizer = tensorizer;
    }

    /// <summary>Observation layout read.</summary>
    public ObservationSpace ObservationSpace { get; }

    /// <summary>Actions produced.</summary>
    public DiscreteSpace ActionSpace { get; }

    /// <summary>Converts observation batches to this policy's input tensors.</summary>
    public ObservationTensorizer Tensorizer { get; }

    /// <summary>
    /// Preferences [B, K] the action selector reads (policy logits or Q-values) and, when
    /// <paramref name="withValues"/>, the value evaluator's [B] output (or null).
    /// </summary>
    protected abstract (Tensor Preferences, Tensor? Values) ActingOutputs(ObservationInput observations, bool withValues);

    /// <summary>
    /// Preferences [B, K] (logits or Q-values) and, with <paramref name="withValues"/>, the value evaluator's
    /// output (V(s) [B], or Q(s, ·) [B, K] for Q-networks), without gradients; the tensors belong to the
    /// caller's dispose scope. For callers that select actions themselves (a policy server).
    /// </summary>
    public (Tensor Preferences, Tensor? Values) Outputs(ObservationInput observations, bool withValues = true)
    {
        using (no_grad()) return ActingOutputs(observations, withValues);
    }

    /// <summary>True when <see cref="ActResult.Values"/> is Q(s, a) of the chosen action rather than V(s).</summary>
    protected virtual bool ValuesArePerAction => false;

    /// <summary>
    /// Chooses actions for a batch of observations with <paramref name="selection"/>; random draws
    /// come from <paramref name="rng"/> (so they are reproducible and checkpointed). No gradients.
    /// </summary>
    public void Act(ObservationInput observations, ActionSelection selection, Rng rng, ActResult result, bool withValues = true)
    {
        int batch = (int)observations.Count, k = ActionSpace.N;
        if (batch > result.Actions.Length) throw new ArgumentException($"ActResult holds {result.Actions.Length} entries; the batch has {batch}.");
        if (_prefs.Length < batch * k) { _prefs = new float[batch * k]; _values = new float[batch * (ValuesArePerAction ? k : 1)]; }
        if (_logp.Length < k) _logp = new double[k];
        bool distributions = result.ActionCount > 0;
        if (distributions && result.ActionCount != k) throw new ArgumentException($"ActResult holds distributions over {result.ActionCount} actions; the policy has {k}.");
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var (prefs, values) = ActingOutputs(observations, withValues);
            prefs.data<float>().CopyTo(_prefs, 0, 0);
            values?.data<float>().CopyTo(_values, 0, 0);
        }
        var logp = _logp.AsSpan(0, k);
        for (int i = 0; i < batch; i++)
        {
            var row = _prefs.AsSpan(i * k, k);
            int a;
            switch (selection.Strategy)
            {
                case SelectionStrategy.Greedy:
                    a = CategoricalSampler.ArgMax(row);
                    CategoricalSampler.LogSoftmax(row, 1, logp);
                    result.LogProbs[i] = (float)logp[a];
                    if (distributions) Exp(logp, result.Probabilities.AsSpan(i * k, k));
                    break;
                case SelectionStrategy.EpsilonGreedy:
                    int greedy = CategoricalSampler.ArgMax(row);
                    a = rng.NextDouble() < selection.Epsilon ? rng.NextInt(k) : greedy;
                    result.LogProbs[i] = (float)Math.Log(selection.Epsilon / k + (a == greedy ? 1 - selection.Epsilon : 0));
                    if (distributions)
                    {
                        var p = result.Probabilities.AsSpan(i * k, k);
                        p.Fill((float)(selection.Epsilon / k));
                        p[greedy] = (float)(selection.Epsilon / k + 1 - selection.Epsilon);
                    }
                    break;
                default:
                    double temperature = selection.Strategy == SelectionStrategy.Boltzmann ? selection.Temperature : 1;
                    if (!(temperature > 0)) throw new ArgumentException($"Boltzmann temperature must be > 0, got {temperature}.");
                    CategoricalSampler.LogSoftmax(row, temperature, logp);
                    a = CategoricalSampler.Sample(logp, rng);
                    result.LogProbs[i] = (float)logp[a];
                    if (distributions) Exp(logp, result.Probabilities.AsSpan(i * k, k));
                    break;
            }
            result.Actions[i] = a + ActionSpace.Start;
            result.Values[i] = !withValues ? 0 : ValuesArePerAction ? _values[i * k + a] : _values[i];
        }
        result.Count = batch;
    }

    private static void Exp(ReadOnlySpan<double> logp, Span<float> destination)
    {
        for (int j = 0; j < destination.Length; j++) destination[j] = (float)Math.Exp(logp[j]);
    }

    /// <summary>Copies every parameter and buffer from <paramref name="source"/> (same architecture).</summary>
    public void CopyFrom(Policy source) => Polyak(source, 1.0);

    /// <summary>θ ← τ·θ_source + (1 − τ)·θ, parameter by parameter (τ = 1 is a hard copy).</summary>
    public void Polyak(Policy source, double tau)
    {
        using var _ = no_grad();
        var mine = named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, theirs) in source.named_parameters())
        {
            var p = mine[name];
            if (tau >= 1) p.copy_(theirs);
            else p.mul_(1 - tau).add_(theirs, alpha: tau);
        }
    }
}
