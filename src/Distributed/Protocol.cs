using RLAgents.Agents.Algorithms;

namespace RLAgents.Distributed;

/// <summary>
/// The learner of one run, keyed by its run id: rollout workers register with it, submit trajectory
/// batches and pull weights by version. A thin grain over the learner process's <see cref="Learner"/>;
/// its turns only hand data over (env stepping never runs in a grain turn).
/// </summary>
public interface ILearnerGrain : IGrainWithStringKey
{
    /// <summary>Registers a worker: refused with one line when its config or code version differs, else its id, the resolved config and its seed shard.</summary>
    Task<Registration> Register(WorkerHello hello);

    /// <summary>Submits one trajectory batch in its packed form (<see cref="TrajectoryBatch"/>); the ack says what became of it and what to do next.</summary>
    Task<SubmitAck> Submit(BatchHeader header, [Immutable] byte[] data);

    /// <summary>Waits up to <paramref name="timeout"/> for something that concerns the worker (new weights, a new phase, a share to collect); returns the status.</summary>
    Task<LearnerStatus> WaitForChange(int workerId, long version, TimeSpan timeout);

    /// <summary>The current weights (safetensors bytes) and their version.</summary>
    Task<WeightsReply> Weights(int workerId);

    /// <summary>
    /// Reports that a worker's env broke its contract (<c>training.checkEnvSteps</c>, or a Step or Reset that threw): the
    /// learner stops the run with the fault, as a local run stops on its own env's.
    /// </summary>
    Task ReportFault(int workerId, string env, int? slot, string problem);
}

/// <summary>What a worker tells the learner when it registers.</summary>
[GenerateSerializer, Immutable]
public sealed class WorkerHello
{
    /// <summary>The worker id it asks for (a restarted worker keeps its id and continues its seed shard); null lets the learner pick.</summary>
    [Id(0)] public int? RequestedId { get; init; }

    /// <summary>The worker's own resolved experiment (JSON), when it was started with one; it must equal the learner's.</summary>
    [Id(1)] public string? ConfigJson { get; init; }

    /// <summary>The worker's code version (<see cref="CodeVersion.Current"/>); it must equal the learner's.</summary>
    [Id(2)] public string CodeVersion { get; init; } = "";

    /// <summary>Where the worker runs (machine and process id), for messages.</summary>
    [Id(3)] public string Process { get; init; } = "";
}

/// <summary>The learner's answer to <see cref="ILearnerGrain.Register"/>.</summary>
[GenerateSerializer, Immutable]
public sealed class Registration
{
    /// <summary>Why the worker is refused (one line), or null when it is accepted.</summary>
    [Id(0)] public string? Refused { get; init; }

    /// <summary>The worker's id.</summary>
    [Id(1)] public int WorkerId { get; init; }

    /// <summary>The run's resolved experiment (JSON).</summary>
    [Id(2)] public string ConfigJson { get; init; } = "";

    /// <summary>The worker's seed shard: every seed of the worker derives from it and a batch sequence number.</summary>
    [Id(3)] public ulong WorkerSeed { get; init; }

    /// <summary>The sequence number of the worker's next batch (after the last one the learner saw from this id).</summary>
    [Id(4)] public long NextSequence { get; init; }

    /// <summary>Envs per worker batch: <c>env.numEnvs / distributed.workers</c>.</summary>
    [Id(5)] public int ShardEnvs { get; init; }

    /// <summary>The learner's state.</summary>
    [Id(6)] public LearnerStatus Status { get; init; } = new();
}

/// <summary>The learner's state as it concerns one worker.</summary>
[GenerateSerializer, Immutable]
public sealed class LearnerStatus
{
    /// <summary>This learner process's incarnation: a restarted (resumed) learner has another, and batches or weights of an earlier one are void.</summary>
    [Id(0)] public long Incarnation { get; init; }

    /// <summary>The running RL phase's index, or -1 while no RL phase runs (SFT, evaluation between phases, start-up).</summary>
    [Id(1)] public int Phase { get; init; } = -1;

    /// <summary>The running phase's algorithm.</summary>
    [Id(2)] public AlgorithmKind Kind { get; init; }

    /// <summary>The current weights version.</summary>
    [Id(3)] public long Version { get; init; }

    /// <summary>Env steps of the running phase the learner has consumed (DQN workers follow ε on it).</summary>
    [Id(4)] public long PhaseSteps { get; init; }

    /// <summary>Whether the worker should collect a batch now (false: wait for new weights or a new phase).</summary>
    [Id(5)] public bool Collect { get; init; }

    /// <summary>How far behind the current version a worker's weights may be before it pulls new ones (0 for on-policy phases).</summary>
    [Id(6)] public long PullLag { get; init; }

    /// <summary>The run is over: workers exit.</summary>
    [Id(7)] public bool Finished { get; init; }
}

/// <summary>Identity of one batch: exactly-once accounting keys on (worker id, sequence).</summary>
[GenerateSerializer, Immutable]
public sealed class BatchHeader
{
    /// <summary>The sending worker.</summary>
    [Id(0)] public int WorkerId { get; init; }

    /// <summary>The worker's batch sequence number (strictly increasing per worker).</summary>
    [Id(1)] public long Sequence { get; init; }

    /// <summary>The learner incarnation the batch's weights came from.</summary>
    [Id(2)] public long Incarnation { get; init; }

    /// <summary>The phase it was collected for.</summary>
    [Id(3)] public int Phase { get; init; }

    /// <summary>The weights version that acted.</summary>
    [Id(4)] public long Version { get; init; }

    /// <summary>Env steps in the batch.</summary>
    [Id(5)] public int EnvSteps { get; init; }
}

/// <summary>What became of a submitted batch.</summary>
[GenerateSerializer]
public enum SubmitOutcome
{
    /// <summary>Taken for learning (its env steps count once it is consumed).</summary>
    Accepted,
    /// <summary>Seen before (same worker and sequence): dropped, not counted again.</summary>
    Duplicate,
    /// <summary>Collected with weights too old for the phase's algorithm, for another phase, or after the round filled: dropped.</summary>
    Stale,
    /// <summary>The learner's queue is full: submit the same batch again shortly.</summary>
    Busy,
    /// <summary>The learner does not know this worker (it restarted): register again.</summary>
    Unregistered,
}

/// <summary>The learner's answer to <see cref="ILearnerGrain.Submit"/>.</summary>
[GenerateSerializer, Immutable]
public sealed class SubmitAck
{
    /// <summary>What became of the batch.</summary>
    [Id(0)] public SubmitOutcome Outcome { get; init; }

    /// <summary>The learner's state after it.</summary>
    [Id(1)] public LearnerStatus Status { get; init; } = new();
}

/// <summary>Policy weights as one safetensors blob.</summary>
[GenerateSerializer, Immutable]
public sealed class WeightsReply
{
    /// <summary>The learner incarnation.</summary>
    [Id(0)] public long Incarnation { get; init; }

    /// <summary>The version of these weights.</summary>
    [Id(1)] public long Version { get; init; }

    /// <summary>The safetensors bytes (<c>LanguageModel.Checkpoints.Safetensors.ToBytes</c> of the policy's named tensors).</summary>
    [Id(2)] public byte[] Data { get; init; } = [];
}
