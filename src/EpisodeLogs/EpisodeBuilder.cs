using RLAgents.Environments;

namespace RLAgents.EpisodeLogs;

/// <summary>
/// Accumulates one episode step by step into a <see cref="RecordedEpisode"/>: the recorder's
/// engine, and the sink a runner feeds directly when it steps environments itself (e.g. one
/// builder per sub-environment of a vector env). Buffers are reused across episodes and a step
/// allocates nothing (in hash mode it costs one hash per modality); the recorder's writer encodes
/// a closed episode straight from these buffers.
/// </summary>
public sealed class EpisodeBuilder : IEpisodeColumns
{
    private readonly EpisodeLogHeader _header;
    private readonly Grow<float>[] _floats;
    private readonly Grow<byte>[] _bytes;
    private readonly Grow<int>[] _ints;
    private readonly List<string>[] _texts;
    private readonly Grow<ulong>[] _hashes;
    private readonly string?[] _lastText;
    private readonly ulong[] _lastTextHash;
    private readonly Grow<int> _actions = new();
    private readonly Grow<float> _continuous = new();
    private readonly Grow<double> _rewards = new();
    private readonly Grow<bool> _terminated = new();
    private readonly Grow<bool> _truncated = new();
    private readonly Grow<int> _probCounts = new();
    private readonly Grow<float> _probValues = new();
    private readonly Grow<float> _values = new();
    private readonly Grow<bool> _valueSet = new();
    // Episode-level fields of the open (or just closed) episode; its arrays stay empty until Finish.
    private RecordedEpisode _meta = new();
    private bool _open, _closed;
    private bool _anyAgentOutput;

    /// <summary>Creates a builder for episodes of a log with <paramref name="header"/>.</summary>
    public EpisodeBuilder(EpisodeLogHeader header)
    {
        _header = header;
        int n = header.Modalities.Count;
        _floats = new Grow<float>[n];
        _bytes = new Grow<byte>[n];
        _ints = new Grow<int>[n];
        _texts = new List<string>[n];
        _hashes = new Grow<ulong>[n];
        _lastText = new string?[n];
        _lastTextHash = new ulong[n];
        for (int m = 0; m < n; m++)
        {
            _floats[m] = new();
            _bytes[m] = new();
            _ints[m] = new();
            _texts[m] = [];
            _hashes[m] = new();
        }
    }

    /// <summary>True between <see cref="Begin"/> and <see cref="Finish"/>.</summary>
    public bool IsOpen => _open;

    /// <summary>Steps added to the open episode.</summary>
    public int Length => _actions.Count;

    /// <summary>Starts an episode with its reset observation and what identifies it.</summary>
    public void Begin(long index, long? seed, string? startState, Observation first, string? checkpointId = null, string? phase = null, bool evaluation = false)
    {
        if (seed is null && startState is null)
            throw new ArgumentException($"Episode {index} needs a seed or a start state to be replayable.", nameof(seed));
        _meta = new RecordedEpisode { Index = index, Seed = seed, StartState = startState, CheckpointId = checkpointId, Phase = phase, Evaluation = evaluation };
        _open = true;
        _closed = false;
        _actions.Clear(); _continuous.Clear(); _rewards.Clear(); _terminated.Clear(); _truncated.Clear();
        _probCounts.Clear(); _probValues.Clear(); _values.Clear(); _valueSet.Clear();
        _anyAgentOutput = false;
        for (int m = 0; m < _header.Modalities.Count; m++)
        {
            _floats[m].Clear(); _bytes[m].Clear(); _ints[m].Clear(); _texts[m].Clear(); _hashes[m].Clear();
        }
        AddObservation(first);
    }

    /// <summary>Adds one transition: the action taken, the agent's outputs on the observation it acted on (empty span / null when none), and the step's result.</summary>
    public void Add(int action, in StepResult step, ReadOnlySpan<float> actionProbabilities = default, float? value = null)
    {
        if (_header.ActionFloats != 0) throw new InvalidOperationException($"This log's actions have {_header.ActionFloats} floats; add an EnvAction.");
        AddStep(action, default, step, actionProbabilities, value);
    }

    /// <summary>
    /// Adds one transition of any action space the log holds: its integer (if any) and its floats, stored with
    /// their exact bits; then as <see cref="Add(int, in StepResult, ReadOnlySpan{float}, float?)"/>.
    /// </summary>
    public void Add(EnvAction action, in StepResult step, ReadOnlySpan<float> actionProbabilities = default, float? value = null)
    {
        if (action.Continuous.Length != _header.ActionFloats || action.Discrete.Length > 1)
            throw new ArgumentException($"This log's actions have {_header.ActionFloats} floats and at most one integer; got {action.ToString()}.", nameof(action));
        AddStep(action.Discrete.IsEmpty ? 0 : action.Discrete[0], action.Continuous, step, actionProbabilities, value);
    }

    private void AddStep(int action, ReadOnlySpan<float> continuous, in StepResult step, ReadOnlySpan<float> actionProbabilities, float? value)
    {
        if (!_open) throw new InvalidOperationException("Begin an episode before adding steps.");
        var e = _meta;
        _actions.Add(action);
        _continuous.AddRange(continuous);
        _rewards.Add(step.Reward);
        _terminated.Add(step.Terminated);
        _truncated.Add(step.Truncated);
        if (!actionProbabilities.IsEmpty || value.HasValue) _anyAgentOutput = true;
        _probCounts.Add(actionProbabilities.Length);
        _probValues.AddRange(actionProbabilities);
        _values.Add(value.GetValueOrDefault());
        _valueSet.Add(value.HasValue);
        e.Return += step.Reward;
        if (step.Info.IsSuccess is bool s) e.Success = s;
        AddObservation(step.Observation);
    }

    /// <summary>Closes the open episode and returns it (its arrays are its own).</summary>
    public RecordedEpisode Finish()
    {
        if (!_open) throw new InvalidOperationException("No episode is open.");
        _open = false;
        var e = _meta;
        e.Length = _actions.Count;
        e.Actions = _actions.ToArray();
        e.ActionFloats = _header.ActionFloats;
        e.ContinuousActions = _continuous.ToArray();
        e.Rewards = _rewards.ToArray();
        e.Terminated = _terminated.ToArray();
        e.Truncated = _truncated.ToArray();
        e.ActionProbabilities = new float[]?[e.Length];
        e.Values = new float?[e.Length];
        if (_anyAgentOutput)
        {
            var counts = _probCounts.Span;
            var flat = _probValues.Span;
            for (int t = 0, at = 0; t < e.Length; at += counts[t], t++)
            {
                if (counts[t] > 0) e.ActionProbabilities[t] = flat.Slice(at, counts[t]).ToArray();
                if (_valueSet.Span[t]) e.Values[t] = _values.Span[t];
            }
        }
        e.Observations = new ModalityRecord[_header.Modalities.Count];
        for (int m = 0; m < _header.Modalities.Count; m++)
        {
            var layout = _header.Modalities[m];
            var rec = new ModalityRecord(layout);
            if (layout.Encoding == ObservationEncoding.Hash64) rec.Hashes = _hashes[m].ToArray();
            else switch (layout.Storage)
            {
                case ModalityStorage.Float32: rec.Floats = _floats[m].ToArray(); break;
                case ModalityStorage.UInt8: rec.Bytes = _bytes[m].ToArray(); break;
                case ModalityStorage.Int32: rec.Ints = _ints[m].ToArray(); break;
                default: rec.Texts = _texts[m].ToArray(); break;
            }
            e.Observations[m] = rec;
        }
        return e;
    }

    /// <summary>The open episode's index, checkpoint id, phase and evaluation flag (checkpoints save them).</summary>
    internal RecordedEpisode OpenMeta => _open ? _meta : throw new InvalidOperationException("No episode is open.");

    /// <summary>The agent outputs added to the open episode so far: per step its action probabilities (empty when none) and value.</summary>
    internal (float[][] Probabilities, float?[] Values) AgentOutputs()
    {
        var counts = _probCounts.Span;
        var flat = _probValues.Span;
        var probabilities = new float[counts.Length][];
        var values = new float?[counts.Length];
        for (int t = 0, at = 0; t < counts.Length; at += counts[t], t++)
        {
            probabilities[t] = flat.Slice(at, counts[t]).ToArray();
            values[t] = _valueSet.Span[t] ? _values.Span[t] : null;
        }
        return (probabilities, values);
    }

    /// <summary>Drops the open episode.</summary>
    public void Abandon() => _open = _closed = false;

    /// <summary>Closes the open episode without copying it out: its data stays readable as <see cref="IEpisodeColumns"/> until the next <see cref="Begin"/>.</summary>
    internal void Close()
    {
        if (!_open) throw new InvalidOperationException("No episode is open.");
        _open = false;
        _closed = true;
        _meta.Length = _actions.Count;
    }

    private RecordedEpisode Closed => _closed ? _meta : throw new InvalidOperationException("No closed episode to read.");

    long IEpisodeColumns.Index => Closed.Index;
    long? IEpisodeColumns.Seed => Closed.Seed;
    string? IEpisodeColumns.StartState => Closed.StartState;
    string? IEpisodeColumns.CheckpointId => Closed.CheckpointId;
    string? IEpisodeColumns.Phase => Closed.Phase;
    bool IEpisodeColumns.Evaluation => Closed.Evaluation;
    double IEpisodeColumns.Return => Closed.Return;
    int IEpisodeColumns.Length => Closed.Length;
    bool? IEpisodeColumns.Success => Closed.Success;
    ReadOnlySpan<int> IEpisodeColumns.Actions => _actions.Span;
    ReadOnlySpan<float> IEpisodeColumns.ContinuousActions => _continuous.Span;
    ReadOnlySpan<double> IEpisodeColumns.Rewards => _rewards.Span;
    ReadOnlySpan<bool> IEpisodeColumns.Terminated => _terminated.Span;
    ReadOnlySpan<bool> IEpisodeColumns.Truncated => _truncated.Span;
    ReadOnlySpan<int> IEpisodeColumns.ProbabilityCounts => _probCounts.Span;
    ReadOnlySpan<float> IEpisodeColumns.ProbabilityValues => _probValues.Span;
    ReadOnlySpan<float> IEpisodeColumns.ValueData => _values.Span;
    ReadOnlySpan<bool> IEpisodeColumns.ValueSet => _valueSet.Span;
    ReadOnlySpan<float> IEpisodeColumns.Floats(int m) => _floats[m].Span;
    ReadOnlySpan<byte> IEpisodeColumns.Bytes(int m) => _bytes[m].Span;
    ReadOnlySpan<int> IEpisodeColumns.Ints(int m) => _ints[m].Span;
    ReadOnlySpan<ulong> IEpisodeColumns.Hashes(int m) => _hashes[m].Span;
    string IEpisodeColumns.Text(int m, int t) => _texts[m][t];

    private void AddObservation(Observation o)
    {
        for (int m = 0; m < _header.Modalities.Count; m++)
        {
            var layout = _header.Modalities[m];
            if (layout.Encoding == ObservationEncoding.Hash64) { _hashes[m].Add(HashOf(o, m)); continue; }
            switch (layout.Storage)
            {
                case ModalityStorage.Float32: _floats[m].AddRange(o.Floats(m)); break;
                case ModalityStorage.UInt8: _bytes[m].AddRange(o.Bytes(m)); break;
                case ModalityStorage.Int32: _ints[m].Add(o.GetInt(m)); break;
                default: _texts[m].Add(o.GetText(m)); break;
            }
        }
    }

    /// <summary>
    /// The modality's hash; a text that is the same string instance as the previous step's (a
    /// mission, an unchanged description) reuses its hash: strings are immutable.
    /// </summary>
    private ulong HashOf(Observation o, int m)
    {
        if (_header.Modalities[m].Storage != ModalityStorage.Text) return ObservationHash.Hash(o, m);
        string text = o.GetText(m);
        if (!ReferenceEquals(text, _lastText[m]))
        {
            _lastText[m] = text;
            _lastTextHash[m] = ObservationHash.Hash(text);
        }
        return _lastTextHash[m];
    }

    /// <summary>A reusable growable array (List&lt;T&gt; without per-add bounds bookkeeping for span appends).</summary>
    private sealed class Grow<T>
    {
        private T[] _items = new T[64];

        public int Count { get; private set; }

        public void Clear() => Count = 0;

        public void Add(T item)
        {
            if (Count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
            _items[Count++] = item;
        }

        public void AddRange(ReadOnlySpan<T> items)
        {
            if (Count + items.Length > _items.Length) Array.Resize(ref _items, Math.Max(_items.Length * 2, Count + items.Length));
            items.CopyTo(_items.AsSpan(Count));
            Count += items.Length;
        }

        public ReadOnlySpan<T> Span => _items.AsSpan(0, Count);

        public T[] ToArray() => _items.AsSpan(0, Count).ToArray();
    }
}
