using RLAgents.Agents.Collection;
using RLAgents.Environments;
using RLAgents.Policies;
using static TorchSharp.torch;

namespace RLAgents.Agents.Algorithms;

/// <summary>The JSON-serialisable part of an algorithm's state (tensors go to safetensors).</summary>
/// <param name="Steps">Env steps taken.</param>
/// <param name="Iterations">Collect-and-update iterations done.</param>
/// <param name="OptimizerSteps">Adam's step count (bias correction).</param>
/// <param name="LearningRate">Adam's current learning rate.</param>
/// <param name="CollectorRng">The action-draw generator.</param>
/// <param name="LearnerRng">The minibatch / replay-sampling generator.</param>
/// <param name="TargetUpdates">DQN: target-update boundaries crossed so far.</param>
/// <param name="Rollout">The collector's envs, episodes in progress and recorders, so a resume continues them exactly (null: the envs restart).</param>
public sealed record AlgorithmState(long Steps, long Iterations, long OptimizerSteps, double LearningRate, RngState CollectorRng, RngState LearnerRng, long TargetUpdates = 0,
    Collection.RolloutState? Rollout = null)
{
    /// <summary>The state of a stateful exploration process (TD3's Ornstein–Uhlenbeck noise, slot-major), exact; null when there is none.</summary>
    public double[]? ExplorationNoise { get; init; }
}

/// <summary>
/// A learning algorithm the training runner drives: one <see cref="Iterate"/> collects experience
/// and updates the policy. Everything needed to resume is in <see cref="CheckpointTensors"/> and
/// <see cref="SaveState"/>.
/// </summary>
public interface IAlgorithm : IDisposable
{
    /// <summary>The policy being trained (its greedy form is evaluated).</summary>
    Policy Policy { get; }

    /// <summary>Where the experience comes from: the local collector driving the training envs, or a distributed source.</summary>
    IExperienceSource Collector { get; }

    /// <summary>Env steps taken so far.</summary>
    long Steps => Collector.Steps;

    /// <summary>Gradient updates (optimiser steps) taken so far.</summary>
    long OptimizerSteps { get; }

    /// <summary>Demonstration episodes the algorithm learns from besides its own experience (DQfD's), counted once per phase.</summary>
    long Demonstrations => 0;

    /// <summary>
    /// One collect-and-update iteration; returns its metrics (losses, entropy, learning rate …). A minibatch whose
    /// loss or gradient is not finite updates nothing (see <c>AdamOptimizer.Step</c>); it is counted in
    /// <c>skipped_updates</c> and described by <see cref="NonFinite"/>.
    /// </summary>
    IReadOnlyDictionary<string, double> Iterate(long totalSteps);

    /// <summary>The first non-finite loss or gradient of the latest iteration (e.g. <c>value_loss = NaN</c>), or null when every update was finite.</summary>
    string? NonFinite { get; }

    /// <summary>Named tensors to checkpoint: <c>policy.*</c>, optimiser moments, target network.</summary>
    IEnumerable<(string Name, Tensor Tensor)> CheckpointTensors();

    /// <summary>Counters, learning rate and generator states.</summary>
    AlgorithmState SaveState();

    /// <summary>Restores from a checkpoint's tensors and state.</summary>
    void LoadState(IReadOnlyDictionary<string, Tensor> tensors, AlgorithmState state, string source);

    /// <summary>Whether checkpoints carry a replay buffer (<see cref="SaveReplay"/>, <see cref="LoadReplay"/>).</summary>
    bool CheckpointsReplay => false;

    /// <summary>Writes the replay buffer (only when <see cref="CheckpointsReplay"/>).</summary>
    void SaveReplay(Stream stream) => throw new NotSupportedException($"{GetType().Name} keeps no replay buffer.");

    /// <summary>Restores the replay buffer written by <see cref="SaveReplay"/>; <paramref name="source"/> names the file in errors.</summary>
    void LoadReplay(Stream stream, string source) => throw new NotSupportedException($"{GetType().Name} keeps no replay buffer.");
}
