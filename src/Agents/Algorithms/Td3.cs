using RLAgents.Environments;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Training;
using RLAgents.Policies;
using RLAgents.Policies.Networks;
using RLAgents.Policies.Selection;
using static TorchSharp.torch;

namespace RLAgents.Agents.Algorithms;

/// <summary>
/// Twin delayed DDPG (Fujimoto et al. 2018, Algorithm 1): uniformly random actions until
/// <see cref="ContinuousControlOptions.LearningStarts"/>, then the deterministic actor's action plus
/// N(0, σ²) exploration noise (or σ × an Ornstein–Uhlenbeck process, <see cref="Td3Options.NoiseProcess"/>), clipped to the bounds, into a replay buffer; per gradient step, on a minibatch
/// <list type="number">
/// <item>target-policy smoothing: ã' = clip(μ'(s') + clip(N(0, σ̃²), −c, c), low, high);</item>
/// <item>clipped double-Q: the twin critics regress onto y = r + γ_d·min_i Q'_i(s', ã');</item>
/// <item>every d-th step (delayed updates) the actor ascends Q1(s, μ(s)) and all targets move by Polyak averaging with τ.</item>
/// </list>
/// Noise scales are in units of half the action range. The discount γ_d is 0 after termination and γ^k
/// after truncation or k = n steps.
/// </summary>
public sealed class Td3 : ContinuousOffPolicyAlgorithm
{
    private readonly ContinuousActor _targetActor;
    private readonly Td3Options _options;
    private readonly float[] _scale, _low, _high;
    private readonly OrnsteinUhlenbeckNoise? _noise;

    /// <summary>
    /// Creates TD3 over an experience <paramref name="source"/> (a Box action space, e.g. a started
    /// <see cref="Collection.RolloutCollector"/>; TD3 owns and disposes it) for <paramref name="actor"/> (its mode is
    /// the deterministic policy); the critics are built like the actor's networks, weights from <paramref name="criticRng"/>.
    /// </summary>
    public Td3(ContinuousActor actor, PolicyOptions policyOptions, IStateEstimatorFactory estimators, Collection.IExperienceSource source, Td3Options options,
        Rng learnerRng, Rng criticRng)
        : base(actor, policyOptions, estimators, source, options, learnerRng, criticRng)
    {
        _targetActor = actor.CloneNetwork();
        foreach (var p in _targetActor.parameters()) p.requires_grad = false;
        _options = options;
        var layout = actor.Distribution.Layout;
        _scale = actor.Distribution.ActionScale.ToArray();
        _low = layout.Low.ToArray();
        _high = layout.High.ToArray();
        if (options.NoiseProcess == ExplorationNoiseProcess.OrnsteinUhlenbeck)
            _noise = new OrnsteinUhlenbeckNoise(source.NumEnvs, layout.ContinuousCount, options.NoiseTheta, options.NoiseDt);
    }

    /// <inheritdoc />
    public override long OptimizerSteps => Critics.Steps;

    /// <inheritdoc />
    protected override ActionSelection Exploration => ActionSelection.NoisyGreedy(_options.ExplorationNoise, _noise);

    /// <inheritdoc />
    protected override IActionNoise? ActionNoise => _noise;

    /// <inheritdoc />
    protected override Dictionary<string, double> TrainStep()
    {
        using var scope = NewDisposeScope();
        var (s, a, r, discount, next) = Replay.Draw(Actor.Tensorizer, LearnerRng);
        var scale = tensor(_scale);
        Tensor y;
        using (no_grad())
        {
            // 1. Target-policy smoothing: clipped noise [B, Kc] around the target actor's action, kept in bounds.
            var smoothing = Replay.Noise(LearnerRng, _options.PolicyNoise, _options.NoiseClip).mul(scale);
            var nextActions = SmoothedTargetActions(_targetActor.Deterministic(next), smoothing, tensor(_low), tensor(_high));
            // 2. Clipped double-Q target [B].
            y = Dqn.TdTargets(r, discount, Critics.TargetMin(next, nextActions));
        }
        var (criticLoss, qMean, criticNorm) = Critics.Update(s, a, y);
        var metrics = new Dictionary<string, double> { ["critic_loss"] = criticLoss, ["critic_grad_norm"] = criticNorm, ["q_mean"] = qMean };
        // 3. Delayed policy and target updates.
        if (Critics.Steps % _options.PolicyDelay == 0)
        {
            var actorLoss = Critics.Q1.forward(s, Actor.Deterministic(s)).mean().neg();
            ActorAdam.ZeroGrad();
            actorLoss.backward();
            metrics["actor_grad_norm"] = ActorAdam.Step();
            Critics.UpdateTargets(_options.Tau);
            Policy.Polyak(_targetActor, Actor, _options.Tau);
            metrics["actor_loss"] = actorLoss.item<float>();
        }
        return metrics;
    }

    /// <summary>Target-policy smoothing: clip(μ'(s') + noise, low, high) elementwise over [B, Kc] (the noise already clipped and scaled).</summary>
    public static Tensor SmoothedTargetActions(Tensor targetActions, Tensor noise, Tensor low, Tensor high) =>
        maximum(minimum(targetActions.add(noise), high), low);

    /// <inheritdoc />
    public override IEnumerable<(string Name, Tensor Tensor)> CheckpointTensors() =>
        base.CheckpointTensors().Concat(ModelWeights.Named(_targetActor, "target_policy."));

    /// <inheritdoc />
    public override void LoadState(IReadOnlyDictionary<string, Tensor> tensors, AlgorithmState state, string source)
    {
        base.LoadState(tensors, state, source);
        ModelWeights.Load(_targetActor, tensors, source, _ => true, "target_policy.");
    }

    // The actor steps once every PolicyDelay critic steps.
    /// <inheritdoc />
    protected override long ActorSteps(long gradientSteps) => gradientSteps / _options.PolicyDelay;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) _targetActor.Dispose();
        base.Dispose(disposing);
    }
}
