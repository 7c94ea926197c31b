using RLAgents.Environments;

namespace RLAgents.Agents.Buffers;

/// <summary>
/// A typed minibatch drawn from a <see cref="ReplayBuffer"/>: for each transition s, a, the
/// n-step return R, s' (n steps later, or the final observation) and the bootstrap discount
/// (γ^k, or 0 when the episode terminated). Allocated once per batch size and refilled.
/// </summary>
public sealed class ReplaySample
{
    /// <summary>Allocates a sample of <paramref name="size"/> transitions.</summary>
    public ReplaySample(ObservationSpace space, int size)
    {
        Observations = new ObservationBatch(space, size);
        NextObservations = new ObservationBatch(space, size);
        Actions = new int[size];
        Returns = new float[size];
        Discounts = new float[size];
        Indices = new int[size];
    }

    /// <summary>s.</summary>
    public ObservationBatch Observations { get; }

    /// <summary>s'.</summary>
    public ObservationBatch NextObservations { get; }

    /// <summary>a (zero-based).</summary>
    public int[] Actions { get; }

    /// <summary>n-step discounted reward sum R.</summary>
    public float[] Returns { get; }

    /// <summary>Bootstrap factor: γ^k when the transition ended by truncation or after n steps; 0 on termination.</summary>
    public float[] Discounts { get; }

    /// <summary>Buffer slots the sample was drawn from.</summary>
    public int[] Indices { get; }

    /// <summary>Number of transitions.</summary>
    public int Count => Actions.Length;
}

/// <summary>
/// A ring buffer of (n-step) transitions in preallocated plain arrays. Stores s and s' apart
/// (simple and exact across episode boundaries; twice the observation memory).
/// </summary>
public sealed class ReplayBuffer
{
    private readonly ObservationBatch _obs, _next;
    private readonly int[] _actions;
    private readonly float[] _returns, _discounts;
    private int _position;

    /// <summary>Allocates <paramref name="capacity"/> transitions of <paramref name="space"/>.</summary>
    public ReplayBuffer(ObservationSpace space, int capacity)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "Replay capacity must be positive.");
        Space = space;
        Capacity = capacity;
        _obs = new ObservationBatch(space, capacity);
        _next = new ObservationBatch(space, capacity);
        _actions = new int[capacity];
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

    /// <summary>Stored actions.</summary>
    public ReadOnlySpan<int> Actions => _actions;

    /// <summary>Stored n-step returns.</summary>
    public ReadOnlySpan<float> Returns => _returns;

    /// <summary>Stored bootstrap discounts.</summary>
    public ReadOnlySpan<float> Discounts => _discounts;

    /// <summary>Adds a transition, overwriting the oldest when full.</summary>
    public void Add(ObservationBatch observations, int index, int action, float nStepReturn, ObservationBatch nextObservations, int nextIndex, float discount)
    {
        observations.CopySlot(index, _obs, _position);
        nextObservations.CopySlot(nextIndex, _next, _position);
        _actions[_position] = action;
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
    /// Writes the held transitions, oldest first, in the packed form of <see cref="ObservationPacking"/>: the count, s and s'
    /// of each, then actions, returns and discounts. A rollout worker ships its staging buffer this way.
    /// </summary>
    public void WriteTransitions(BinaryWriter w)
    {
        if (Count == Capacity && _position != 0) throw new InvalidOperationException("The buffer wrapped; size a staging buffer to hold a whole batch.");
        w.Write(Count);
        ObservationPacking.Write(w, _obs, 0, Count);
        ObservationPacking.Write(w, _next, 0, Count);
        ObservationPacking.Write<int>(w, _actions.AsSpan(0, Count));
        ObservationPacking.Write<float>(w, _returns.AsSpan(0, Count));
        ObservationPacking.Write<float>(w, _discounts.AsSpan(0, Count));
    }

    /// <summary>
    /// Adds the transitions <see cref="WriteTransitions"/> wrote, read first into <paramref name="scratch"/> (emptied, its
    /// capacity at least the count); returns how many were added. <paramref name="source"/> names the data in errors.
    /// </summary>
    public int AddTransitions(BinaryReader r, ReplayBuffer scratch, string source)
    {
        int count = r.ReadInt32();
        if (count < 0 || count > scratch.Capacity) throw new InvalidDataException($"{source}: {count} transitions exceed the scratch capacity {scratch.Capacity}.");
        scratch.Clear();
        ObservationPacking.Read(r, scratch._obs, 0, count);
        ObservationPacking.Read(r, scratch._next, 0, count);
        ObservationPacking.Read<int>(r, scratch._actions.AsSpan(0, count));
        ObservationPacking.Read<float>(r, scratch._returns.AsSpan(0, count));
        ObservationPacking.Read<float>(r, scratch._discounts.AsSpan(0, count));
        for (int i = 0; i < count; i++) Add(scratch._obs, i, scratch._actions[i], scratch._returns[i], scratch._next, i, scratch._discounts[i]);
        return count;
    }

    private const string Magic = "RLAgents-replay";
    private const int FormatVersion = 1;

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
        w.Write(Count);
        w.Write(_position);
        w.Write(Added);
        ObservationPacking.Write(w, _obs, 0, Count);
        ObservationPacking.Write(w, _next, 0, Count);
        w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_actions.AsSpan(0, Count)));
        w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_returns.AsSpan(0, Count)));
        w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_discounts.AsSpan(0, Count)));
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
            if (version != FormatVersion) throw new InvalidDataException($"{source}: replay format {version} is not supported (expected {FormatVersion}).");
            string space = r.ReadString();
            if (space != Space.ToString()) throw new InvalidDataException($"{source}: replay observations are {space}, this buffer holds {Space}.");
            int capacity = r.ReadInt32();
            if (capacity != Capacity) throw new InvalidDataException($"{source}: replay capacity {capacity} differs from the configured {Capacity}.");
            int count = r.ReadInt32(), position = r.ReadInt32();
            long added = r.ReadInt64();
            if (count < 0 || count > capacity || position < 0 || position >= capacity || added < count)
                throw new InvalidDataException($"{source}: inconsistent replay counters (count {count}, position {position}, added {added}).");
            ObservationPacking.Read(r, _obs, 0, count);
            ObservationPacking.Read(r, _next, 0, count);
            ReadExactly(r, System.Runtime.InteropServices.MemoryMarshal.AsBytes(_actions.AsSpan(0, count)));
            ReadExactly(r, System.Runtime.InteropServices.MemoryMarshal.AsBytes(_returns.AsSpan(0, count)));
            ReadExactly(r, System.Runtime.InteropServices.MemoryMarshal.AsBytes(_discounts.AsSpan(0, count)));
            Count = count;
            _position = position;
            Added = added;
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{source}: the replay buffer file ends early (truncated at byte {stream.Position}).");
        }
    }

    private static void ReadExactly(BinaryReader r, Span<byte> destination) => r.BaseStream.ReadExactly(destination);

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
            sample.Actions[j] = _actions[k];
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
    private readonly float[] _pendingRewards;
    private readonly int[] _head, _count;
    private readonly float[] _window;

    /// <summary>Creates the accumulator for <paramref name="envs"/> envs.</summary>
    public NStepAccumulator(ObservationSpace space, int envs, int n, double gamma)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "n-step must be at least 1.");
        _n = n;
        _envs = envs;
        _gamma = gamma;
        _pendingObs = new ObservationBatch(space, envs * n);
        _pendingActions = new int[envs * n];
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
        ObservationBatch next, int nextIndex, bool terminated, bool truncated)
    {
        int slot = env * _n + (_head[env] + _count[env]) % _n;
        observations.CopySlot(index, _pendingObs, slot);
        _pendingActions[slot] = action;
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

    private void Emit(ReplayBuffer replay, int env, ObservationBatch next, int nextIndex, bool terminated)
    {
        int count = _count[env];
        for (int k = 0; k < count; k++) _window[k] = _pendingRewards[env * _n + (_head[env] + k) % _n];
        var (g, discount) = Returns.NStep(_window.AsSpan(0, count), _gamma, terminated);
        int slot = env * _n + _head[env];
        replay.Add(_pendingObs, slot, _pendingActions[slot], (float)g, next, nextIndex, (float)discount);
        _head[env] = (_head[env] + 1) % _n;
        _count[env]--;
    }
}
