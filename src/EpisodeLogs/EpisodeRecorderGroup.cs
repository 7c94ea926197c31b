using System.Runtime.CompilerServices;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs;

/// <summary>
/// Records the sub-environments of a vector environment into one log: build each sub-env through
/// <see cref="Wrap"/> (e.g. <c>new SyncVectorEnv(i =&gt; group.Wrap(registry.Make(id), i), n, mode)</c>).
/// Episode indices come from one shared counter (unique across sub-envs, in start order); episodes
/// are written as they end, from any thread. Checkpoint, phase and evaluation apply to every slot.
/// </summary>
public sealed class EpisodeRecorderGroup
{
    private readonly EpisodeLogWriter _writer;
    private readonly EpisodeRecorderOptions _options;
    private readonly Func<RecordedEpisode, bool>? _filter;
    private readonly List<EpisodeRecorder> _recorders = [];
    // Recorder of each slot, for per-step lookups without locking or copying (replaced, never mutated, under the gate).
    private EpisodeRecorder?[] _bySlot = [];
    private readonly Lock _gate = new();
    private readonly StrongBox<long> _next;
    private string? _checkpointId, _phase;
    private bool _evaluation;

    /// <summary>Creates a group writing to <paramref name="writer"/> with shared options and filter.</summary>
    /// <remarks>Episode indices continue after those already in the log (<see cref="EpisodeLogWriter.NextEpisodeIndex"/>), so an appended log keeps them unique.</remarks>
    public EpisodeRecorderGroup(EpisodeLogWriter writer, EpisodeRecorderOptions? options = null, Func<RecordedEpisode, bool>? filter = null)
        : this(writer, options, filter, new StrongBox<long>(writer.NextEpisodeIndex - 1))
    {
    }

    private EpisodeRecorderGroup(EpisodeLogWriter writer, EpisodeRecorderOptions? options, Func<RecordedEpisode, bool>? filter, StrongBox<long> next)
    {
        _next = next;
        _writer = writer;
        _options = options ?? new EpisodeRecorderOptions();
        _options.Validate();
        _filter = filter;
    }

    /// <summary>Wraps sub-environment <paramref name="slot"/>.</summary>
    public EpisodeRecorder Wrap(IEnv env, int slot)
    {
        var r = new EpisodeRecorder(env, _writer, _options, _filter, slot, () => Interlocked.Increment(ref _next.Value))
        {
            CheckpointId = _checkpointId,
            Phase = _phase,
            Evaluation = _evaluation,
        };
        lock (_gate)
        {
            _recorders.Add(r);
            var bySlot = new EpisodeRecorder?[Math.Max(_bySlot.Length, slot + 1)];
            _bySlot.CopyTo(bySlot, 0);
            bySlot[slot] = r;
            Volatile.Write(ref _bySlot, bySlot);
        }
        return r;
    }

    /// <summary>
    /// Attaches the agent's action distribution and value estimate on slot <paramref name="slot"/>'s
    /// current observation, stored with that slot's next step (see <see cref="EpisodeRecorder.AttachAgentOutput"/>).
    /// Call it on the thread that steps the vector env, before the step.
    /// </summary>
    public void AttachAgentOutput(int slot, ReadOnlySpan<float> actionProbabilities, float? value = null)
    {
        RecorderAt(slot).AttachAgentOutput(actionProbabilities, value);
    }

    private EpisodeRecorder RecorderAt(int slot)
    {
        var bySlot = Volatile.Read(ref _bySlot);
        return (uint)slot < (uint)bySlot.Length && bySlot[slot] is { } recorder ? recorder
            : throw new ArgumentOutOfRangeException(nameof(slot), slot, "No recorder wraps this slot.");
    }

    /// <summary>
    /// A group on the same log with the same options and filter that draws episode indices from this
    /// group's counter (indices stay unique in the log), e.g. for a training run's evaluation envs.
    /// Checkpoint, phase and evaluation start unset.
    /// </summary>
    public EpisodeRecorderGroup CreateSibling() => new(_writer, _options, _filter, _next);

    /// <summary>Stops recording on slot <paramref name="slot"/> (see <see cref="EpisodeRecorder.Stop"/>).</summary>
    public void Stop(int slot) => RecorderAt(slot).Stop();

    /// <summary>The recorders made so far, by creation order.</summary>
    public IReadOnlyList<EpisodeRecorder> Recorders
    {
        get { lock (_gate) return [.. _recorders]; }
    }

    /// <summary>Checkpoint id for episodes started afterwards, on every slot.</summary>
    public string? CheckpointId
    {
        get => _checkpointId;
        set { _checkpointId = value; foreach (var r in Recorders) r.CheckpointId = value; }
    }

    /// <summary>Phase for episodes started afterwards, on every slot.</summary>
    public string? Phase
    {
        get => _phase;
        set { _phase = value; foreach (var r in Recorders) r.Phase = value; }
    }

    /// <summary>Evaluation flag for episodes started afterwards, on every slot.</summary>
    public bool Evaluation
    {
        get => _evaluation;
        set { _evaluation = value; foreach (var r in Recorders) r.Evaluation = value; }
    }

    /// <summary>The shared episode counter and every slot's recorder state (for checkpoints).</summary>
    public RecorderGroupState CaptureState()
    {
        var bySlot = Volatile.Read(ref _bySlot);
        return new RecorderGroupState(Volatile.Read(ref _next.Value), bySlot.Select(r => r?.CaptureState()).ToArray());
    }

    /// <summary>
    /// Continues the shared counter where <paramref name="state"/> left it and prepares each slot's recorder to
    /// reopen its episode as the vector env's restore replays it (<see cref="EpisodeRecorder.PrepareRestore"/>).
    /// </summary>
    public void PrepareRestore(RecorderGroupState state)
    {
        Volatile.Write(ref _next.Value, state.NextIndex);
        var bySlot = Volatile.Read(ref _bySlot);
        for (int slot = 0; slot < Math.Min(bySlot.Length, state.Slots.Length); slot++)
            if (state.Slots[slot] is { } s && bySlot[slot] is { } r) r.PrepareRestore(s);
    }

    /// <summary>The last episode index drawn from the shared counter (the next episode gets one more).</summary>
    public long LastIndexDrawn => Volatile.Read(ref _next.Value);

    /// <summary>Episodes written by all slots.</summary>
    public long EpisodesRecorded => Recorders.Sum(r => r.EpisodesRecorded);
}

/// <summary>What an <see cref="EpisodeRecorderGroup"/> holds between steps, for checkpoints.</summary>
/// <param name="NextIndex">The shared counter (the last index drawn).</param>
/// <param name="Slots">Each slot's recorder state (null where no recorder wraps the slot).</param>
public sealed record RecorderGroupState(long NextIndex, RecorderState?[] Slots);
