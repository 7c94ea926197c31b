using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Buffers;
using RLAgents.Agents.Collection;
using RLAgents.Agents.Training;
using RLAgents.Core.Metrics;
using RLAgents.Environments;
using RLAgents.EpisodeLogs;
using RLAgents.Policies;
using RLAgents.Policies.Selection;

namespace RLAgents.Distributed;

/// <summary>
/// One RL phase's experience from rollout workers, on the learner's side of the seam: before each
/// collection it publishes the policy's weights as a new version (the update before it is done), then
/// fills the update rule's buffer from worker batches — an on-policy rollout of T × <c>env.numEnvs</c>
/// assembled from <c>distributed.workers</c> shards of the current version, or one DQN transition batch
/// within the lag bound. <see cref="Steps"/> counts exactly the env steps of the batches learned from.
/// </summary>
public sealed class RemoteExperienceSource : IExperienceSource
{
    private readonly Learner _learner;
    private readonly Policy _policy;
    private readonly int _phase;
    private readonly int _shard;
    private readonly int _nStepTail;
    private readonly List<EpisodeRecord> _episodes = [];
    private RolloutBuffer? _scratch;
    private ReplayBuffer? _staging;

    internal RemoteExperienceSource(Learner learner, ExperiencePhase phase, DistributedOptions distributed)
    {
        _learner = learner;
        _policy = phase.Policy;
        _phase = phase.Index;
        NumEnvs = phase.Options.Env.NumEnvs;
        _shard = NumEnvs / distributed.Workers;
        Rng = phase.CollectorRng;
        _nStepTail = phase.Phase.Kind is AlgorithmKind.Dqn or AlgorithmKind.Sac or AlgorithmKind.Td3 ? _shard * RolloutWorker.OffPolicy(phase.Phase).NStep : 0;
        learner.OpenPhase(phase.Index, phase.Phase.Kind, 0);
    }

    /// <inheritdoc />
    public ObservationSpace ObservationSpace => _policy.ObservationSpace;

    /// <inheritdoc />
    public Space ActionSpace => _policy.ActionSpace;

    /// <inheritdoc />
    public int NumEnvs { get; }

    /// <summary>Empty: the workers' acting distributions stay with them.</summary>
    public MetricsHistogram ActionProbabilities { get; } = new(0, 1, 20);

    /// <summary>Recorded for the run's view of the options; the workers apply <c>training.checkEnvSteps</c> from the run's config where the envs run.</summary>
    public bool CheckSteps { get; set; }

    /// <summary>Null: the envs live in the workers' processes, so a resume restarts their episodes.</summary>
    public RolloutState? CaptureState(out string? reason)
    {
        reason = "distributed workers step the envs in their own processes";
        return null;
    }

    /// <summary>Never called (<see cref="CaptureState"/> saves nothing).</summary>
    public void RestoreState(RolloutState state) => throw new InvalidOperationException("A distributed run's checkpoints hold no env state.");

    /// <inheritdoc />
    public long Steps { get; set; }

    /// <inheritdoc />
    public Rng Rng { get; }

    /// <summary>Ignored: workers step the training episodes, so a distributed run records evaluations only (validated at start).</summary>
    public EpisodeRecorderGroup? Recorders { get; set; }

    /// <summary>Nothing to reset here: each worker restarts its envs from its own seed shard.</summary>
    public void Reset(long seed)
    {
    }

    /// <inheritdoc />
    public IReadOnlyList<EpisodeRecord> DrainEpisodes()
    {
        var result = _episodes.ToArray();
        _episodes.Clear();
        return result;
    }

    /// <inheritdoc />
    public void CollectRollout(RolloutBuffer buffer, ActionSelection selection)
    {
        _learner.Publish(_policy, Steps);
        _scratch ??= new RolloutBuffer(ObservationSpace, buffer.Steps, _shard, ActionSpace.ActionLayout);
        var round = _learner.TakeRound();
        for (int k = 0; k < round.Count; k++)
        {
            var (header, data) = round[k];
            string source = $"batch {header.Sequence} of worker {header.WorkerId}";
            using var r = TrajectoryBatch.Open(data, TrajectoryBatch.Payload.Rollout, _episodes, source);
            buffer.ReadColumns(r, _scratch, k * _shard, source);
            Steps += header.EnvSteps;
        }
    }

    /// <inheritdoc />
    public void CollectTransitions(int steps, Func<long, ActionSelection> selection, NStepAccumulator nStep, ReplayBuffer replay)
    {
        _learner.Publish(_policy, Steps);
        var (header, data) = _learner.TakeTransitions();
        string source = $"batch {header.Sequence} of worker {header.WorkerId}";
        using var r = TrajectoryBatch.Open(data, TrajectoryBatch.Payload.Transitions, _episodes, source);
        // A batch holds at most its env steps plus the n-step steps pending from the batch before.
        int capacity = header.EnvSteps + _nStepTail;
        if (_staging is null || _staging.Capacity < capacity) _staging = new ReplayBuffer(ObservationSpace, capacity, ActionSpace.ActionLayout);
        replay.AddTransitions(r, _staging, source);
        Steps += header.EnvSteps;
    }

    /// <summary>Closes the phase: workers stop collecting for it.</summary>
    public void Dispose() => _learner.ClosePhase(_phase);
}
