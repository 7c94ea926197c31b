using RLAgents.Agents.Collection;
using RLAgents.Environments;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Training;
using RLAgents.Policies;
using RLAgents.Policies.Networks;
using RLAgents.Policies.Selection;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Agents.Algorithms;

/// <summary>
/// Soft actor-critic (Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications", Algorithm 1):
/// uniformly random actions until <see cref="ContinuousControlOptions.LearningStarts"/>, then actions sampled
/// from the tanh-squashed Gaussian actor into a replay buffer; per gradient step, on a minibatch
/// <list type="number">
/// <item>the twin critics regress onto y = r + γ_d·(min_i Q'_i(s', ã') − α·log π(ã'|s')), ã' ~ π(·|s');</item>
/// <item>the actor minimises E[α·log π(ã|s) − min_i Q_i(s, ã)] with ã reparameterised (ã = bias + scale·tanh(μ + σ·ε));</item>
/// <item>with automatic tuning, log α minimises E[−log α·(log π(ã|s) + H̄)], H̄ = −dim(A) by default;</item>
/// <item>the target critics move by Polyak averaging with τ.</item>
/// </list>
/// The discount γ_d is 0 after termination and γ^k after truncation or k = n steps. Every random draw
/// (actions, ε) comes from the run's generators, so a seed gives one run on CPU.
/// </summary>
public sealed class Sac : IAlgorithm
{
    private readonly ContinuousActor _actor;
    private readonly TwinCritics _critics;
    private readonly SacOptions _options;
    private readonly ContinuousReplay _replay;
    private readonly AdamOptimizer _actorAdam;
    private readonly Parameter? _logAlpha;
    private readonly AdamOptimizer? _alphaAdam;
    private readonly double _targetEntropy;
    private readonly Rng _rng;
    private long _iterations;

    /// <summary>
    /// Creates SAC over <paramref name="env"/> (a Box action space) for <paramref name="actor"/>; the critics
    /// are built like the actor's networks (<paramref name="policyOptions"/>, <paramref name="estimators"/>)
    /// with weights from <paramref name="criticRng"/>; envs are reset with <paramref name="envSeed"/>.
    /// </summary>
    public Sac(ContinuousActor actor, PolicyOptions policyOptions, IStateEstimatorFactory estimators, IVectorEnv env, SacOptions options,
        Rng collectorRng, Rng learnerRng, Rng criticRng, long envSeed)
    {
        _actor = actor;
        _options = options;
        _rng = learnerRng;
        _critics = new TwinCritics(env.SingleObservationSpace, (BoxSpace)actor.ActionSpace, policyOptions, estimators, options.CriticLearningRate, criticRng);
        _replay = new ContinuousReplay(env, options);
        Collector = new RolloutCollector(env, actor, collectorRng);
        Collector.Reset(envSeed);
        _actorAdam = new AdamOptimizer(actor.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)),
            new AdamOptions { LearningRate = options.ActorLearningRate });
        _targetEntropy = options.TargetEntropy ?? -actor.Distribution.ContinuousCount;
        if (options.EntropyCoefficient is null)
        {
            _logAlpha = new Parameter(tensor(new[] { (float)Math.Log(options.InitialEntropyCoefficient) }));
            _alphaAdam = new AdamOptimizer([("log_alpha", _logAlpha)], new AdamOptions { LearningRate = options.EntropyLearningRate });
        }
    }

    /// <inheritdoc />
    public Policy Policy => _actor;

    /// <inheritdoc />
    public RolloutCollector Collector { get; }

    /// <inheritdoc />
    public long OptimizerSteps => _actorAdam.StepCount;

    /// <summary>The twin critics and their targets.</summary>
    public TwinCritics Critics => _critics;

    /// <summary>The entropy coefficient α now.</summary>
    public double Alpha => _logAlpha is null ? _options.EntropyCoefficient!.Value : Math.Exp(_logAlpha.data<float>()[0]);

    /// <inheritdoc />
    public string? NonFinite { get; private set; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Iterate(long totalSteps)
    {
        NonFinite = null;
        int n = Collector.Env.NumEnvs;
        int vectorSteps = (_options.TrainFrequency + n - 1) / n;
        Collector.CollectTransitions(vectorSteps,
            step => step < _options.LearningStarts ? ActionSelection.Uniform : ActionSelection.Sample, _replay.NStep, _replay.Buffer);
        var metrics = new Dictionary<string, double> { ["replay_size"] = _replay.Buffer.Count };
        if (Collector.Steps >= _options.LearningStarts && _replay.Buffer.Count > 0)
        {
            var round = new GradientRound();
            for (int g = 0; g < _options.GradientSteps; g++) round.Add(TrainStep());
            round.WriteTo(metrics);
            NonFinite = round.NonFinite;
        }
        metrics["alpha"] = Alpha;
        metrics["learning_rate"] = _actorAdam.LearningRate;
        _iterations++;
        return metrics;
    }

    private Dictionary<string, double> TrainStep()
    {
        using var scope = NewDisposeScope();
        var (s, a, r, discount, next) = _replay.Draw(_actor.Tensorizer, _rng);
        double alpha = Alpha;
        // 1. Critics: y = r + γ_d·(min Q'(s', ã') − α log π(ã'|s')), all [B].
        Tensor y;
        using (no_grad())
        {
            var (nextActions, nextLogProbs) = _actor.Sample(next, _replay.Noise(_rng));
            y = SoftTdTargets(r, discount, _critics.TargetMin(next, nextActions), nextLogProbs, alpha);
        }
        var (criticLoss, qMean, criticNorm) = _critics.Update(s, a, y);
        // 2. Actor: E[α log π(ã|s) − min Q(s, ã)], ã reparameterised [B, Kc]. The critics' gradients it leaves are zeroed before their next step.
        var (actions, logProbs) = _actor.Sample(s, _replay.Noise(_rng));
        var actorLoss = logProbs.mul(alpha).sub(_critics.Min(s, actions)).mean();
        _actorAdam.ZeroGrad();
        actorLoss.backward();
        double actorNorm = _actorAdam.Step();
        var metrics = new Dictionary<string, double>
        {
            ["critic_loss"] = criticLoss,
            ["critic_grad_norm"] = criticNorm,
            ["actor_grad_norm"] = actorNorm,
            ["q_mean"] = qMean,
            ["actor_loss"] = actorLoss.item<float>(),
            ["entropy"] = -logProbs.mean().item<float>(),
        };
        // 3. Temperature: E[−log α · (log π + H̄)] pushes the policy's entropy towards H̄.
        if (_logAlpha is not null)
        {
            var alphaLoss = TemperatureLoss(_logAlpha, logProbs.detach(), _targetEntropy);
            _alphaAdam!.ZeroGrad();
            alphaLoss.backward();
            metrics["alpha_grad_norm"] = _alphaAdam.Step();
            metrics["alpha_loss"] = alphaLoss.item<float>();
        }
        // 4. Targets.
        _critics.UpdateTargets(_options.Tau);
        return metrics;
    }

    /// <summary>The soft TD target y = r + γ_d·(Q_next − α·log π(ã'|s')), elementwise over [B] (γ_d already 0 after termination).</summary>
    public static Tensor SoftTdTargets(Tensor returns, Tensor discounts, Tensor nextQ, Tensor nextLogProbs, double alpha) =>
        Dqn.TdTargets(returns, discounts, nextQ.sub(nextLogProbs.mul(alpha)));

    /// <summary>The temperature objective −E[log α·(log π(ã|s) + H̄)]: its gradient raises α while the entropy −log π is below H̄.</summary>
    public static Tensor TemperatureLoss(Tensor logAlpha, Tensor logProbs, double targetEntropy) =>
        logAlpha.mul(logProbs.add(targetEntropy)).mean().neg();

    /// <inheritdoc />
    public IEnumerable<(string Name, Tensor Tensor)> CheckpointTensors()
    {
        var tensors = ModelWeights.Named(_actor, "policy.").Concat(_actorAdam.StateTensors("optimizer.")).Concat(_critics.CheckpointTensors());
        return _logAlpha is null ? tensors : tensors.Append(("log_alpha", (Tensor)_logAlpha)).Concat(_alphaAdam!.StateTensors("alpha_optimizer."));
    }

    /// <inheritdoc />
    public AlgorithmState SaveState() =>
        new(Collector.Steps, _iterations, _actorAdam.StepCount, _actorAdam.LearningRate, Collector.Rng.GetState(), _rng.GetState());

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, Tensor> tensors, AlgorithmState state, string source)
    {
        ModelWeights.Load(_actor, tensors, source, _ => true, "policy.");
        _actorAdam.LoadState(tensors, "optimizer.", state.OptimizerSteps, source);
        _actorAdam.LearningRate = state.LearningRate;
        // Every gradient step moves actor, critics and α once.
        _critics.Load(tensors, state.OptimizerSteps, source);
        if (_logAlpha is not null)
        {
            if (!tensors.TryGetValue("log_alpha", out var logAlpha)) throw new InvalidDataException($"{source}: the checkpoint has no log_alpha (SAC with automatic entropy tuning).");
            using (no_grad()) _logAlpha.copy_(logAlpha);
            _alphaAdam!.LoadState(tensors, "alpha_optimizer.", state.OptimizerSteps, source);
        }
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
        _alphaAdam?.Dispose();
        _logAlpha?.Dispose();
        _critics.Dispose();
        Collector.Env.Dispose();
    }
}
