using RLAgents.Agents.Buffers;
using RLAgents.Agents.Collection;
using RLAgents.Environments;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Training;
using RLAgents.Policies;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Networks;
using static TorchSharp.torch;

namespace RLAgents.Agents.Algorithms;

/// <summary>
/// The two Q(s, a) critics of SAC and TD3, their Polyak-averaged targets and their one Adam optimiser
/// (the clipped double-Q trick of Fujimoto et al. 2018: targets take the minimum of the two target critics).
/// </summary>
public sealed class TwinCritics : IDisposable
{
    private readonly ContinuousQNetwork _q1, _q2, _target1, _target2;
    private readonly AdamOptimizer _adam;

    /// <summary>Builds both critics (weights from <paramref name="rng"/>) and copies them into their targets.</summary>
    public TwinCritics(ObservationSpace observations, BoxSpace actions, PolicyOptions options, IStateEstimatorFactory estimators, double learningRate, Rng rng)
    {
        _q1 = new ContinuousQNetwork(observations, actions, options, estimators, rng);
        _q2 = new ContinuousQNetwork(observations, actions, options, estimators, rng);
        _target1 = _q1.CloneNetwork();
        _target2 = _q2.CloneNetwork();
        foreach (var p in _target1.parameters().Concat(_target2.parameters())) p.requires_grad = false;
        _adam = new AdamOptimizer(_q1.named_parameters().Select(p => ("q1." + p.name, p.parameter)).Concat(_q2.named_parameters().Select(p => ("q2." + p.name, p.parameter))),
            new AdamOptions { LearningRate = learningRate });
    }

    /// <summary>The first critic (the one TD3's actor climbs).</summary>
    public ContinuousQNetwork Q1 => _q1;

    /// <summary>The second critic.</summary>
    public ContinuousQNetwork Q2 => _q2;

    /// <summary>Gradient steps taken.</summary>
    public long Steps => _adam.StepCount;

    /// <summary>min(Q1(s, a), Q2(s, a)) [B] of the online critics (SAC's actor objective).</summary>
    public Tensor Min(ObservationInput observations, Tensor actions) => minimum(_q1.forward(observations, actions), _q2.forward(observations, actions));

    /// <summary>min(Q1_target(s', a'), Q2_target(s', a')) [B], without gradients.</summary>
    public Tensor TargetMin(ObservationInput next, Tensor nextActions)
    {
        using var _ = no_grad();
        return minimum(_target1.forward(next, nextActions), _target2.forward(next, nextActions));
    }

    /// <summary>
    /// One gradient step on ½·Σ_i E[(Q_i(s, a) − y)²]·2 = MSE(Q1, y) + MSE(Q2, y) (CleanRL's sum of the
    /// two regressions); returns the loss and the mean Q1 for metrics.
    /// </summary>
    public (double Loss, double QMean, double GradNorm) Update(ObservationInput observations, Tensor actions, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var q1 = _q1.forward(observations, actions);
        var q2 = _q2.forward(observations, actions);
        var loss = nn.functional.mse_loss(q1, targets).add(nn.functional.mse_loss(q2, targets));
        _adam.ZeroGrad();
        loss.backward();
        double norm = _adam.Step(); // a non-finite norm: the optimiser applied nothing
        return (loss.item<float>(), q1.mean().item<float>(), norm);
    }

    /// <summary>θ'_i ← τ·θ_i + (1 − τ)·θ'_i for both targets.</summary>
    public void UpdateTargets(double tau)
    {
        Policy.Polyak(_target1, _q1, tau);
        Policy.Polyak(_target2, _q2, tau);
    }

    /// <summary>Critics, targets and the optimiser's moments as named tensors (<c>critic.*</c>).</summary>
    public IEnumerable<(string Name, Tensor Tensor)> CheckpointTensors() =>
        ModelWeights.Named(_q1, "critic.q1.").Concat(ModelWeights.Named(_q2, "critic.q2."))
            .Concat(ModelWeights.Named(_target1, "critic.target1.")).Concat(ModelWeights.Named(_target2, "critic.target2."))
            .Concat(_adam.StateTensors("critic.optimizer."));

    /// <summary>Restores what <see cref="CheckpointTensors"/> wrote; <paramref name="steps"/> is the optimiser's step count.</summary>
    public void Load(IReadOnlyDictionary<string, Tensor> tensors, long steps, string source)
    {
        ModelWeights.Load(_q1, tensors, source, _ => true, "critic.q1.");
        ModelWeights.Load(_q2, tensors, source, _ => true, "critic.q2.");
        ModelWeights.Load(_target1, tensors, source, _ => true, "critic.target1.");
        ModelWeights.Load(_target2, tensors, source, _ => true, "critic.target2.");
        _adam.LoadState(tensors, "critic.optimizer.", steps, source);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _adam.Dispose();
        _q1.Dispose();
        _q2.Dispose();
        _target1.Dispose();
        _target2.Dispose();
    }
}

/// <summary>Replay, n-step accumulation and minibatch tensors shared by SAC and TD3.</summary>
internal sealed class ContinuousReplay
{
    private readonly float[] _noise;

    public ContinuousReplay(IExperienceSource source, ContinuousControlOptions options)
    {
        var layout = source.ActionSpace.ActionLayout;
        Buffer = new ReplayBuffer(source.ObservationSpace, options.BufferSize, layout);
        NStep = new NStepAccumulator(source.ObservationSpace, source.NumEnvs, options.NStep, options.Gamma, layout);
        Sample = new ReplaySample(source.ObservationSpace, options.BatchSize, layout);
        ActionSize = layout.ContinuousCount;
        _noise = new float[options.BatchSize * ActionSize];
    }

    public ReplayBuffer Buffer { get; }

    public NStepAccumulator NStep { get; }

    public ReplaySample Sample { get; }

    public int ActionSize { get; }

    /// <summary>Draws a minibatch: s, a [B, Kc], R [B], discount [B], s' as tensors of the current dispose scope.</summary>
    public (ObservationInput Observations, Tensor Actions, Tensor Returns, Tensor Discounts, ObservationInput Next) Draw(ObservationTensorizer tensorizer, Rng rng)
    {
        Buffer.Sample(rng, Sample);
        return (tensorizer.ToInput(Sample.Observations), tensor(Sample.ContinuousActions, [Sample.Count, ActionSize]),
            tensor(Sample.Returns), tensor(Sample.Discounts), tensorizer.ToInput(Sample.NextObservations));
    }

    /// <summary>ε ~ N(0, I) [B, Kc] from <paramref name="rng"/> (so updates replay exactly from a seed and a checkpoint).</summary>
    public Tensor Noise(Rng rng, double std = 1, double clip = double.PositiveInfinity)
    {
        for (int i = 0; i < _noise.Length; i++) _noise[i] = (float)Math.Clamp(std * rng.NextNormal(), -clip, clip);
        return tensor(_noise, [Sample.Count, ActionSize]);
    }
}
