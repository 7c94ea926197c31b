using RLAgents.Environments;

namespace RLAgents.Agents.Buffers;

/// <summary>
/// A typed minibatch drawn from a <see cref="ReplayBuffer"/>: for each transition s, a, the
/// n-step return R, s' (n steps later, or the final observation) and the bootstrap discount
/// (γ^k, or 0 when the episode terminated). Allocated once per batch size and refilled.
/// </summary>
public sealed class ReplaySample
{
    /// <summary>Allocates a sample of <paramref name="size"/> transitions with Discrete actions.</summary>
    public ReplaySample(ObservationSpace space, int size) : this(space, size, ReplayBuffer.DiscreteLayout) { }

    /// <summary>Allocates a sample of <paramref name="size"/> transitions with actions of <paramref name="actions"/>.</summary>
    public ReplaySample(ObservationSpace space, int size, ActionLayout actions)
    {
        Observations = new ObservationBatch(space, size);
        NextObservations = new ObservationBatch(space, size);
        Actions = new int[size * actions.DiscreteCount];
        ContinuousActions = new float[size * actions.ContinuousCount];
        Returns = new float[size];
        Discounts = new float[size];
        Indices = new int[size];
    }

    /// <summary>s.</summary>
    public ObservationBatch Observations { get; }

    /// <summary>s'.</summary>
    public ObservationBatch NextObservations { get; }

    /// <summary>a's integers, [size × Kd] (zero-based per element).</summary>
    public int[] Actions { get; }

    /// <summary>a's floats, [size × Kc].</summary>
    public float[] ContinuousActions { get; }

    /// <summary>n-step discounted reward sum R.</summary>
    public float[] Returns { get; }

    /// <summary>Bootstrap factor: γ^k when the transition ended by truncation or after n steps; 0 on termination.</summary>
    public float[] Discounts { get; }

    /// <summary>Buffer slots the sample was drawn from.</summary>
    public int[] Indices { get; }

    /// <summary>Number of transitions.</summary>
    public int Count => Returns.Length;
}

/// <summary>
/// A ring buffer of (n-step) transitions in preallocated plain arrays. Stores s and s' apart
/// (simple and exact across episode boundaries; twice the observation memory).
/// </summary>
public sealed class ReplayBuffer
{
    private readonly ObservationBatch _obs, _next;
    private readonly int[] _actions;
    private readonly float[] _continuous;
    private readonly float[] _returns, _discounts;
    private readonly int _kd, _kc;
    private int _position;

    /// <summary>The layout of a Discrete action space: one integer per action.</summary>
    internal static ActionLayout DiscreteLayout { get; } = new DiscreteSpace(2).ActionLayout;

    /// <summary>Allocates <paramref name="capacity"/> transitions of <paramref name="space"/> with Discrete actions.</summary>
    public ReplayBuffer(ObservationSpace space, int capacity) : this(space, capacity, DiscreteLayout) { }

    /// <summary>Allocates <paramref name="capacity"/> transitions of <paramref name="space"/> with actions of <paramref name="actions"/>.</summary>
    public ReplayBuffer(ObservationSpace space, int capacity, ActionLayout actions)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "Replay capacity must be positive.");
        Space = space;
        Capacity = capacity;
        _obs = new ObservationBatch(space, capacity);
        _next = new ObservationBatch(space, capacity);
        _kd = actions.DiscreteCount;
        _kc = actions.ContinuousCount;
        _actions = new int[capacity * _kd];
        _continuous = new float[capacity * _kc];
        _returns = new float[capacity];
        _discounts = new float[capacity];
    }

    /// <summary>The observation layout.</summary>
    public ObservationSpace Space { get; }

    /// <summary>Maximum transitions held.</summary>
    public int Capacity { get; }

    /// <summary>Transitions held.</summary>
    public int Count { get; private set; }

    /// <summary>Transitions ever added.</summary>
    public long Added { get; private set; }

    /// <summary>Stored s of every slot.</summary>
    public ObservationBatch Observations => _obs;

    /// <summary>Stored s' of every slot.</summary>
    public ObservationBatch NextObservations => _next;

    /// <summary>Stored actions' integers, [Capacity × Kd].</summary>
    public ReadOnlySpan<int> Actions => _actions;

    /// <summary>Stored actions' floats, [Capacity × Kc].</summary>
    public ReadOnlySpan<float> ContinuousActions => _continuous;

    /// <summary>Stored n-step returns.</summary>
    public ReadOnlySpan<float> Returns => _returns;

    /// <summary>Stored bootstrap discounts.</summary>
    public ReadOnlySpan<float> Discounts => _discounts;

    /// <summary>Adds a transition with a Discrete action, overwriting the oldest when full.</summary>
    public void Add(ObservationBatch observations, int index, int action, float nStepReturn, ObservationBatch nextObservations, int nextIndex, float discount) =>
        Add(observations, index, new ReadOnlySpan<int>(in action), default, nStepReturn, nextObservations, nextIndex, discount);

    /// <summary>Adds a transition whose action has integers <paramref name="discrete"/> (zero-based) and floats <paramref name="continuous"/>, overwriting the oldest when full.</summary>
    public void Add(ObservationBatch observations, int index, ReadOnlySpan<int> discrete, ReadOnlySpan<float> continuous, float nStepReturn,
        ObservationBatch nextObservations, int nextIndex, float discount)
    {
        if (discrete.Length != _kd || continuous.Length != _kc)
            throw new ArgumentException($"The buffer holds actions of {_kd} integers and {_kc} floats; got {discrete.Length} and {continuous.Length}.");
        observations.CopySlot(index, _obs, _position);
        nextObservations.CopySlot(nextIndex, _next, _position);
        discrete.CopyTo(_actions.AsSpan(_position * _kd, _kd));
        continuous.CopyTo(_continuous.AsSpan(_position * _kc, _kc));
        _returns[_position] = nStepReturn;
        _discounts[_position] = discount;
        _position = (_position + 1) % Capacity;
        Count = Math.Min(Count + 1, Capacity);
        Added++;
    }

    /// <summary>Empties the buffer (a worker's staging buffer after it shipped its transitions); <see cref="Added"/> keeps counting.</summary>
    public void Clear()
    {
        Count = 0;
        _position = 0;
    }

    /// <summary>
    /// Writes the held transitions, oldest first, in the packed form of <see cref="ObservationPacking"/>: the count and the
    /// action layout (Kd integers, Kc floats per action), s and s' of each, then the actions' integers and floats, returns
    /// and discounts. A rollout worker ships its staging buffer this way.
    /// </summary>
    public void WriteTransitions(BinaryWriter w)
    {
        if (Count == Capacity && _position != 0) throw new InvalidOperationException("The buffer wrapped; size a staging buffer to hold a whole batch.");
        w.Write(Count);
        w.Write(_kd);
        w.Write(_kc);
        WriteSlots(w);
    }

    /// <summary>
    /// Adds the transitions <see cref="WriteTransitions"/> wrote, read first into <paramref name="scratch"/> (emptied, its
    /// capacity at least the count, its action layout this buffer's); returns how many were added. <paramref name="source"/>
    /// names the data in errors.
    /// </summary>
    public int AddTransitions(BinaryReader r, ReplayBuffer scratch, string source)
    {
        int count = r.ReadInt32(), kd = r.ReadInt32(), kc = r.ReadInt32();
        if (count < 0 || count > scratch.Capacity) throw new InvalidDataException($"{source}: {count} transitions exceed the scratch capacity {scratch.Capacity}.");
        if (kd != _kd || kc != _kc || scratch._kd != _kd || scratch._kc != _kc)
            throw new InvalidDataException($"{source}: transitions with actions of {kd} integers and {kc} floats; this buffer holds {_kd} and {_kc}.");
        scratch.Clear();
        scratch.ReadSlots(r, count);
        for (int i = 0; i < count; i++)
            Add(scratch._obs, i, scratch._actions.AsSpan(i * _kd, _kd), scratch._continuous.AsSpan(i * _kc, _kc), scratch._returns[i], scratch._next, i, scratch._discounts[i]);
        return count;
    }

    private const string Magic = "RLAgents-replay";
    private const int FormatVersion = 2;

    /// <summary>
    /// Writes the held transitions and the ring position to <paramref name="stream"/> (a binary
    /// layout of its own: a header naming the format, the observation space and the counters,
    /// then each array's first <see cref="Count"/> slots as little-endian raw values), so a resumed
    /// DQN run samples from the same data an uninterrupted one would.
    /// </summary>
    public void Save(Stream stream)
    {
        using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(FormatVersion);
        w.Write(Space.ToString());
        w.Write(Capacity);
        w.Write(_kd);
        w.Write(_kc);
        w.Write(Count);
        w.Write(_position);
        w.Write(Added);
        WriteSlots(w);
    }

    // Slots [0, Count) of every array, in the one packed layout of replay files and transition batches: s, s', the
    // actions' integers [Count × Kd] and floats [Count × Kc], returns, discounts.
    private void WriteSlots(BinaryWriter w)
    {
        ObservationPacking.Write(w, _obs, 0, Count);
        ObservationPacking.Write(w, _next, 0, Count);
        ObservationPacking.Write<int>(w, _actions.AsSpan(0, Count * _kd));
        ObservationPacking.Write<float>(w, _continuous.AsSpan(0, Count * _kc));
        ObservationPacking.Write<float>(w, _returns.AsSpan(0, Count));
        ObservationPacking.Write<float>(w, _discounts.AsSpan(0, Count));
    }

    // Reads what WriteSlots wrote for `count` slots into slots [0, count); the caller sets the counters.
    private void ReadSlots(BinaryReader r, int count)
    {
        ObservationPacking.Read(r, _obs, 0, count);
        ObservationPacking.Read(r, _next, 0, count);
        ObservationPacking.Read<int>(r, _actions.AsSpan(0, count * _kd));
        ObservationPacking.Read<float>(r, _continuous.AsSpan(0, count * _kc));
        ObservationPacking.Read<float>(r, _returns.AsSpan(0, count));
        ObservationPacking.Read<float>(r, _discounts.AsSpan(0, count));
    }

    /// <summary>
    /// Replaces this buffer's content with what <see cref="Save"/> wrote. The observation space
    /// and capacity must match; <paramref name="source"/> names the file in errors.
    /// </summary>
    public void Load(Stream stream, string source)
    {
        using var r = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            if (r.ReadString() != Magic) throw new InvalidDataException($"{source}: not an RLAgents replay buffer.");
            int version = r.ReadInt32();
            if (version is not (1 or FormatVersion)) throw new InvalidDataException($"{source}: replay format {version} is not supported (expected {FormatVersion}).");
            string space = r.ReadString();
            if (space != Space.ToString()) throw new InvalidDataException($"{source}: replay observations are {space}, this buffer holds {Space}.");
            int capacity = r.ReadInt32();
            if (capacity != Capacity) throw new InvalidDataException($"{source}: replay capacity {capacity} differs from the configured {Capacity}.");
            // Format 1 held Discrete actions only: one integer, no floats.
            int kd = version == 1 ? 1 : r.ReadInt32(), kc = version == 1 ? 0 : r.ReadInt32();
            if (kd != _kd || kc != _kc) throw new InvalidDataException($"{source}: replay actions have {kd} integers and {kc} floats; this buffer holds {_kd} and {_kc}.");
            int count = r.ReadInt32(), position = r.ReadInt32();
            long added = r.ReadInt64();
            if (count < 0 || count > capacity || position < 0 || position >= capacity || added < count)
                throw new InvalidDataException($"{source}: inconsistent replay counters (count {count}, position {position}, added {added}).");
            ReadSlots(r, count);
            Count = count;
            _position = position;
            Added = added;
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{source}: the replay buffer file ends early (truncated at byte {stream.Position}).");
        }
    }


    /// <summary>Fills <paramref name="sample"/> with transitions drawn uniformly with replacement.</summary>
    public void Sample(Rng rng, ReplaySample sample) => Sample(rng, sample, 0, sample.Count);

    /// <summary>Fills rows [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="count"/>) of <paramref name="sample"/> with transitions drawn uniformly with replacement.</summary>
    public void Sample(Rng rng, ReplaySample sample, int offset, int count)
    {
        if (Count == 0) throw new InvalidOperationException("The replay buffer is empty.");
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + count, sample.Count);
        for (int j = offset; j < offset + count; j++)
        {
            int k = rng.NextInt(Count);
            sample.Indices[j] = k;
            _obs.CopySlot(k, sample.Observations, j);
            _next.CopySlot(k, sample.NextObservations, j);
            _actions.AsSpan(k * _kd, _kd).CopyTo(sample.Actions.AsSpan(j * _kd, _kd));
            _continuous.AsSpan(k * _kc, _kc).CopyTo(sample.ContinuousActions.AsSpan(j * _kc, _kc));
            sample.Returns[j] = _returns[k];
            sample.Discounts[j] = _discounts[k];
        }
    }
}

/// <summary>
/// Turns a stream of 1-step transitions per env into n-step transitions for a
/// <see cref="ReplayBuffer"/>: it holds up to n pending steps per env; each pending step is
/// emitted once n rewards are known, or when the episode ends (then with the remaining rewards
/// and the final observation, bootstrapping on truncation, not on termination).
/// </summary>
public sealed class NStepAccumulator
{
    private readonly int _n, _envs;
    private readonly double _gamma;
    private readonly ObservationBatch _pendingObs;   // [envs × n] ring of s_t
    private readonly int[] _pendingActions;
    private readonly float[] _pendingContinuous;
    private readonly int _kd, _kc;
    private readonly float[] _pendingRewards;
    private readonly int[] _head, _count;
    private readonly float[] _window;

    /// <summary>Creates the accumulator for <paramref name="envs"/> envs with Discrete actions.</summary>
    public NStepAccumulator(ObservationSpace space, int envs, int n, double gamma) : this(space, envs, n, gamma, ReplayBuffer.DiscreteLayout) { }

    /// <summary>Creates the accumulator for <paramref name="envs"/> envs with actions of <paramref name="actions"/>.</summary>
    public NStepAccumulator(ObservationSpace space, int envs, int n, double gamma, ActionLayout actions)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "n-step must be at least 1.");
        _n = n;
        _envs = envs;
        _gamma = gamma;
        _pendingObs = new ObservationBatch(space, envs * n);
        _kd = actions.DiscreteCount;
        _kc = actions.ContinuousCount;
        _pendingActions = new int[envs * n * _kd];
        _pendingContinuous = new float[envs * n * _kc];
        _pendingRewards = new float[envs * n];
        _head = new int[envs];
        _count = new int[envs];
        _window = new float[n];
    }

    /// <summary>
    /// Records env <paramref name="env"/>'s step s, a → r, s'. <paramref name="next"/> slot
    /// <paramref name="nextIndex"/> holds s' (the final observation when the episode ended).
    /// </summary>
    public void Add(ReplayBuffer replay, int env, ObservationBatch observations, int index, int action, float reward,
        ObservationBatch next, int nextIndex, bool terminated, bool truncated) =>
        Add(replay, env, observations, index, new ReadOnlySpan<int>(in action), default, reward, next, nextIndex, terminated, truncated);

    /// <summary>As <see cref="Add(ReplayBuffer, int, ObservationBatch, int, int, float, ObservationBatch, int, bool, bool)"/> for an action of any layout (integers zero-based).</summary>
    public void Add(ReplayBuffer replay, int env, ObservationBatch observations, int index, ReadOnlySpan<int> discrete, ReadOnlySpan<float> continuous, float reward,
        ObservationBatch next, int nextIndex, bool terminated, bool truncated)
    {
        int slot = env * _n + (_head[env] + _count[env]) % _n;
        observations.CopySlot(index, _pendingObs, slot);
        discrete.CopyTo(_pendingActions.AsSpan(slot * _kd, _kd));
        continuous.CopyTo(_pendingContinuous.AsSpan(slot * _kc, _kc));
        _pendingRewards[slot] = reward;
        _count[env]++;
        if (terminated || truncated)
        {
            while (_count[env] > 0) Emit(replay, env, next, nextIndex, terminated);
        }
        else if (_count[env] == _n)
        {
            Emit(replay, env, next, nextIndex, terminated: false);
        }
    }

    /// <summary>Drops every pending step (after a manual reset of the envs).</summary>
    public void Clear()
    {
        Array.Clear(_head);
        Array.Clear(_count);
    }

    private const string Magic = "RLAgents-nstep";

    /// <summary>Writes the pending steps of every env (ring positions, observations, integer actions, rewards, float actions) after a replay buffer's data.</summary>
    public void Save(Stream stream)
    {
        using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(_envs);
        w.Write(_n);
        foreach (int h in _head) w.Write(h);
        foreach (int c in _count) w.Write(c);
        ObservationPacking.Write(w, _pendingObs, 0, _envs * _n);
        ObservationPacking.Write<int>(w, _pendingActions);
        ObservationPacking.Write<float>(w, _pendingRewards);
        // Float actions last: a Discrete layout writes none, so files of discrete runs read as before.
        ObservationPacking.Write<float>(w, _pendingContinuous);
    }

    /// <summary>Restores what <see cref="Save"/> wrote; at the end of the stream (a file written without it) nothing is pending.</summary>
    public void Load(Stream stream, string source)
    {
        Clear();
        if (stream.Position == stream.Length) return;
        using var r = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            if (r.ReadString() != Magic) throw new InvalidDataException($"{source}: the pending n-step transitions are not readable.");
            int envs = r.ReadInt32(), n = r.ReadInt32();
            if (envs != _envs || n != _n) throw new InvalidDataException($"{source}: pending n-step transitions are for {envs} envs × n = {n}, not {_envs} × {_n}.");
            for (int i = 0; i < _envs; i++) _head[i] = r.ReadInt32();
            for (int i = 0; i < _envs; i++) _count[i] = r.ReadInt32();
            if (_head.Any(h => h < 0 || h >= _n) || _count.Any(c => c < 0 || c >= _n)) throw new InvalidDataException($"{source}: inconsistent pending n-step counters.");
            ObservationPacking.Read(r, _pendingObs, 0, _envs * _n);
            ObservationPacking.Read<int>(r, _pendingActions);
            ObservationPacking.Read<float>(r, _pendingRewards);
            ObservationPacking.Read<float>(r, _pendingContinuous);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{source}: the pending n-step transitions end early (truncated at byte {stream.Position}).");
        }
    }

    private void Emit(ReplayBuffer replay, int env, ObservationBatch next, int nextIndex, bool terminated)
    {
        int count = _count[env];
        for (int k = 0; k < count; k++) _window[k] = _pendingRewards[env * _n + (_head[env] + k) % _n];
        var (g, discount) = Returns.NStep(_window.AsSpan(0, count), _gamma, terminated);
        int slot = env * _n + _head[env];
        replay.Add(_pendingObs, slot, _pendingActions.AsSpan(slot * _kd, _kd), _pendingContinuous.AsSpan(slot * _kc, _kc), (float)g, next, nextIndex, (float)discount);
        _head[env] = (_head[env] + 1) % _n;
        _count[env]--;
    }
}
