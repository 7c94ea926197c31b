using RLAgents.Agents.Buffers;
using RLAgents.Agents.Collection;
using RLAgents.Agents.Losses;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Training;
using RLAgents.Policies;
using RLAgents.Policies.Distributions;
using RLAgents.Policies.Selection;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Agents.Algorithms;

/// <summary>How an on-policy algorithm turns a rollout into gradient steps.</summary>
/// <param name="RolloutSteps">T, steps per env per rollout.</param>
/// <param name="Gamma">Discount γ.</param>
/// <param name="GaeLambda">λ of GAE; null uses Monte Carlo returns within the rollout (REINFORCE).</param>
/// <param name="Epochs">Passes over the rollout.</param>
/// <param name="Minibatches">Minibatches per pass.</param>
/// <param name="NormalizeAdvantages">Normalise advantages per minibatch.</param>
/// <param name="TargetKl">Early-stop threshold on approximate KL (stop past 1.5 × this), or null.</param>
/// <param name="AnnealLearningRate">Linear decay of the learning rate to 0.</param>
/// <param name="Adam">Optimiser settings.</param>
public sealed record OnPolicySettings(int RolloutSteps, double Gamma, double? GaeLambda, int Epochs, int Minibatches,
    bool NormalizeAdvantages, double? TargetKl, bool AnnealLearningRate, AdamOptions Adam)
{
    /// <summary>Adam as the on-policy options set it (β defaults; clipping at <see cref="OnPolicyOptions.MaxGradNorm"/>).</summary>
    public static AdamOptions AdamFor(OnPolicyOptions o) => new() { LearningRate = o.LearningRate, Epsilon = o.AdamEpsilon, MaxGradNorm = o.MaxGradNorm };
}

/// <summary>
/// The on-policy loop shared by PPO, A2C and REINFORCE: collect T steps, estimate advantages,
/// then epochs × minibatches of the loss pipeline. The algorithms differ only in their settings
/// and loss terms (see <see cref="Ppo"/>, <see cref="A2c"/>, <see cref="Reinforce"/>).
/// </summary>
public sealed class OnPolicyAlgorithm : IAlgorithm
{
    private readonly ActorCriticPolicy _policy;
    private readonly OnPolicySettings _settings;
    private readonly LossPipeline _loss;
    private readonly RolloutBuffer _buffer;
    private readonly AdamOptimizer _adam;
    private readonly Rng _rng;
    private readonly int[] _order;
    private long _iterations;

    /// <summary>Creates the algorithm over <paramref name="env"/>; the envs are reset with <paramref name="envSeed"/>.</summary>
    public OnPolicyAlgorithm(ActorCriticPolicy policy, IVectorEnv env, OnPolicySettings settings, LossPipeline loss, Rng collectorRng, Rng learnerRng, long envSeed)
        : this(policy, RolloutCollector.Started(env, policy, collectorRng, envSeed), settings, loss, learnerRng)
    {
    }

    /// <summary>Creates the algorithm over an experience <paramref name="source"/> (which it owns and disposes).</summary>
    public OnPolicyAlgorithm(ActorCriticPolicy policy, IExperienceSource source, OnPolicySettings settings, LossPipeline loss, Rng learnerRng)
    {
        _policy = policy;
        _settings = settings;
        _loss = loss;
        _rng = learnerRng;
        Collector = source;
        _buffer = new RolloutBuffer(source.ObservationSpace, settings.RolloutSteps, source.NumEnvs, source.ActionSpace.ActionLayout);
        if (_buffer.Count < settings.Minibatches)
            throw new ArgumentException($"A rollout of {_buffer.Count} steps cannot be split into {settings.Minibatches} minibatches.");
        _adam = new AdamOptimizer(policy.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)), settings.Adam);
        _order = Enumerable.Range(0, _buffer.Count).ToArray();
    }

    /// <inheritdoc />
    public Policy Policy => _policy;

    /// <inheritdoc />
    public IExperienceSource Collector { get; }

    /// <inheritdoc />
    public long OptimizerSteps => _adam.StepCount;

    /// <summary>The rollout buffer (for inspection).</summary>
    public RolloutBuffer Buffer => _buffer;

    /// <summary>The loss pipeline.</summary>
    public LossPipeline Loss => _loss;

    /// <inheritdoc />
    public string? NonFinite { get; private set; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Iterate(long totalSteps)
    {
        NonFinite = null;
        double progress = Math.Clamp((double)Collector.Steps / totalSteps, 0, 1);
        if (_settings.AnnealLearningRate) _adam.LearningRate = _settings.Adam.LearningRate * (1 - progress);
        Collector.CollectRollout(_buffer, ActionSelection.Sample);
        long clock = IterationProfile.Start();
        if (_settings.GaeLambda is double lambda) _buffer.ComputeGae(_settings.Gamma, lambda);
        else _buffer.ComputeDiscountedReturns(_settings.Gamma);
        IterationProfile.Stop(ProfileSection.Advantage, clock);
        var metrics = Update(progress);
        _iterations++;
        return metrics;
    }

    private Dictionary<string, double> Update(double progress)
    {
        var sums = new Dictionary<string, double>();
        var counts = new Dictionary<string, int>();
        int epochsDone = 0, skipped = 0;
        int n = _buffer.Count, size = n / _settings.Minibatches;
        bool fullBatch = _settings.Minibatches == 1;
        using var outer = NewDisposeScope();
        // The whole rollout as tensors once; minibatches are index_select copies of it.
        var observations = _policy.Tensorizer.ToInput(_buffer.Observations);
        var actions = ActionTensorsOf(_buffer);
        var oldLogProbs = tensor(_buffer.LogProbs);
        var advantages = tensor(_buffer.Advantages);
        var returns = tensor(_buffer.Returns);
        var oldValues = tensor(_buffer.Values);
        bool normalize = _settings.NormalizeAdvantages && size > 1;
        // One minibatch of everything: the normalised advantages are the same every epoch, so once per update.
        if (fullBatch && normalize) advantages = Normalized(advantages);
        bool stop = false;
        for (int epoch = 0; epoch < _settings.Epochs && !stop; epoch++)
        {
            // Diagnostics cost calls: only on the last epoch, or everywhere when target-KL stopping reads them.
            bool diagnostics = epoch == _settings.Epochs - 1 || _settings.TargetKl is not null;
            // A fresh permutation of 0..n-1 each epoch: the order carries no state from one iteration to the next.
            if (!fullBatch)
            {
                for (int i = 0; i < _order.Length; i++) _order[i] = i;
                _rng.Shuffle(_order.AsSpan());
            }
            for (int mb = 0; mb < _settings.Minibatches; mb++)
            {
                using var scope = NewDisposeScope();
                long clock = IterationProfile.Start();
                OnPolicyBatch batch;
                Tensor adv;
                if (fullBatch)
                {
                    // One minibatch of everything: order is irrelevant to the mean loss, so no shuffle or gather.
                    adv = advantages;
                    batch = new OnPolicyBatch(observations, actions, oldLogProbs, adv, returns, oldValues);
                }
                else
                {
                    var index = tensor(_order.AsSpan(mb * size, size).ToArray().Select(i => (long)i).ToArray());
                    adv = advantages.index_select(0, index);
                    batch = new OnPolicyBatch(observations.Select(index),
                        new ActionTensors(actions.Discrete?.index_select(0, index), actions.Continuous?.index_select(0, index)), oldLogProbs.index_select(0, index),
                        adv, returns.index_select(0, index), oldValues.index_select(0, index));
                }
                if (normalize && !fullBatch) batch = batch with { Advantages = Normalized(adv) };
                var context = new LossContext(_policy, progress) { OnPolicy = batch, Diagnostics = diagnostics };
                var loss = _loss.Total(context);
                if (diagnostics && !context.Metrics.ContainsKey("entropy"))
                    using (no_grad()) context.Metrics["entropy"] = context.Evaluation.Entropy.mean().item<float>();
                if (_settings.TargetKl is double kl && context.Metrics.TryGetValue("approx_kl", out double approxKl) && approxKl > 1.5 * kl)
                {
                    Accumulate(sums, counts, context.Metrics);
                    stop = true;
                    break;
                }
                clock = IterationProfile.Stop(ProfileSection.Forward, clock);
                _adam.ZeroGrad();
                loss.backward();
                clock = IterationProfile.Stop(ProfileSection.Backward, clock);
                double norm = _adam.Step();
                IterationProfile.Stop(ProfileSection.Optimizer, clock);
                context.Metrics["grad_norm"] = norm;
                if (!double.IsFinite(norm))
                {
                    // The optimiser applied nothing; the runner stops or counts it (training.nonFinite).
                    skipped++;
                    NonFinite ??= NonFiniteQuantity(context.Metrics, norm);
                    continue;
                }
                Accumulate(sums, counts, context.Metrics);
            }
            epochsDone++;
        }
        var metrics = sums.ToDictionary(p => p.Key, p => p.Value / counts[p.Key]);
        if (skipped > 0) metrics["skipped_updates"] = skipped;
        metrics["learning_rate"] = _adam.LearningRate;
        metrics["epochs"] = epochsDone;
        metrics["explained_variance"] = ExplainedVariance(_buffer.Values, _buffer.Returns);
        return metrics;
    }

    /// <summary>(Â − mean) / (std + 1e-8) over the batch [B].</summary>
    private static Tensor Normalized(Tensor advantages) => advantages.sub(advantages.mean()).div(advantages.std().add(1e-8));

    /// <summary>
    /// The rollout's actions as tensors: integers int64 ([T·N] for a Discrete space, [T·N, Kd] otherwise)
    /// and floats [T·N, Kc]; null where the layout has none.
    /// </summary>
    public static ActionTensors ActionTensorsOf(RolloutBuffer buffer)
    {
        int n = buffer.Count, kd = buffer.DiscreteCount, kc = buffer.ContinuousCount;
        var integers = Array.ConvertAll(buffer.Actions, a => (long)a);
        Tensor? discrete = kd == 0 ? null : kd == 1 ? tensor(integers, [n]) : tensor(integers, [n, kd]);
        Tensor? continuous = kc == 0 ? null : tensor(buffer.ContinuousActions, [n, kc]);
        return new ActionTensors(discrete, continuous);
    }

    private static void Accumulate(Dictionary<string, double> sums, Dictionary<string, int> counts, Dictionary<string, double> metrics)
    {
        foreach (var (k, v) in metrics)
        {
            sums[k] = sums.GetValueOrDefault(k) + v;
            counts[k] = counts.GetValueOrDefault(k) + 1;
        }
    }

    /// <summary>Names a minibatch's first non-finite loss term, else its gradient norm, e.g. <c>value_loss = NaN</c>.</summary>
    internal static string NonFiniteQuantity(IReadOnlyDictionary<string, double> metrics, double gradientNorm)
    {
        foreach (var (key, value) in metrics.OrderBy(p => p.Key, StringComparer.Ordinal))
            if (key.EndsWith("loss", StringComparison.Ordinal) && !double.IsFinite(value)) return $"{key} = {Format(value)}";
        return $"the gradient norm = {Format(gradientNorm)}";
    }

    private static string Format(double v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>1 − Var[R − V] / Var[R]: how much of the return variance the value function explains.</summary>
    public static double ExplainedVariance(ReadOnlySpan<float> values, ReadOnlySpan<float> returns)
    {
        double meanR = 0, meanD = 0;
        for (int i = 0; i < returns.Length; i++) { meanR += returns[i]; meanD += returns[i] - values[i]; }
        meanR /= returns.Length;
        meanD /= returns.Length;
        double varR = 0, varD = 0;
        for (int i = 0; i < returns.Length; i++)
        {
            varR += (returns[i] - meanR) * (returns[i] - meanR);
            double d = returns[i] - values[i] - meanD;
            varD += d * d;
        }
        return varR == 0 ? double.NaN : 1 - varD / varR;
    }

    /// <inheritdoc />
    public IEnumerable<(string Name, Tensor Tensor)> CheckpointTensors() =>
        ModelWeights.Named(_policy, "policy.").Concat(_adam.StateTensors("optimizer."));

    /// <inheritdoc />
    public AlgorithmState SaveState() =>
        new(Collector.Steps, _iterations, _adam.StepCount, _adam.LearningRate, Collector.Rng.GetState(), _rng.GetState());

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, Tensor> tensors, AlgorithmState state, string source)
    {
        ModelWeights.Load(_policy, tensors, source, _ => true, "policy.");
        _adam.LoadState(tensors, "optimizer.", state.OptimizerSteps, source);
        _adam.LearningRate = state.LearningRate;
        Collector.Steps = state.Steps;
        _iterations = state.Iterations;
        Collector.Rng.SetState(state.CollectorRng);
        _rng.SetState(state.LearnerRng);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _adam.Dispose();
        Collector.Dispose();
    }
}

/// <summary>PPO: GAE, clipped surrogate, (clipped) value loss, entropy bonus, minibatch epochs, target-KL stop.</summary>
public static class Ppo
{
    /// <summary>The settings and loss terms of PPO under <paramref name="o"/>; <paramref name="extraTerms"/> are appended.</summary>
    public static (OnPolicySettings Settings, LossPipeline Loss) Configure(PpoOptions o, IEnumerable<(ILossTerm, double)>? extraTerms = null)
    {
        var settings = new OnPolicySettings(o.RolloutSteps, o.Gamma, o.GaeLambda, o.Epochs, o.Minibatches, o.NormalizeAdvantages, o.TargetKl,
            o.AnnealLearningRate, OnPolicySettings.AdamFor(o));
        Func<double, double> clip = o.AnnealClipRange ? p => o.ClipRange * (1 - p) : _ => o.ClipRange;
        var terms = new List<(ILossTerm, double)>
        {
            (new ClippedSurrogateLoss(clip), 1.0),
            (new ValueLoss(o.ClipValueLoss ? o.ClipRange : null), o.ValueCoefficient),
            (new EntropyBonus(), o.EntropyCoefficient),
        };
        return (settings, new LossPipeline(terms.Concat(extraTerms ?? [])));
    }
}

/// <summary>A2C: n-step (or GAE) advantages, one gradient step per rollout on the whole batch.</summary>
public static class A2c
{
    /// <summary>The settings and loss terms of A2C under <paramref name="o"/>.</summary>
    public static (OnPolicySettings Settings, LossPipeline Loss) Configure(A2cOptions o, IEnumerable<(ILossTerm, double)>? extraTerms = null) =>
        (new OnPolicySettings(o.RolloutSteps, o.Gamma, o.GaeLambda, 1, 1, o.NormalizeAdvantages, null, o.AnnealLearningRate, OnPolicySettings.AdamFor(o)),
         PolicyGradientLoss.Pipeline(o, extraTerms));
}

/// <summary>REINFORCE with baseline: Monte Carlo returns, advantage G − V(s), one step per rollout.</summary>
public static class Reinforce
{
    /// <summary>The settings and loss terms of REINFORCE under <paramref name="o"/>.</summary>
    public static (OnPolicySettings Settings, LossPipeline Loss) Configure(ReinforceOptions o, IEnumerable<(ILossTerm, double)>? extraTerms = null) =>
        (new OnPolicySettings(o.RolloutSteps, o.Gamma, null, 1, 1, o.NormalizeAdvantages, null, o.AnnealLearningRate, OnPolicySettings.AdamFor(o)),
         PolicyGradientLoss.Pipeline(o, extraTerms));
}
