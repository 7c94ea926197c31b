using RLAgents.Policies;
using RLAgents.Policies.Distributions;
using RLAgents.Policies.Encoding;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Agents.Losses;

/// <summary>An on-policy minibatch as tensors, each [B] unless noted.</summary>
/// <param name="Observations">s_t.</param>
/// <param name="Actions">a_t: integers int64 (zero-based; [B] for a Discrete space, [B, Kd] otherwise) and floats [B, Kc].</param>
/// <param name="OldLogProbs">log π_old(a_t|s_t).</param>
/// <param name="Advantages">Â_t (normalised if the algorithm says so).</param>
/// <param name="Returns">Value targets.</param>
/// <param name="OldValues">V_old(s_t).</param>
public sealed record OnPolicyBatch(ObservationInput Observations, ActionTensors Actions, Tensor OldLogProbs, Tensor Advantages, Tensor Returns, Tensor OldValues);

/// <summary>A replay minibatch as tensors, each [B] unless noted.</summary>
/// <param name="Observations">s.</param>
/// <param name="Actions">a, int64 (zero-based).</param>
/// <param name="TdTargets">R + discount · Q_target(s', ·) — already computed without gradient.</param>
/// <param name="Demonstrations">1 on rows drawn from demonstrations, 0 elsewhere (float32), or null when the batch holds none.</param>
public sealed record ReplayBatch(ObservationInput Observations, Tensor Actions, Tensor TdTargets, Tensor? Demonstrations = null);

/// <summary>
/// What loss terms read for one minibatch: the policy, the batch, lazily computed shared
/// outputs (so several terms evaluate the network once), training progress, a metrics sink, and
/// typed extension slots for extra data a custom term needs (demonstrations, a reference policy).
/// </summary>
public sealed class LossContext
{
    private readonly Dictionary<Type, object> _extensions = [];
    private ActionEvaluation? _evaluation;
    private Tensor? _qValues;

    /// <summary>Creates a context for one minibatch.</summary>
    public LossContext(Policy policy, double progress)
    {
        Policy = policy;
        Progress = progress;
    }

    /// <summary>The policy being trained.</summary>
    public Policy Policy { get; }

    /// <summary>Fraction of training done, in [0, 1] (for annealed coefficients).</summary>
    public double Progress { get; }

    /// <summary>The on-policy batch, when training on rollouts.</summary>
    public OnPolicyBatch? OnPolicy { get; init; }

    /// <summary>The replay batch, when training on replayed transitions.</summary>
    public ReplayBatch? Replay { get; init; }

    /// <summary>
    /// Whether terms should compute diagnostics (term values, KL, clip fraction). Each one costs
    /// tensor calls and a synchronisation, so algorithms ask for them on the minibatches they log.
    /// </summary>
    public bool Diagnostics { get; init; } = true;

    /// <summary>Diagnostics terms report (averaged over minibatches by the algorithm).</summary>
    public Dictionary<string, double> Metrics { get; } = [];

    /// <summary>log π, entropy and V of the on-policy batch, computed once.</summary>
    public ActionEvaluation Evaluation
    {
        get => _evaluation ??= ((Policy as ActorCriticPolicy) ?? throw new InvalidOperationException("This loss term needs an actor-critic policy."))
            .EvaluateActions(Batch.Observations, Batch.Actions);
        init => _evaluation = value;
    }

    /// <summary>Q(s, ·) [B, K] of the replay batch, computed once.</summary>
    public Tensor QValues
    {
        get => _qValues ??= ((Policy as QNetworkPolicy) ?? throw new InvalidOperationException("This loss term needs a Q-network policy."))
            .QValues((Replay ?? throw new InvalidOperationException("This loss term needs a replay batch.")).Observations);
        init => _qValues = value;
    }

    /// <summary>The on-policy batch or a clear error.</summary>
    public OnPolicyBatch Batch => OnPolicy ?? throw new InvalidOperationException("This loss term needs an on-policy batch.");

    /// <summary>Attaches extra data of type <typeparamref name="T"/> for custom terms.</summary>
    public void Set<T>(T value) where T : class => _extensions[typeof(T)] = value;

    /// <summary>The extra data of type <typeparamref name="T"/>, or null.</summary>
    public T? Get<T>() where T : class => _extensions.TryGetValue(typeof(T), out var v) ? (T)v : null;
}

/// <summary>
/// One additive term of a training objective (to be minimised). Algorithms take a list of
/// weighted terms, so a new term — a KL anchor, an auxiliary or a behaviour-cloning loss — is
/// added by configuration, never by subclassing an algorithm.
/// </summary>
public interface ILossTerm
{
    /// <summary>The metrics key of the term's value: snake_case, e.g. <c>policy_loss</c>.</summary>
    string Name { get; }

    /// <summary>The term's scalar value for the context's minibatch.</summary>
    Tensor Compute(LossContext context);
}

/// <summary>A weighted sum of loss terms; records each term's value as a metric.</summary>
public sealed class LossPipeline
{
    private readonly List<(ILossTerm Term, double Weight)> _terms;

    /// <summary>Creates the pipeline from weighted terms.</summary>
    public LossPipeline(IEnumerable<(ILossTerm Term, double Weight)> terms) => _terms = terms.ToList();

    /// <summary>The terms and weights.</summary>
    public IReadOnlyList<(ILossTerm Term, double Weight)> Terms => _terms;

    /// <summary>A pipeline with <paramref name="term"/> appended.</summary>
    public LossPipeline With(ILossTerm term, double weight) => new(_terms.Append((term, weight)));

    /// <summary>Σ weight · term; each term's value lands in <see cref="LossContext.Metrics"/>.</summary>
    public Tensor Total(LossContext context)
    {
        Tensor? total = null;
        foreach (var (term, weight) in _terms)
        {
            if (weight == 0) continue;
            var value = term.Compute(context);
            if (context.Diagnostics) context.Metrics[term.Name] = value.item<float>();
            var weighted = weight == 1 ? value : value.mul(weight);
            total = total is null ? weighted : total.add(weighted);
        }
        return total ?? throw new InvalidOperationException("The loss pipeline has no term with a non-zero weight.");
    }
}

/// <summary>
/// PPO's clipped surrogate (Schulman et al. 2017), negated for minimisation:
/// L = −E[min(ρ·Â, clip(ρ, 1−ε, 1+ε)·Â)], ρ = exp(log π − log π_old). Reports the approximate KL
/// ((ρ − 1) − log ρ, Schulman's low-variance estimator) and the clip fraction.
/// </summary>
public sealed class ClippedSurrogateLoss(Func<double, double> clip) : ILossTerm
{
    /// <summary>A constant clip range ε.</summary>
    public ClippedSurrogateLoss(double clip) : this(_ => clip) { }

    /// <inheritdoc />
    public string Name => "policy_loss";

    /// <summary>The clip range ε at training progress <paramref name="progress"/> (the host PPO step reads it).</summary>
    internal double ClipAt(double progress) => clip(progress);

    /// <inheritdoc />
    public Tensor Compute(LossContext context)
    {
        var batch = context.Batch;
        double eps = clip(context.Progress);
        var logRatio = context.Evaluation.LogProbs.sub(batch.OldLogProbs);
        var ratio = logRatio.exp();
        if (context.Diagnostics)
        {
            using var _ = no_grad();
            context.Metrics["approx_kl"] = ratio.sub(1).sub(logRatio).mean().item<float>();
            context.Metrics["clip_fraction"] = ratio.sub(1).abs().gt(eps).to_type(ScalarType.Float32).mean().item<float>();
        }
        var unclipped = ratio.mul(batch.Advantages);
        var clipped = ratio.clamp(1 - eps, 1 + eps).mul(batch.Advantages);
        return minimum(unclipped, clipped).mean().neg();
    }
}

/// <summary>The vanilla policy gradient −E[Â · log π(a|s)] (REINFORCE, A2C).</summary>
public sealed class PolicyGradientLoss : ILossTerm
{
    /// <summary>A2C's and REINFORCE's pipeline: policy gradient, value loss and entropy bonus weighted by <paramref name="o"/>, then <paramref name="extraTerms"/>.</summary>
    public static LossPipeline Pipeline(Algorithms.OnPolicyOptions o, IEnumerable<(ILossTerm, double)>? extraTerms) =>
        new(new (ILossTerm, double)[] { (new PolicyGradientLoss(), 1.0), (new ValueLoss(), o.ValueCoefficient), (new EntropyBonus(), o.EntropyCoefficient) }
            .Concat(extraTerms ?? []));

    /// <inheritdoc />
    public string Name => "policy_loss";

    /// <inheritdoc />
    public Tensor Compute(LossContext context) =>
        context.Evaluation.LogProbs.mul(context.Batch.Advantages).mean().neg();
}

/// <summary>
/// Value regression ½·E[(V − R)²]; with a clip range, PPO's pessimistic clipped form
/// ½·E[max((V − R)², (V_old + clip(V − V_old, −ε, ε) − R)²)].
/// </summary>
public sealed class ValueLoss(double? clip = null) : ILossTerm
{
    /// <inheritdoc />
    public string Name => "value_loss";

    /// <summary>The clip range of the pessimistic clipped form, or null for plain regression (the host PPO step reads it).</summary>
    internal double? Clip => clip;

    /// <inheritdoc />
    public Tensor Compute(LossContext context)
    {
        var batch = context.Batch;
        var v = context.Evaluation.Values;
        var unclipped = v.sub(batch.Returns).pow(2);
        if (clip is not double eps) return unclipped.mean().mul(0.5);
        var vClipped = batch.OldValues.add(v.sub(batch.OldValues).clamp(-eps, eps));
        var clipped = vClipped.sub(batch.Returns).pow(2);
        return maximum(unclipped, clipped).mean().mul(0.5);
    }
}

/// <summary>Entropy bonus as a loss: −E[H(π(·|s))] (so a positive weight encourages exploration).</summary>
public sealed class EntropyBonus : ILossTerm
{
    /// <inheritdoc />
    public string Name => "entropy_loss";

    /// <inheritdoc />
    public Tensor Compute(LossContext context)
    {
        var h = context.Evaluation.Entropy.mean();
        if (context.Diagnostics) context.Metrics["entropy"] = h.item<float>();
        return h.neg();
    }
}

/// <summary>How TD errors are penalised.</summary>
public enum TdLossKind
{
    /// <summary>Huber / smooth-L1 with δ = 1 (DQN, Mnih et al. 2015).</summary>
    Huber,
    /// <summary>Mean squared error (CleanRL's dqn.py).</summary>
    Mse,
}

/// <summary>Q-learning regression of Q(s, a) onto precomputed TD targets.</summary>
public sealed class TdLoss(TdLossKind kind) : ILossTerm
{
    /// <inheritdoc />
    public string Name => "td_loss";

    /// <inheritdoc />
    public Tensor Compute(LossContext context)
    {
        var batch = context.Replay ?? throw new InvalidOperationException("The TD loss needs a replay batch.");
        var q = context.QValues.gather(1, batch.Actions.unsqueeze(1)).squeeze(1);
        if (context.Diagnostics)
        {
            using var _ = no_grad();
            context.Metrics["q_mean"] = q.mean().item<float>();
        }
        return kind == TdLossKind.Huber
            ? nn.functional.smooth_l1_loss(q, batch.TdTargets)
            : nn.functional.mse_loss(q, batch.TdTargets);
    }
}

/// <summary>
/// DQfD's large-margin supervised loss on the demonstration rows of a replay batch (Hester et al. 2018):
/// J_E = E_demo[max_a (Q(s, a) + l(a_E, a)) − Q(s, a_E)], l = <paramref name="margin"/> for a ≠ a_E and 0 for
/// the expert's action, so it vanishes once Q(s, a_E) leads every other action by the margin. Zero on a
/// batch without demonstrations.
/// </summary>
public sealed class LargeMarginLoss(double margin) : ILossTerm
{
    /// <inheritdoc />
    public string Name => "margin_loss";

    /// <inheritdoc />
    public Tensor Compute(LossContext context)
    {
        var batch = context.Replay ?? throw new InvalidOperationException("The large-margin loss needs a replay batch.");
        var q = context.QValues; // [B, K]
        if (batch.Demonstrations is not { } demo) return q.sum().mul(0);
        var expert = batch.Actions.unsqueeze(1); // [B, 1]
        var margins = full_like(q, margin).scatter(1, expert, zeros_like(expert, dtype: q.dtype)); // [B, K], 0 at a_E
        var perRow = q.add(margins).max(1).values.sub(q.gather(1, expert).squeeze(1)); // [B], ≥ 0
        if (context.Diagnostics)
        {
            using var _ = no_grad();
            var agrees = q.argmax(1).eq(batch.Actions).to_type(ScalarType.Float32);
            context.Metrics["demo_accuracy"] = agrees.mul(demo).sum().div(demo.sum().clamp_min(1)).item<float>();
        }
        return perRow.mul(demo).sum().div(demo.sum().clamp_min(1));
    }
}
