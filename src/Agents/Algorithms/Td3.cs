using RLAgents.Agents.Collection;
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
/// N(0, σ²) exploration noise, clipped to the bounds, into a replay buffer; per gradient step, on a minibatch
/// <list type="number">
/// <item>target-policy smoothing: ã' = clip(μ'(s') + clip(N(0, σ̃²), −c, c), low, high);</item>
/// <item>clipped double-Q: the twin critics regress onto y = r + γ_d·min_i Q'_i(s', ã');</item>
/// <item>every d-th step (delayed updates) the actor ascends Q1(s, μ(s)) and all targets move by Polyak averaging with τ.</item>
/// </list>
/// Noise scales are in units of half the action range. The discount γ_d is 0 after termination and γ^k
/// after truncation or k = n steps.
/// </summary>
public sealed class Td3 : IAlgorithm
{
    private readonly ContinuousActor _actor;
    private readonly ContinuousActor _targetActor;
    private readonly TwinCritics _critics;
    private readonly Td3Options _options;
    private readonly ContinuousReplay _replay;
    private readonly AdamOptimizer _actorAdam;
    private readonly Rng _rng;
    private readonly float[] _scale, _low, _high;
    private long _iterations;

    /// <summary>
    /// Creates TD3 over <paramref name="env"/> (a Box action space) for <paramref name="actor"/> (its mode is
    /// the deterministic policy); the critics are built like the actor's networks, weights from
    /// <paramref name="criticRng"/>; envs are reset with <paramref name="envSeed"/>.
    /// </summary>
    public Td3(ContinuousActor actor, PolicyOptions policyOptions, IStateEstimatorFactory estimators, IVectorEnv env, Td3Options options,
        Rng collectorRng, Rng learnerRng, Rng criticRng, long envSeed)
    {
        _actor = actor;
        _targetActor = actor.CloneNetwork();
        foreach (var p in _targetActor.parameters()) p.requires_grad = false;
        _options = options;
        _rng = learnerRng;
        _critics = new TwinCritics(env.SingleObservationSpace, (BoxSpace)actor.ActionSpace, policyOptions, estimators, options.CriticLearningRate, criticRng);
        _replay = new ContinuousReplay(env, options);
        Collector = new RolloutCollector(env, actor, collectorRng);
        Collector.Reset(envSeed);
        _actorAdam = new AdamOptimizer(actor.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)),
            new AdamOptions { LearningRate = options.ActorLearningRate });
        var layout = actor.Distribution.Layout;
        _scale = actor.Distribution.ActionScale.ToArray();
        _low = layout.Low.ToArray();
        _high = layout.High.ToArray();
    }

    /// <inheritdoc />
    public Policy Policy => _actor;

    /// <inheritdoc />
    public RolloutCollector Collector { get; }

    /// <inheritdoc />
    public long OptimizerSteps => _critics.Steps;

    /// <summary>The twin critics and their targets.</summary>
    public TwinCritics Critics => _critics;

    /// <inheritdoc />
    public string? NonFinite { get; private set; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Iterate(long totalSteps)
    {
        NonFinite = null;
        int n = Collector.Env.NumEnvs;
        int vectorSteps = (_options.TrainFrequency + n - 1) / n;
        Collector.CollectTransitions(vectorSteps,
            step => step < _options.LearningStarts ? ActionSelection.Uniform : ActionSelection.NoisyGreedy(_options.ExplorationNoise), _replay.NStep, _replay.Buffer);
        var metrics = new Dictionary<string, double> { ["replay_size"] = _replay.Buffer.Count };
        if (Collector.Steps >= _options.LearningStarts && _replay.Buffer.Count > 0)
        {
            var round = new GradientRound();
            for (int g = 0; g < _options.GradientSteps; g++) round.Add(TrainStep());
            round.WriteTo(metrics);
            NonFinite = round.NonFinite;
        }
        metrics["learning_rate"] = _actorAdam.LearningRate;
        _iterations++;
        return metrics;
    }

    private Dictionary<string, double> TrainStep()
    {
        using var scope = NewDisposeScope();
        var (s, a, r, discount, next) = _replay.Draw(_actor.Tensorizer, _rng);
        var scale = tensor(_scale);
        Tensor y;
        using (no_grad())
        {
            // 1. Target-policy smoothing: clipped noise [B, Kc] around the target actor's action, kept in bounds.
            var smoothing = _replay.Noise(_rng, _options.PolicyNoise, _options.NoiseClip).mul(scale);
            var nextActions = SmoothedTargetActions(_targetActor.Deterministic(next), smoothing, tensor(_low), tensor(_high));
            // 2. Clipped double-Q target [B].
            y = Dqn.TdTargets(r, discount, _critics.TargetMin(next, nextActions));
        }
        var (criticLoss, qMean, criticNorm) = _critics.Update(s, a, y);
        var metrics = new Dictionary<string, double> { ["critic_loss"] = criticLoss, ["critic_grad_norm"] = criticNorm, ["q_mean"] = qMean };
        // 3. Delayed policy and target updates.
        if (_critics.Steps % _options.PolicyDelay == 0)
        {
            var actorLoss = _critics.Q1.forward(s, _actor.Deterministic(s)).mean().neg();
            _actorAdam.ZeroGrad();
            actorLoss.backward();
            metrics["actor_grad_norm"] = _actorAdam.Step();
            _critics.UpdateTargets(_options.Tau);
            Policy.Polyak(_targetActor, _actor, _options.Tau);
            metrics["actor_loss"] = actorLoss.item<float>();
        }
        return metrics;
    }

    /// <summary>Target-policy smoothing: clip(μ'(s') + noise, low, high) elementwise over [B, Kc] (the noise already clipped and scaled).</summary>
    public static Tensor SmoothedTargetActions(Tensor targetActions, Tensor noise, Tensor low, Tensor high) =>
        maximum(minimum(targetActions.add(noise), high), low);

    /// <inheritdoc />
    public IEnumerable<(string Name, Tensor Tensor)> CheckpointTensors() =>
        ModelWeights.Named(_actor, "policy.").Concat(ModelWeights.Named(_targetActor, "target_policy."))
            .Concat(_actorAdam.StateTensors("optimizer.")).Concat(_critics.CheckpointTensors());

    /// <inheritdoc />
    public AlgorithmState SaveState() =>
        new(Collector.Steps, _iterations, _critics.Steps, _actorAdam.LearningRate, Collector.Rng.GetState(), _rng.GetState());

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, Tensor> tensors, AlgorithmState state, string source)
    {
        ModelWeights.Load(_actor, tensors, source, _ => true, "policy.");
        ModelWeights.Load(_targetActor, tensors, source, _ => true, "target_policy.");
        // The actor steps once every PolicyDelay critic steps.
        _actorAdam.LoadState(tensors, "optimizer.", state.OptimizerSteps / _options.PolicyDelay, source);
        _actorAdam.LearningRate = state.LearningRate;
        _critics.Load(tensors, state.OptimizerSteps, source);
        Collector.Steps = state.Steps;
        _iterations = state.Iterations;
        Collector.Rng.SetState(state.CollectorRng);
        _rng.SetState(state.LearnerRng);
        _replay.NStep.Clear();
    }

    /// <inheritdoc />
    public bool CheckpointsReplay => _options.CheckpointReplay;

    /// <inheritdoc />
    public void SaveReplay(Stream stream) => _replay.Buffer.Save(stream);

    /// <inheritdoc />
    public void LoadReplay(Stream stream, string source) => _replay.Buffer.Load(stream, source);

    /// <inheritdoc />
    public void Dispose()
    {
        _actorAdam.Dispose();
        _targetActor.Dispose();
        _critics.Dispose();
        Collector.Env.Dispose();
    }
}
