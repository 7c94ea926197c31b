using RLAgents.Agents.Buffers;
using RLAgents.Agents.Collection;
using RLAgents.Agents.Losses;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Training;
using RLAgents.Policies;
using RLAgents.Policies.Distributions;
using RLAgents.Policies.Networks;
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
    private readonly int[] _order; // rows of the rollout, or for a recurrent policy its env columns
    private readonly int _memorySize;
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
        _memorySize = policy.MemorySize;
        // A recurrent policy's minibatches are whole env sequences (its memory runs through the rollout), so there must be
        // at least as many envs as minibatches.
        if (_memorySize > 0 && source.NumEnvs < settings.Minibatches)
            throw new ArgumentException($"A recurrent policy trains on whole env sequences: {source.NumEnvs} envs cannot be split into {settings.Minibatches} minibatches.");
        _adam = new AdamOptimizer(policy.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)), settings.Adam);
        _order = Enumerable.Range(0, _memorySize > 0 ? source.NumEnvs : _buffer.Count).ToArray();
        _hostLoss = HostLossOf(loss);
    }

    /// <summary>
    /// Train small discrete MLP actor-critics on the host (forward, PPO loss and backward in C# on the live weights and
    /// gradients, then the same optimiser step) when the policy, the loss and the batch allow it; false forces the
    /// libtorch path. Both compute the same step to float rounding (issue 16: a 4,096-row minibatch of CartPole's
    /// 64-64 actor and critic is ≈ 35 ms of libtorch calls for ≈ 110M multiply-adds).
    /// </summary>
    internal bool HostTraining { get; set; } = true;

    /// <summary>Minibatches trained by the host step (tests check the host path ran).</summary>
    internal long HostSteps { get; private set; }

    // The PPO terms the host step computes, with their weights; null when the pipeline holds any other term.
    private readonly (ClippedSurrogateLoss Surrogate, double PolicyWeight, double? ValueClip, double ValueWeight, double EntropyWeight)? _hostLoss;
    // Host step scratch: gathered inputs [B, D], logits and ∂L/∂logits [B, K], V and ∂L/∂V [B], normalised advantages [B].
    private float[] _hostX = [], _hostLogits = [], _hostGradLogits = [], _hostValues = [], _hostGradValues = [], _hostAdvantages = [];

    /// <summary>The host step's plan for <paramref name="loss"/>: PPO's clipped surrogate, value loss and entropy bonus and nothing else.</summary>
    private static (ClippedSurrogateLoss, double, double?, double, double)? HostLossOf(LossPipeline loss)
    {
        ClippedSurrogateLoss? surrogate = null;
        double policyWeight = 0, valueWeight = 0, entropyWeight = 0;
        double? valueClip = null;
        foreach (var (term, weight) in loss.Terms)
        {
            if (weight == 0) continue;
            switch (term)
            {
                case ClippedSurrogateLoss c when surrogate is null: (surrogate, policyWeight) = (c, weight); break;
                case ValueLoss v when valueWeight == 0: (valueClip, valueWeight) = (v.Clip, weight); break;
                case EntropyBonus when entropyWeight == 0: entropyWeight = weight; break;
                default: return null;
            }
        }
        return surrogate is null ? null : (surrogate, policyWeight, valueClip, valueWeight, entropyWeight);
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
        bool recurrent = _memorySize > 0;
        int steps = _buffer.Steps, envsPer = _buffer.Envs / _settings.Minibatches;
        if (recurrent) size = envsPer * steps;
        using var outer = NewDisposeScope();
        // The whole rollout as tensors once; minibatches are index_select copies of it.
        var observations = _policy.Tensorizer.ToInput(_buffer.Observations);
        // A recurrent policy replays each env's rollout from the memory it entered with: initial [N, H], continue flags [T, N].
        Tensor initialMemory = null!, continues = null!;
        if (recurrent)
        {
            var initial = _buffer.InitialMemory ?? throw new InvalidOperationException(
                "The rollout carries no recurrent memory: its source does not keep one (distributed rollouts cannot train a recurrent policy yet).");
            initialMemory = tensor(initial, [_buffer.Envs, _memorySize]);
            continues = tensor(_buffer.ContinueFlags(), [steps, _buffer.Envs]);
            if (fullBatch) observations.Sequence = new SequenceInput(steps, initialMemory, continues);
        }
        bool normalize = _settings.NormalizeAdvantages && size > 1;
        (HostMlp Actor, HostMlp Critic)? host = null;
        if (HostTraining && _hostLoss is not null && _buffer.DiscreteCount == 1 && _buffer.ContinuousCount == 0 && _policy.HostTrainingNetworks is { } nets
            && nets.Actor.AcceptsTraining(observations, n) && nets.Critic.AcceptsTraining(observations, n))
            host = nets;
        // The libtorch path's rollout tensors; the host step reads the buffer's arrays instead.
        ActionTensors actions = default;
        Tensor oldLogProbs = null!, advantages = null!, returns = null!, oldValues = null!;
        if (host is null)
        {
            actions = ActionTensorsOf(_buffer);
            oldLogProbs = tensor(_buffer.LogProbs);
            advantages = tensor(_buffer.Advantages);
            returns = tensor(_buffer.Returns);
            oldValues = tensor(_buffer.Values);
            // One minibatch of everything: the normalised advantages are the same every epoch, so once per update.
            if (fullBatch && normalize) advantages = Normalized(advantages);
        }
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
                if (host is { } hostNets)
                {
                    var rows = fullBatch ? default : _order.AsSpan(mb * size, size);
                    int b = fullBatch ? n : size;
                    var hostMetrics = HostLoss(hostNets, observations[0], rows, b, normalize, progress, diagnostics);
                    if (_settings.TargetKl is double hostKl && hostMetrics.TryGetValue("approx_kl", out double hostApproxKl) && hostApproxKl > 1.5 * hostKl)
                    {
                        Accumulate(sums, counts, hostMetrics);
                        stop = true;
                        break;
                    }
                    clock = IterationProfile.Stop(ProfileSection.Forward, clock);
                    _adam.ZeroGrad();
                    if (HostMlp.Both(hostNets.Actor.MultiplyAdds(b))) BackwardInParallel(hostNets, observations[0], !fullBatch, b);
                    else
                    {
                        var inputs = HostInputs(observations[0], !fullBatch, b, hostNets.Actor.InputSize);
                        hostNets.Actor.Backward(inputs, b, _hostGradLogits);
                        hostNets.Critic.Backward(inputs, b, _hostGradValues);
                    }
                    clock = IterationProfile.Stop(ProfileSection.Backward, clock);
                    if (!Stepped(hostMetrics, ref skipped, clock)) continue;
                    Accumulate(sums, counts, hostMetrics);
                    continue;
                }
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
                    Tensor index;
                    SequenceInput? sequence = null;
                    if (recurrent)
                    {
                        // Envs E of this minibatch, all T steps each, time-major: row t·|E| + j is step t of env E[j].
                        var envs = _order.AsSpan(mb * envsPer, envsPer).ToArray().Select(i => (long)i).ToArray();
                        var rows = new long[size];
                        for (int t = 0; t < steps; t++)
                            for (int j = 0; j < envsPer; j++) rows[t * envsPer + j] = (long)t * _buffer.Envs + envs[j];
                        index = tensor(rows);
                        var envIndex = tensor(envs);
                        sequence = new SequenceInput(steps, initialMemory.index_select(0, envIndex), continues.index_select(1, envIndex));
                    }
                    else index = tensor(_order.AsSpan(mb * size, size).ToArray().Select(i => (long)i).ToArray());
                    adv = advantages.index_select(0, index);
                    var selected = observations.Select(index);
                    selected.Sequence = sequence;
                    batch = new OnPolicyBatch(selected,
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
                if (!Stepped(context.Metrics, ref skipped, clock)) continue;
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

    /// <summary>
    /// The optimiser step on the gradients just computed; records <c>grad_norm</c> in <paramref name="metrics"/>. False when
    /// the norm is not finite: the optimiser applied nothing, and the runner stops or counts it (training.nonFinite).
    /// </summary>
    private bool Stepped(Dictionary<string, double> metrics, ref int skipped, long clock)
    {
        double norm = _adam.Step();
        IterationProfile.Stop(ProfileSection.Optimizer, clock);
        metrics["grad_norm"] = norm;
        if (double.IsFinite(norm)) return true;
        skipped++;
        NonFinite ??= NonFiniteQuantity(metrics, norm);
        return false;
    }

    /// <summary>
    /// PPO's loss on the host for the minibatch <paramref name="rows"/> of the rollout (empty: all <paramref name="b"/>
    /// rows in order): the actor's logits [B, K] and the critic's V [B] from forwards that keep their activations, then
    /// ∂L/∂logits into <c>_hostGradLogits</c> and ∂L/∂V into <c>_hostGradValues</c> for the backward, with the same
    /// diagnostics as the tensor terms. The derivatives follow autograd's rules where the loss has kinks: min and max
    /// split a tie evenly, clamp passes the gradient on its closed interval.
    /// </summary>
    private Dictionary<string, double> HostLoss((HostMlp Actor, HostMlp Critic) nets, Tensor inputs, ReadOnlySpan<int> rows, int b,
        bool normalize, double progress, bool diagnostics)
    {
        HostSteps++;
        var (surrogate, policyWeight, valueClip, valueWeight, entropyWeight) = _hostLoss!.Value;
        int dim = nets.Actor.InputSize, k = nets.Actor.OutputSize;
        if (_hostLogits.Length < b * k) (_hostLogits, _hostGradLogits) = (new float[b * k], new float[b * k]);
        if (_hostValues.Length < b) (_hostValues, _hostGradValues, _hostAdvantages) = (new float[b], new float[b], new float[b]);
        if (!rows.IsEmpty)
        {
            // The minibatch's rows of the rollout's inputs [N, D], read in place, into [B, D].
            var all = HostMlp.InPlace(inputs, _buffer.Count * dim);
            if (_hostX.Length < b * dim) _hostX = new float[b * dim];
            for (int r = 0; r < b; r++) all.Slice(rows[r] * dim, dim).CopyTo(_hostX.AsSpan(r * dim, dim));
        }
        if (HostMlp.Both(nets.Actor.MultiplyAdds(b))) ForwardInParallel(nets, inputs, !rows.IsEmpty, b);
        else
        {
            var x = HostInputs(inputs, !rows.IsEmpty, b, dim);
            nets.Actor.ForwardForTraining(x, b, _hostLogits);
            nets.Critic.ForwardForTraining(x, b, _hostValues);
        }

        // Â of the minibatch, normalised as Normalized does: (Â − mean) / (std + 1e-8), std with Bessel's correction.
        double mean = 0;
        for (int r = 0; r < b; r++) mean += _hostAdvantages[r] = _buffer.Advantages[rows.IsEmpty ? r : rows[r]];
        mean /= b;
        if (normalize)
        {
            double squares = 0;
            for (int r = 0; r < b; r++) squares += (_hostAdvantages[r] - mean) * (_hostAdvantages[r] - mean);
            double scale = 1 / (Math.Sqrt(squares / (b - 1)) + 1e-8);
            for (int r = 0; r < b; r++) _hostAdvantages[r] = (float)((_hostAdvantages[r] - mean) * scale);
        }

        float eps = (float)surrogate.ClipAt(progress);
        float policyGrad = (float)(policyWeight / b), valueGrad = (float)(valueWeight / b), entropyGrad = (float)(entropyWeight / b);
        double policySum = 0, valueSum = 0, entropySum = 0, klSum = 0;
        int clipped = 0;
        for (int r = 0; r < b; r++)
        {
            int i = rows.IsEmpty ? r : rows[r];
            var z = _hostLogits.AsSpan(r * k, k);  // logits of row r [K]
            var g = _hostGradLogits.AsSpan(r * k, k);
            float max = z[0];
            for (int j = 1; j < k; j++) max = MathF.Max(max, z[j]);
            double sumExp = 0;
            for (int j = 0; j < k; j++) sumExp += Math.Exp(z[j] - max);
            float logSumExp = max + (float)Math.Log(sumExp);
            double entropy = 0; // H = −Σ p log p
            for (int j = 0; j < k; j++)
            {
                double logP = z[j] - logSumExp;
                entropy -= Math.Exp(logP) * logP;
            }
            int action = _buffer.Actions[i];
            float logRatio = z[action] - logSumExp - _buffer.LogProbs[i];
            float ratio = MathF.Exp(logRatio), advantage = _hostAdvantages[r];
            float unclipped = ratio * advantage, clippedTerm = Math.Clamp(ratio, 1 - eps, 1 + eps) * advantage;
            policySum += MathF.Min(unclipped, clippedTerm);
            // L = −w·mean(min(ρÂ, clip(ρ)Â)): ∂L/∂ρ = −wÂ/B where the unclipped term is the minimum (or ties with it), else 0;
            // ∂L/∂log π(a) = ∂L/∂ρ · ρ; ∂ log π(a)/∂z_j = [j = a] − p_j; the entropy bonus −w_H·mean(H) adds w_H/B · p_j (log p_j + H).
            float dLogP = unclipped <= clippedTerm ? -policyGrad * advantage * ratio : 0;
            for (int j = 0; j < k; j++)
            {
                float logP = z[j] - logSumExp, p = MathF.Exp(logP);
                g[j] = -dLogP * p + entropyGrad * p * (logP + (float)entropy);
            }
            g[action] += dLogP;
            entropySum += entropy;
            klSum += ratio - 1 - logRatio;
            if (MathF.Abs(ratio - 1) > eps) clipped++;

            // ½·mean((V − R)²), or ½·mean(max((V − R)², (V_old + clip(V − V_old, ±ε) − R)²)): ∂/∂V of the larger square.
            float v = _hostValues[r], error = v - _buffer.Returns[i];
            float square = error * error, dV = error;
            if (valueClip is double vc)
            {
                float ve = (float)vc, old = _buffer.Values[i], step = v - old;
                float clippedError = old + Math.Clamp(step, -ve, ve) - _buffer.Returns[i];
                float clippedSquare = clippedError * clippedError;
                float through = step >= -ve && step <= ve ? clippedError : 0;
                dV = square > clippedSquare ? error : clippedSquare > square ? through : 0.5f * (error + through);
                square = MathF.Max(square, clippedSquare);
            }
            valueSum += square;
            _hostGradValues[r] = valueGrad * dV;
        }

        var metrics = new Dictionary<string, double>();
        if (diagnostics)
        {
            if (policyWeight != 0) metrics["policy_loss"] = (float)(-policySum / b);
            if (valueWeight != 0) metrics["value_loss"] = (float)(0.5 * valueSum / b);
            if (entropyWeight != 0) metrics["entropy_loss"] = (float)(-entropySum / b);
            metrics["entropy"] = (float)(entropySum / b);
            metrics["approx_kl"] = (float)(klSum / b);
            metrics["clip_fraction"] = (float)clipped / b;
        }
        return metrics;
    }

    /// <summary>The host step's inputs [B, D]: the gathered minibatch, or the rollout's first B rows in place.</summary>
    private ReadOnlySpan<float> HostInputs(Tensor inputs, bool gathered, int b, int dim) =>
        gathered ? _hostX.AsSpan(0, b * dim) : HostMlp.InPlace(inputs, b * dim);

    // Actor and critic are separate networks with scratch and gradients of their own: on two threads (HostMlp.Both) they
    // compute exactly what they compute one after the other.
    private void ForwardInParallel((HostMlp Actor, HostMlp Critic) nets, Tensor inputs, bool gathered, int b) => Parallel.Invoke(
        () => nets.Actor.ForwardForTraining(HostInputs(inputs, gathered, b, nets.Actor.InputSize), b, _hostLogits),
        () => nets.Critic.ForwardForTraining(HostInputs(inputs, gathered, b, nets.Critic.InputSize), b, _hostValues));

    // Backward reads each parameter's .grad, a new tensor handle per read: a dispose scope on each worker thread releases
    // them there (scopes are per thread; the minibatch's scope on the calling thread does not see them).
    private void BackwardInParallel((HostMlp Actor, HostMlp Critic) nets, Tensor inputs, bool gathered, int b) => Parallel.Invoke(
        () =>
        {
            using var scope = NewDisposeScope();
            nets.Actor.Backward(HostInputs(inputs, gathered, b, nets.Actor.InputSize), b, _hostGradLogits);
        },
        () =>
        {
            using var scope = NewDisposeScope();
            nets.Critic.Backward(HostInputs(inputs, gathered, b, nets.Critic.InputSize), b, _hostGradValues);
        });

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
