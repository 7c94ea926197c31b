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
public sealed class Sac : ContinuousOffPolicyAlgorithm
{
    private readonly SacOptions _options;
    private readonly Parameter? _logAlpha;
    private readonly AdamOptimizer? _alphaAdam;
    private readonly double _targetEntropy;

    /// <summary>
    /// Creates SAC over an experience <paramref name="source"/> (a Box action space, e.g. a started
    /// <see cref="Collection.RolloutCollector"/>; SAC owns and disposes it) for <paramref name="actor"/>; the critics
    /// are built like the actor's networks (<paramref name="policyOptions"/>, <paramref name="estimators"/>)
    /// with weights from <paramref name="criticRng"/>.
    /// </summary>
    public Sac(ContinuousActor actor, PolicyOptions policyOptions, IStateEstimatorFactory estimators, Collection.IExperienceSource source, SacOptions options,
        Rng learnerRng, Rng criticRng)
        : base(actor, policyOptions, estimators, source, options, learnerRng, criticRng)
    {
        _options = options;
        _targetEntropy = options.TargetEntropy ?? -actor.Distribution.ContinuousCount;
        if (options.EntropyCoefficient is null)
        {
            _logAlpha = new Parameter(tensor(new[] { (float)Math.Log(options.InitialEntropyCoefficient) }));
            _alphaAdam = new AdamOptimizer([("log_alpha", _logAlpha)], new AdamOptions { LearningRate = options.EntropyLearningRate });
        }
    }

    /// <inheritdoc />
    public override long OptimizerSteps => ActorAdam.StepCount;

    /// <summary>The entropy coefficient α now.</summary>
    public double Alpha => _logAlpha is null ? _options.EntropyCoefficient!.Value : Math.Exp(_logAlpha.data<float>()[0]);

    /// <inheritdoc />
    protected override ActionSelection Exploration => ActionSelection.Sample;

    /// <inheritdoc />
    protected override void AddMetrics(Dictionary<string, double> metrics) => metrics["alpha"] = Alpha;

    /// <inheritdoc />
    protected override Dictionary<string, double> TrainStep()
    {
        using var scope = NewDisposeScope();
        var (s, a, r, discount, next) = Replay.Draw(Actor.Tensorizer, LearnerRng);
        double alpha = Alpha;
        // 1. Critics: y = r + γ_d·(min Q'(s', ã') − α log π(ã'|s')), all [B].
        Tensor y;
        using (no_grad())
        {
            var (nextActions, nextLogProbs) = Actor.Sample(next, Replay.Noise(LearnerRng));
            y = SoftTdTargets(r, discount, Critics.TargetMin(next, nextActions), nextLogProbs, alpha);
        }
        var (criticLoss, qMean, criticNorm) = Critics.Update(s, a, y);
        // 2. Actor: E[α log π(ã|s) − min Q(s, ã)], ã reparameterised [B, Kc]. The critics' gradients it leaves are zeroed before their next step.
        var (actions, logProbs) = Actor.Sample(s, Replay.Noise(LearnerRng));
        var actorLoss = logProbs.mul(alpha).sub(Critics.Min(s, actions)).mean();
        ActorAdam.ZeroGrad();
        actorLoss.backward();
        double actorNorm = ActorAdam.Step();
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
        Critics.UpdateTargets(_options.Tau);
        return metrics;
    }

    /// <summary>The soft TD target y = r + γ_d·(Q_next − α·log π(ã'|s')), elementwise over [B] (γ_d already 0 after termination).</summary>
    public static Tensor SoftTdTargets(Tensor returns, Tensor discounts, Tensor nextQ, Tensor nextLogProbs, double alpha) =>
        Dqn.TdTargets(returns, discounts, nextQ.sub(nextLogProbs.mul(alpha)));

    /// <summary>The temperature objective −E[log α·(log π(ã|s) + H̄)]: its gradient raises α while the entropy −log π is below H̄.</summary>
    public static Tensor TemperatureLoss(Tensor logAlpha, Tensor logProbs, double targetEntropy) =>
        logAlpha.mul(logProbs.add(targetEntropy)).mean().neg();

    /// <inheritdoc />
    public override IEnumerable<(string Name, Tensor Tensor)> CheckpointTensors() =>
        _logAlpha is null ? base.CheckpointTensors()
            : base.CheckpointTensors().Append(("log_alpha", (Tensor)_logAlpha)).Concat(_alphaAdam!.StateTensors("alpha_optimizer."));

    /// <inheritdoc />
    public override void LoadState(IReadOnlyDictionary<string, Tensor> tensors, AlgorithmState state, string source)
    {
        // Every gradient step moves actor, critics and α once.
        base.LoadState(tensors, state, source);
        if (_logAlpha is null) return;
        if (!tensors.TryGetValue("log_alpha", out var logAlpha)) throw new InvalidDataException($"{source}: the checkpoint has no log_alpha (SAC with automatic entropy tuning).");
        using (no_grad()) _logAlpha.copy_(logAlpha);
        _alphaAdam!.LoadState(tensors, "alpha_optimizer.", state.OptimizerSteps, source);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _alphaAdam?.Dispose();
            _logAlpha?.Dispose();
        }
        base.Dispose(disposing);
    }
}
