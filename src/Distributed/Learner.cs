using System.Text.Json.Nodes;
using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Collection;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.Policies;

namespace RLAgents.Distributed;

/// <summary>Counters of a learner's batches (for metrics and tests).</summary>
/// <param name="Accepted">Batches learned from.</param>
/// <param name="Duplicates">Batches seen before (same worker and sequence), dropped.</param>
/// <param name="Stale">Batches dropped for old weights, another phase or a full round.</param>
/// <param name="LiveWorkers">Workers heard from within the worker timeout.</param>
/// <param name="Consumed">Every batch learned from, as (worker id, sequence), in order.</param>
/// <param name="ConsumedSteps">Env steps of the batches learned from.</param>
public sealed record LearnerCounters(long Accepted, long Duplicates, long Stale, int LiveWorkers, IReadOnlyList<(int Worker, long Sequence)> Consumed, long ConsumedSteps);

/// <summary>
/// The learner side of distributed training, one per run, in the learner process: it registers workers,
/// keeps exactly-once accounting by (worker id, sequence), publishes the policy's weights by version, and
/// supplies the runner's RL phases with experience from worker batches (<see cref="IExperienceSourceFactory"/>).
/// On-policy phases learn only from batches of the current weights: an update waits for
/// <see cref="DistributedOptions.Workers"/> such batches (a round; any live worker may fill a dead one's share) and
/// drops the rest. DQN learns from every batch within <see cref="DistributedOptions.MaxPolicyLag"/> versions.
/// Thread-safe: grain turns call it while the runner's thread waits in <see cref="RemoteExperienceSource"/>.
/// </summary>
public sealed class Learner : IExperienceSourceFactory
{
    private readonly object _gate = new();
    private readonly ExperimentOptions _options;
    private readonly DistributedOptions _distributed;
    private readonly string _configJson;
    private readonly ulong _seed;
    private readonly TimeProvider _time;
    private readonly Dictionary<int, WorkerRecord> _workers = [];
    private readonly List<(int, long)> _consumed = [];
    private TaskCompletionSource _changed = NewSignal();
    private PhaseChannel? _phase;
    private long _version;
    private byte[] _weights = [];
    private long _accepted, _duplicates, _stale, _consumedSteps;
    private bool _finished;
    private (string Env, int? Slot, string Problem)? _fault;

    /// <summary>Creates the learner of <paramref name="options"/> (which must have a <c>distributed</c> section).</summary>
    public Learner(ExperimentOptions options, TimeProvider? time = null)
    {
        _options = options;
        _distributed = options.Distributed ?? throw new ArgumentException("The experiment has no distributed section.", nameof(options));
        _configJson = OptionsBinder.Serialize(options);
        _seed = unchecked((ulong)options.Seed);
        _time = time ?? TimeProvider.System;
        // A new incarnation per learner process: weights and batches of a killed learner are void after --resume.
        Incarnation = DateTime.UtcNow.Ticks ^ Environment.ProcessId;
    }

    /// <summary>This learner process's incarnation.</summary>
    public long Incarnation { get; }

    /// <summary>The grain key workers address: the experiment's name.</summary>
    public string RunId => _options.Name;

    /// <summary>Cancelled when the host stops: a runner waiting for batches gives up.</summary>
    public CancellationToken Stopping { get; set; }

    /// <summary>The counters so far.</summary>
    public LearnerCounters Counters
    {
        get
        {
            lock (_gate) return new(_accepted, _duplicates, _stale, LiveWorkers(), [.. _consumed], _consumedSteps);
        }
    }

    /// <summary>Tells every worker the run is over.</summary>
    public void Finish()
    {
        lock (_gate)
        {
            _finished = true;
            _phase = null;
            Signal();
        }
    }

    /// <summary>Registers a worker (see <see cref="ILearnerGrain.Register"/>).</summary>
    public Registration Register(WorkerHello hello)
    {
        if (hello.CodeVersion != CodeVersion.Current)
            return new Registration { Refused = $"worker {hello.Process} runs code version {hello.CodeVersion}, the learner of '{RunId}' runs {CodeVersion.Current}" };
        if (hello.ConfigJson is { } json && FirstDifference(JsonNode.Parse(json), JsonNode.Parse(_configJson), "") is { } diff)
            return new Registration { Refused = $"worker {hello.Process} has a different config than the learner of '{RunId}': {diff}" };
        lock (_gate)
        {
            int id = hello.RequestedId ?? Enumerable.Range(0, _workers.Count + 1).First(i => !_workers.ContainsKey(i));
            if (!_workers.TryGetValue(id, out var worker)) _workers[id] = worker = new WorkerRecord();
            worker.LastSeen = _time.GetUtcNow();
            worker.Process = hello.Process;
            Signal();
            return new Registration
            {
                WorkerId = id, ConfigJson = _configJson, WorkerSeed = Rng.DeriveSeed(_seed, "worker", id), NextSequence = worker.LastSequence + 1,
                ShardEnvs = _options.Env.NumEnvs / _distributed.Workers, Status = StatusFor(id, worker),
            };
        }
    }

    /// <summary>Takes a submitted batch (see <see cref="ILearnerGrain.Submit"/>).</summary>
    public SubmitAck Submit(BatchHeader header, byte[] data)
    {
        lock (_gate)
        {
            if (header.Incarnation != Incarnation || !_workers.TryGetValue(header.WorkerId, out var worker))
                return new SubmitAck { Outcome = SubmitOutcome.Unregistered, Status = new LearnerStatus { Incarnation = Incarnation, Finished = _finished } };
            worker.LastSeen = _time.GetUtcNow();
            if (header.Sequence <= worker.LastSequence)
            {
                _duplicates++;
                return Ack(SubmitOutcome.Duplicate, header.WorkerId, worker);
            }
            var phase = _phase;
            // Back-pressure before the sequence is taken: the worker sends the same batch again.
            if (phase is { OnPolicy: false } && header.Phase == phase.Index && phase.Queue.Count >= _distributed.QueueCapacity)
                return Ack(SubmitOutcome.Busy, header.WorkerId, worker);
            worker.LastSequence = header.Sequence;
            if (worker.BusyVersion == header.Version) worker.BusyVersion = -1;
            if (phase is null || header.Phase != phase.Index) return Drop(header, worker);
            if (phase.OnPolicy)
            {
                if (header.Version != _version || phase.RoundTaken || phase.Round.Count >= _distributed.Workers) return Drop(header, worker);
                phase.Round.Add((header, data));
            }
            else
            {
                if (_version - header.Version > _distributed.MaxPolicyLag) return Drop(header, worker);
                phase.Queue.Enqueue((header, data));
            }
            _accepted++;
            Monitor.PulseAll(_gate);
            return Ack(SubmitOutcome.Accepted, header.WorkerId, worker);
        }
    }

    /// <summary>Waits for a change that concerns the worker (see <see cref="ILearnerGrain.WaitForChange"/>).</summary>
    public async Task<LearnerStatus> WaitForChangeAsync(int workerId, long version, TimeSpan timeout)
    {
        var deadline = _time.GetUtcNow() + timeout;
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (!_workers.TryGetValue(workerId, out var worker)) return new LearnerStatus { Incarnation = Incarnation, Finished = _finished };
                worker.LastSeen = _time.GetUtcNow();
                var status = StatusFor(workerId, worker);
                if (status.Finished || status.Collect || status.Version - version > status.PullLag || _time.GetUtcNow() >= deadline) return status;
                changed = _changed.Task;
            }
            // Re-evaluated at least every 250 ms: a silent worker's share passes to others once it times out.
            var remaining = deadline - _time.GetUtcNow();
            await Task.WhenAny(changed, Task.Delay(remaining < TimeSpan.FromMilliseconds(250) ? remaining : TimeSpan.FromMilliseconds(250))).ConfigureAwait(false);
        }
    }

    /// <summary>Records a worker's env fault (see <see cref="ILearnerGrain.ReportFault"/>); the runner's next wait for batches throws it.</summary>
    public void ReportFault(int workerId, string env, int? slot, string problem)
    {
        lock (_gate)
        {
            _fault ??= (env, slot, $"{problem} (on worker {workerId})");
            Monitor.PulseAll(_gate);
        }
    }

    // Called under the gate while the runner waits for batches: a worker's env fault stops the run as a local env's does.
    private void ThrowIfFaulted()
    {
        if (_fault is { } f) throw new EnvFaultException(f.Env, f.Slot, f.Problem);
    }

    /// <summary>The current weights (see <see cref="ILearnerGrain.Weights"/>).</summary>
    public WeightsReply Weights(int workerId)
    {
        lock (_gate)
        {
            if (_workers.TryGetValue(workerId, out var worker)) worker.LastSeen = _time.GetUtcNow();
            return new WeightsReply { Incarnation = Incarnation, Version = _version, Data = _weights };
        }
    }

    /// <inheritdoc />
    public IExperienceSource Create(ExperiencePhase phase)
    {
        if (phase.Options.Distributed is null) throw new ArgumentException("The phase's experiment is not distributed.", nameof(phase));
        return new RemoteExperienceSource(this, phase, _distributed);
    }

    internal void OpenPhase(int index, AlgorithmKind kind, long phaseSteps)
    {
        lock (_gate)
        {
            _phase = new PhaseChannel(index, kind, onPolicy: kind is AlgorithmKind.Ppo or AlgorithmKind.A2c or AlgorithmKind.Reinforce) { Steps = phaseSteps };
            Signal();
        }
    }

    internal void ClosePhase(int index)
    {
        lock (_gate)
        {
            if (_phase?.Index == index) _phase = null;
            Signal();
        }
    }

    /// <summary>Publishes <paramref name="policy"/>'s weights as the next version (on the runner's thread, between updates) and starts a new round.</summary>
    internal void Publish(Policy policy, long phaseSteps)
    {
        byte[] weights = Safetensors.ToBytes(ModelWeights.Named(policy));
        lock (_gate)
        {
            _weights = weights;
            _version++;
            if (_phase is { } phase)
            {
                phase.Steps = phaseSteps;
                phase.Round.Clear();
                phase.RoundTaken = false;
            }
            Signal();
        }
    }

    /// <summary>Blocks until the on-policy round of the current version is complete; returns its batches in arrival order.</summary>
    internal IReadOnlyList<(BatchHeader Header, byte[] Data)> TakeRound()
    {
        lock (_gate)
        {
            var phase = _phase ?? throw new InvalidOperationException("No phase is open.");
            while (phase.Round.Count < _distributed.Workers)
            {
                ThrowIfFaulted();
                Stopping.ThrowIfCancellationRequested();
                Monitor.Wait(_gate, 200);
            }
            var round = phase.Round.ToArray();
            phase.Round.Clear();
            // The update runs on these until the next version: no more batches of this one.
            phase.RoundTaken = true;
            foreach (var (h, _) in round) Consume(h);
            return round;
        }
    }

    /// <summary>Blocks until a transition batch within the lag bound is queued; returns it (older ones are dropped as stale).</summary>
    internal (BatchHeader Header, byte[] Data) TakeTransitions()
    {
        lock (_gate)
        {
            var phase = _phase ?? throw new InvalidOperationException("No phase is open.");
            while (true)
            {
                while (phase.Queue.Count == 0)
                {
                    ThrowIfFaulted();
                    Stopping.ThrowIfCancellationRequested();
                    Monitor.Wait(_gate, 200);
                }
                var batch = phase.Queue.Dequeue();
                Signal();
                // Versions advance while a batch waits in the queue: the lag bound holds at learning time.
                if (_version - batch.Header.Version > _distributed.MaxPolicyLag)
                {
                    _accepted--;
                    _stale++;
                    continue;
                }
                Consume(batch.Header);
                return batch;
            }
        }
    }

    private void Consume(BatchHeader header)
    {
        _consumed.Add((header.WorkerId, header.Sequence));
        _consumedSteps += header.EnvSteps;
    }

    private SubmitAck Drop(BatchHeader header, WorkerRecord worker)
    {
        _stale++;
        return Ack(SubmitOutcome.Stale, header.WorkerId, worker);
    }

    private SubmitAck Ack(SubmitOutcome outcome, int id, WorkerRecord worker) => new() { Outcome = outcome, Status = StatusFor(id, worker) };

    /// <summary>
    /// The status for one worker. On-policy: it collects when its share is needed — the round's open slots exceed
    /// the live workers already collecting this version — so equal workers fill a round once and wait, and a dead
    /// worker's slot passes to a live one after <see cref="DistributedOptions.WorkerTimeoutSeconds"/>.
    /// </summary>
    private LearnerStatus StatusFor(int id, WorkerRecord worker)
    {
        var phase = _phase;
        if (_finished || phase is null || _weights.Length == 0)
            return new LearnerStatus { Incarnation = Incarnation, Version = _version, Finished = _finished };
        bool collect = true;
        if (phase.OnPolicy)
        {
            var now = _time.GetUtcNow();
            int busyOthers = _workers.Count(w => w.Key != id && w.Value.BusyVersion == _version && Alive(w.Value, now));
            collect = !phase.RoundTaken && _distributed.Workers - phase.Round.Count > busyOthers;
            if (collect) worker.BusyVersion = _version;
        }
        return new LearnerStatus
        {
            Incarnation = Incarnation, Phase = phase.Index, Kind = phase.Kind, Version = _version, PhaseSteps = phase.Steps, Collect = collect,
            PullLag = phase.OnPolicy ? 0 : _distributed.MaxPolicyLag / 2,
        };
    }

    private bool Alive(WorkerRecord worker, DateTimeOffset now) => (now - worker.LastSeen).TotalSeconds < _distributed.WorkerTimeoutSeconds;

    private int LiveWorkers()
    {
        var now = _time.GetUtcNow();
        return _workers.Values.Count(w => Alive(w, now));
    }

    private void Signal()
    {
        _changed.TrySetResult();
        _changed = NewSignal();
        Monitor.PulseAll(_gate);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The first key path where two configs differ, with both values, or null when they are equal.</summary>
    internal static string? FirstDifference(JsonNode? a, JsonNode? b, string path)
    {
        string Show(JsonNode? n) => n?.ToJsonString() ?? "null";
        string Where(string p) => p.Length == 0 ? "(root)" : p;
        switch (a, b)
        {
            case (JsonObject oa, JsonObject ob):
                foreach (var key in oa.Select(p => p.Key).Union(ob.Select(p => p.Key)))
                {
                    string child = path.Length == 0 ? key : $"{path}.{key}";
                    if (FirstDifference(oa[key], ob[key], child) is { } d) return d;
                }
                return null;
            case (JsonArray xa, JsonArray xb):
                if (xa.Count != xb.Count) return $"{Where(path)} has {xa.Count} entries, the learner's {xb.Count}";
                for (int i = 0; i < xa.Count; i++)
                    if (FirstDifference(xa[i], xb[i], $"{path}[{i}]") is { } d) return d;
                return null;
            default:
                return Show(a) == Show(b) ? null : $"{Where(path)} is {Show(a)}, the learner's is {Show(b)}";
        }
    }

    private sealed class WorkerRecord
    {
        public long LastSequence = -1;
        public long BusyVersion = -1;
        public DateTimeOffset LastSeen;
        public string Process = "";
    }

    private sealed class PhaseChannel(int index, AlgorithmKind kind, bool onPolicy)
    {
        public int Index { get; } = index;
        public AlgorithmKind Kind { get; } = kind;
        public bool OnPolicy { get; } = onPolicy;
        public long Steps { get; set; }
        public List<(BatchHeader Header, byte[] Data)> Round { get; } = [];
        public bool RoundTaken { get; set; }
        public Queue<(BatchHeader Header, byte[] Data)> Queue { get; } = new();
    }
}

/// <summary>The code version workers and learner must share: the distributed assembly's informational version (with the source commit where the build knows it) and the batch protocol.</summary>
public static class CodeVersion
{
    // 2: batches of format 2 (action layout and float actions).
    private const int Protocol = 2;

    /// <summary>This build's version string.</summary>
    public static string Current { get; } =
        $"{typeof(Learner).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false).OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown"}/protocol-{Protocol}";
}
