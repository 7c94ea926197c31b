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
/// What SAC and TD3 share: a continuous actor and its Adam optimiser, twin critics, a replay buffer filled by
/// the collector (uniformly random actions until <see cref="ContinuousControlOptions.LearningStarts"/>, then the
/// algorithm's exploration), rounds of <see cref="ContinuousControlOptions.GradientSteps"/> gradient steps every
/// <see cref="ContinuousControlOptions.TrainFrequency"/> env steps, checkpoints and state. Subclasses write one
/// gradient step (<see cref="TrainStep"/>) the way their paper does.
/// </summary>
public abstract class ContinuousOffPolicyAlgorithm : IAlgorithm
{
    private readonly ContinuousControlOptions _options;
    private long _iterations;

    /// <summary>
    /// Sets up learning from <paramref name="source"/> (a Box action space; which it owns and disposes) for <paramref name="actor"/>;
    /// the critics are built like the actor's networks (<paramref name="policyOptions"/>, <paramref name="estimators"/>) with
    /// weights from <paramref name="criticRng"/>.
    /// </summary>
    protected ContinuousOffPolicyAlgorithm(ContinuousActor actor, PolicyOptions policyOptions, IStateEstimatorFactory estimators, IExperienceSource source,
        ContinuousControlOptions options, Rng learnerRng, Rng criticRng)
    {
        Actor = actor;
        _options = options;
        LearnerRng = learnerRng;
        Collector = source;
        Critics = new TwinCritics(source.ObservationSpace, (BoxSpace)actor.ActionSpace, policyOptions, estimators, options.CriticLearningRate, criticRng);
        Replay = new ContinuousReplay(source, options);
        ActorAdam = new AdamOptimizer(actor.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)),
            new AdamOptions { LearningRate = options.ActorLearningRate });
    }

    /// <summary>The actor being trained.</summary>
    protected ContinuousActor Actor { get; }

    /// <summary>The actor's optimiser.</summary>
    protected AdamOptimizer ActorAdam { get; }

    /// <summary>Draws minibatches and the noise of the updates.</summary>
    protected Rng LearnerRng { get; }

    /// <summary>The replay buffer and its n-step accumulator.</summary>
    internal ContinuousReplay Replay { get; }

    /// <summary>The twin critics and their targets.</summary>
    public TwinCritics Critics { get; }

    /// <inheritdoc />
    public Policy Policy => Actor;

    /// <inheritdoc />
    public IExperienceSource Collector { get; }

    /// <inheritdoc />
    public abstract long OptimizerSteps { get; }

    /// <inheritdoc />
    public string? NonFinite { get; private set; }

    /// <summary>How actions are chosen once learning has started (SAC samples; TD3 adds Gaussian noise to its mode).</summary>
    protected abstract ActionSelection Exploration { get; }

    /// <summary>One gradient step on a minibatch; its metrics, with a <c>*grad_norm</c> entry per optimiser step taken.</summary>
    protected abstract Dictionary<string, double> TrainStep();

    /// <summary>Metrics the algorithm adds to every iteration's (e.g. SAC's α).</summary>
    protected virtual void AddMetrics(Dictionary<string, double> metrics)
    {
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Iterate(long totalSteps)
    {
        NonFinite = null;
        int n = Collector.NumEnvs;
        int vectorSteps = (_options.TrainFrequency + n - 1) / n;
        Collector.CollectTransitions(vectorSteps, step => step < _options.LearningStarts ? ActionSelection.Uniform : Exploration, Replay.NStep, Replay.Buffer);
        var metrics = new Dictionary<string, double> { ["replay_size"] = Replay.Buffer.Count };
        if (Collector.Steps >= _options.LearningStarts && Replay.Buffer.Count > 0)
        {
            var round = new GradientRound();
            for (int g = 0; g < _options.GradientSteps; g++) round.Add(TrainStep());
            round.WriteTo(metrics);
            NonFinite = round.NonFinite;
        }
        AddMetrics(metrics);
        metrics["learning_rate"] = ActorAdam.LearningRate;
        _iterations++;
        return metrics;
    }

    /// <inheritdoc />
    public virtual IEnumerable<(string Name, Tensor Tensor)> CheckpointTensors() =>
        ModelWeights.Named(Actor, "policy.").Concat(ActorAdam.StateTensors("optimizer.")).Concat(Critics.CheckpointTensors());

    /// <inheritdoc />
    public AlgorithmState SaveState() =>
        new(Collector.Steps, _iterations, OptimizerSteps, ActorAdam.LearningRate, Collector.Rng.GetState(), LearnerRng.GetState())
        {
            ExplorationNoise = ActionNoise?.SaveState(),
        };

    /// <summary>The stateful exploration process acting uses, if any (its state is checkpointed).</summary>
    protected virtual IActionNoise? ActionNoise => null;

    /// <inheritdoc />
    public virtual void LoadState(IReadOnlyDictionary<string, Tensor> tensors, AlgorithmState state, string source)
    {
        ModelWeights.Load(Actor, tensors, source, _ => true, "policy.");
        ActorAdam.LoadState(tensors, "optimizer.", ActorSteps(state.OptimizerSteps), source);
        ActorAdam.LearningRate = state.LearningRate;
        Critics.Load(tensors, state.OptimizerSteps, source);
        Collector.Steps = state.Steps;
        _iterations = state.Iterations;
        Collector.Rng.SetState(state.CollectorRng);
        LearnerRng.SetState(state.LearnerRng);
        if (ActionNoise is { } noise && state.ExplorationNoise is { } noiseState) noise.LoadState(noiseState);
        Replay.NStep.Clear();
    }

    /// <summary>The actor's optimiser steps after <paramref name="gradientSteps"/> critic steps (every one for SAC).</summary>
    protected virtual long ActorSteps(long gradientSteps) => gradientSteps;

    /// <inheritdoc />
    public bool CheckpointsReplay => _options.CheckpointReplay;

    /// <inheritdoc />
    public void SaveReplay(Stream stream) => Replay.Buffer.Save(stream);

    /// <inheritdoc />
    public void LoadReplay(Stream stream, string source) => Replay.Buffer.Load(stream, source);

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the optimiser, critics and the experience source (its envs); subclasses release their own tensors too.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        ActorAdam.Dispose();
        Critics.Dispose();
        Collector.Dispose();
    }
}
