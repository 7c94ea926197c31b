using RLAgents.Environments;
using RLAgents.Environments.Wrappers;

namespace RLAgents.EpisodeLogs;

/// <summary>
/// A wrapper that records the episodes of the environment it wraps into an
/// <see cref="EpisodeLogWriter"/>: training, evaluation or bot runs put it around their env.
/// Every episode the recorder selects (<see cref="RecordMode"/>) is written as one record batch
/// when it ends, so a killed process loses only the open episode. An agent attaches what it
/// thought before each step with <see cref="AttachAgentOutput"/>. The recorder writes what the
/// wrapped stack returns, so put it under wrappers whose observations depend on history (e.g.
/// observation normalisation) so that replay can reproduce what it wrote. It does not own the writer.
/// </summary>
public sealed class EpisodeRecorder : Wrapper
{
    private long _currentIndex;
    private RecorderState? _restoring;
    private int _restoredSteps;
    private readonly EpisodeLogWriter _writer;
    private readonly EpisodeRecorderOptions _options;
    private readonly Func<RecordedEpisode, bool>? _filter;
    private readonly EpisodeBuilder _builder;
    private float[] _pendingProbs = [];
    private int _pendingProbCount;
    private float? _pendingValue;
    private readonly int _slot;
    private readonly Func<long>? _nextIndex;
    private long _localEpisodes;
    private bool _stopped;

    /// <summary>Wraps <paramref name="inner"/> and writes selected episodes to <paramref name="writer"/>.</summary>
    /// <param name="inner">The environment stack to record (the recorder owns and disposes it, as wrappers do).</param>
    /// <param name="writer">Where episodes go; its header must describe <paramref name="inner"/>.</param>
    /// <param name="options">Selection and storage options (null = record all, full observations).</param>
    /// <param name="filter">For <see cref="RecordMode.Filter"/>: a predicate over finished episodes, applied after the options' filters.</param>
    public EpisodeRecorder(IEnv inner, EpisodeLogWriter writer, EpisodeRecorderOptions? options = null, Func<RecordedEpisode, bool>? filter = null)
        : this(inner, writer, options, filter, slot: 0, nextIndex: null)
    {
    }

    /// <summary>A recorder for sub-environment <paramref name="slot"/> of a group sharing one log and one episode counter.</summary>
    internal EpisodeRecorder(IEnv inner, EpisodeLogWriter writer, EpisodeRecorderOptions? options, Func<RecordedEpisode, bool>? filter, int slot, Func<long>? nextIndex)
        : base(inner)
    {
        _slot = slot;
        _nextIndex = nextIndex;
        _writer = writer;
        _options = options ?? new EpisodeRecorderOptions();
        _options.Validate();
        _filter = filter;
        if (writer.Header.Modalities.Count != inner.ObservationSpace.Count
            || !writer.Header.Modalities.Zip(inner.ObservationSpace.Modalities).All(p => p.First.Matches(p.Second)))
            throw new ArgumentException($"The log's modalities ({string.Join(", ", writer.Header.Modalities.Select(m => m.Name))}) do not match {inner.Id}'s observation space {inner.ObservationSpace}.", nameof(writer));
        if (writer.Header.EnvId != inner.Id.ToString())
            throw new ArgumentException($"The log is for {writer.Header.EnvId}, the environment is {inner.Id}.", nameof(writer));
        if (_options.UnseededResets == UnseededResetPolicy.CaptureStartState && !StartStates.Supports(inner))
            throw new ArgumentException($"{inner.Id} cannot capture start states; use UnseededResets = AssignSeed.", nameof(options));
        _builder = new EpisodeBuilder(writer.Header);
    }

    /// <summary>Creates a log at <paramref name="path"/> for <paramref name="env"/> and a recorder around it; dispose the returned writer after the env.</summary>
    public static EpisodeRecorder Create(IEnv env, string path, out EpisodeLogWriter writer, EpisodeRecorderOptions? options = null,
        object? envOptions = null, string? plugin = null, Func<RecordedEpisode, bool>? filter = null)
    {
        options ??= new EpisodeRecorderOptions();
        writer = EpisodeLogWriter.Create(path, EpisodeLogHeader.For(env, options, envOptions, plugin: plugin), options.DurableFlush);
        return new EpisodeRecorder(env, writer, options, filter);
    }

    /// <summary>Checkpoint id of the acting policy, written with each episode started afterwards.</summary>
    public string? CheckpointId { get; set; }

    /// <summary>Training phase (e.g. <c>rl</c>, <c>eval</c>, <c>bot</c>), written with each episode started afterwards.</summary>
    public string? Phase { get; set; }

    /// <summary>True while the run evaluates (selects episodes in <see cref="RecordMode.EvaluationOnly"/>).</summary>
    public bool Evaluation { get; set; }

    /// <summary>Episodes started on this recorder (recorded or not); without a group, also the next episode's index.</summary>
    public long EpisodesStarted { get; private set; }

    /// <summary>Episodes written to the log.</summary>
    public long EpisodesRecorded { get; private set; }

    /// <summary>Episodes the filter rejected.</summary>
    public long EpisodesFiltered { get; private set; }

    /// <summary>Episodes reset before they ended (never written).</summary>
    public long EpisodesAbandoned { get; private set; }

    /// <summary>
    /// Drops the open episode and records none started afterwards (e.g. an evaluation slot that has
    /// played its quota keeps stepping until the others finish; its extra episodes are not part of the evaluation).
    /// </summary>
    public void Stop()
    {
        _stopped = true;
        if (!_builder.IsOpen) return;
        _builder.Abandon();
        EpisodesAbandoned++;
    }

    /// <summary>What this recorder holds between steps: its counters and what it knows of the episode in progress (for checkpoints).</summary>
    public RecorderState CaptureState()
    {
        OpenEpisodeState? open = null;
        if (_builder.IsOpen)
        {
            var meta = _builder.OpenMeta;
            var (probabilities, values) = _builder.AgentOutputs();
            open = new OpenEpisodeState(meta.CheckpointId, meta.Phase, meta.Evaluation, probabilities, values);
        }
        return new RecorderState(_localEpisodes, _currentIndex, _stopped, open);
    }

    /// <summary>
    /// Prepares to be put back where <see cref="CaptureState"/> found it: the next reset and the steps that replay the
    /// episode in progress (the vector env's restore) reopen it with its index, metadata and agent outputs, and draw
    /// the same seed as it did, so that the episode is written exactly as an uninterrupted run writes it.
    /// </summary>
    public void PrepareRestore(RecorderState state)
    {
        _restoring = state;
        _restoredSteps = 0;
        // The replayed reset counts its episode again.
        _localEpisodes = Math.Max(0, state.LocalEpisodes - 1);
        _stopped = state.Stopped;
    }

    /// <summary>
    /// Attaches the agent's action probabilities and value estimate on the current observation;
    /// they are stored with the next <see cref="EnvBase.Step(int)"/>.
    /// </summary>
    public void AttachAgentOutput(ReadOnlySpan<float> actionProbabilities, float? value = null)
    {
        if (_pendingProbs.Length < actionProbabilities.Length) _pendingProbs = new float[actionProbabilities.Length];
        actionProbabilities.CopyTo(_pendingProbs);
        _pendingProbCount = actionProbabilities.Length;
        _pendingValue = value;
    }

    /// <inheritdoc />
    protected override ResetResult ResetCore(long? seed)
    {
        if (_builder.IsOpen)
        {
            _builder.Abandon();
            EpisodesAbandoned++;
        }
        long index = _restoring is { } restoring ? restoring.CurrentIndex : _nextIndex?.Invoke() ?? _localEpisodes;
        _currentIndex = index;
        long local = _localEpisodes++;
        EpisodesStarted++;
        bool capture = seed is null && (_options.UnseededResets == UnseededResetPolicy.CaptureStartState
            || (_options.UnseededResets == UnseededResetPolicy.Auto && StartStates.Supports(Inner)));
        // Assigned seeds depend on the slot and the slot's own episode count, so a group's
        // sub-environments get distinct, reproducible seeds whatever order episodes end in.
        if (seed is null && !capture) seed = unchecked((long)Rng.DeriveSeed(Rng.DeriveSeed(unchecked((ulong)_options.Seed), "episode-log-slot", _slot), "episode-log-reset", local));
        var result = Inner.Reset(seed);
        ClearPending();
        bool select = !_stopped && _options.Mode switch
        {
            RecordMode.EveryNth => index % _options.EveryN == 0,
            RecordMode.EvaluationOnly => Evaluation,
            _ => true,
        };
        if (_restoring is not null)
        {
            // Replaying to a checkpoint: the episode reopens as it was, whatever the recorder's current settings.
            var open = _restoring.Open;
            if (open is not null)
                _builder.Begin(index, seed, capture ? StartStates.Capture(Inner) : null, result.Observation, open.CheckpointId, open.Phase, open.Evaluation);
            if (open is null || open.Values.Length == 0) _restoring = null;
        }
        else if (select)
            _builder.Begin(index, seed, capture ? StartStates.Capture(Inner) : null, result.Observation, CheckpointId, Phase, Evaluation);
        return result;
    }

    /// <inheritdoc />
    protected override StepResult StepCore(int action) => Record(new EnvAction(in action), Inner.Step(action));

    /// <summary>Any action space the log holds (float actions are stored with their exact bits).</summary>
    protected override StepResult StepCore(EnvAction action) => Record(action, Inner.Step(action));

    private StepResult Record(EnvAction action, StepResult result)
    {
        if (_restoring?.Open is { } open)
        {
            // A replayed step: the agent's outputs are the ones saved with the checkpoint.
            int t = _restoredSteps++;
            _builder.Add(action, result, open.Probabilities[t], open.Values[t]);
            if (_restoredSteps == open.Values.Length) _restoring = null;
        }
        else if (_builder.IsOpen)
        {
            _builder.Add(action, result, _pendingProbs.AsSpan(0, _pendingProbCount), _pendingValue);
            if (result.Done) Complete();
        }
        ClearPending();
        return result;
    }

    private void Complete()
    {
        if (_options.Mode == RecordMode.Filter)
        {
            // The filter reads a finished episode; other modes write straight from the builder's buffers.
            var episode = _builder.Finish();
            if (!Passes(episode))
            {
                EpisodesFiltered++;
                return;
            }
            _writer.Write(episode);
        }
        else
        {
            _builder.Close();
            _writer.Write(_builder);
        }
        EpisodesRecorded++;
    }

    private bool Passes(RecordedEpisode e) =>
        (!_options.FilterSuccessOnly || e.Success == true)
        && (_options.FilterMinReturn is not double min || e.Return >= min)
        && (_filter is null || _filter(e));

    private void ClearPending()
    {
        _pendingProbCount = 0;
        _pendingValue = null;
    }
}

/// <summary>What an <see cref="EpisodeRecorder"/> holds between steps, for checkpoints.</summary>
/// <param name="LocalEpisodes">Episodes started on this recorder (assigned seeds derive from it).</param>
/// <param name="CurrentIndex">The index of the episode in progress (recorded or not).</param>
/// <param name="Stopped">Recording was stopped on this slot.</param>
/// <param name="Open">The episode being recorded, or null when the one in progress is not.</param>
public sealed record RecorderState(long LocalEpisodes, long CurrentIndex, bool Stopped, OpenEpisodeState? Open);

/// <summary>What a recorder keeps of the episode it is recording beyond what replaying its actions gives back.</summary>
/// <param name="CheckpointId">The acting weights' checkpoint id.</param>
/// <param name="Phase">The phase.</param>
/// <param name="Evaluation">Recorded during an evaluation.</param>
/// <param name="Probabilities">Per step so far: the agent's action probabilities (empty when none were attached).</param>
/// <param name="Values">Per step so far: the agent's value estimate.</param>
public sealed record OpenEpisodeState(string? CheckpointId, string? Phase, bool Evaluation, float[][] Probabilities, float?[] Values);
