using System.Diagnostics;
using System.Runtime.InteropServices;

namespace RLAgents.Environments.Vector;

/// <summary>
/// What every natively batched vector environment shares: the time limit, the autoreset modes,
/// per-env seeding and episode statistics, done once here over whole arrays. A family implements
/// only its physics: <see cref="ResetEnv"/> draws one env's start state and <see cref="StepEnvs"/>
/// advances all of them at once (state kept as structure of arrays, SIMD where it pays), writing
/// rewards, termination flags and observations.
/// </summary>
/// <remarks>
/// Semantics equal a <see cref="SyncVectorEnv"/> of the family's <see cref="Env"/> made by the
/// registry (time limit, truncation, autoreset modes documented on <see cref="SyncVectorEnv"/>,
/// episode statistics): env i is seeded with <c>Rng.DeriveSeed(seed, "env", i)</c> and draws its
/// start states in the scalar env's order, so both give the same start states. Every action is
/// validated before any env steps; a step allocates nothing, and infos are cleared only where the
/// previous step set them. A checkpoint holds each env's physical state, generator, step count and
/// return (<see cref="IRestorableVectorEnv"/>), so a resumed run steps on exactly.
/// </remarks>
public abstract class BatchedVectorEnv : IVectorEnv, IRestorableVectorEnv
{
    private readonly int _n;
    private readonly ActionLayout _layout;
    private readonly int[] _steps;
    private readonly long[] _episodeStart;
    private readonly Rng[] _rngs;
    private readonly double[] _rewards;
    private readonly double[] _returns;
    private readonly bool[] _terminated, _truncated;
    private readonly StepInfo[] _infos;
    private readonly int[] _done;        // envs whose episode ended on the latest step
    private readonly int[] _pending;     // NextStep: envs to reset on the next step
    private readonly int[] _infoSlots;   // slots whose info the latest step set
    private readonly bool[] _ended;      // Disabled: ended envs awaiting ResetAt
    private int _doneCount, _pendingCount, _infoCount, _endedCount;
    private bool _hasBeenReset;
    private long _now;

    /// <summary>Allocates the batch buffers of <paramref name="numEnvs"/> envs.</summary>
    /// <param name="id">Identity of the sub-environments.</param>
    /// <param name="observationSpace">Observation space of one env.</param>
    /// <param name="actionSpace">Action space of one env.</param>
    /// <param name="numEnvs">Number of environments.</param>
    /// <param name="autoresetMode">What happens when an episode ends.</param>
    /// <param name="maxEpisodeSteps">Time limit; episodes are truncated on this step.</param>
    protected BatchedVectorEnv(EnvId id, ObservationSpace observationSpace, Space actionSpace, int numEnvs, AutoresetMode autoresetMode, int maxEpisodeSteps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numEnvs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEpisodeSteps, 1);
        if (!Enum.IsDefined(autoresetMode)) throw new ArgumentOutOfRangeException(nameof(autoresetMode));
        _n = numEnvs;
        Id = id;
        SingleObservationSpace = observationSpace;
        SingleActionSpace = actionSpace;
        _layout = actionSpace.ActionLayout;
        AutoresetMode = autoresetMode;
        MaxEpisodeSteps = maxEpisodeSteps;
        _steps = new int[numEnvs];
        _episodeStart = new long[numEnvs];
        _rewards = new double[numEnvs];
        _returns = new double[numEnvs];
        _terminated = new bool[numEnvs];
        _truncated = new bool[numEnvs];
        _infos = new StepInfo[numEnvs];
        _done = new int[numEnvs];
        _pending = new int[numEnvs];
        _infoSlots = new int[numEnvs];
        _ended = new bool[numEnvs];
        Observations = new ObservationBatch(observationSpace, numEnvs);
        FinalObservations = new ObservationBatch(observationSpace, numEnvs);
        _rngs = new Rng[numEnvs];
        ulong entropy = unchecked((ulong)Stopwatch.GetTimestamp() * 0x9E3779B97F4A7C15UL);
        for (int i = 0; i < numEnvs; i++) _rngs[i] = new Rng(Rng.DeriveSeed(entropy, "env", i));
    }

    /// <summary>Steps after which an episode is truncated.</summary>
    public int MaxEpisodeSteps { get; }

    /// <inheritdoc />
    public int NumEnvs => _n;

    /// <inheritdoc />
    public EnvId Id { get; }

    /// <inheritdoc />
    public ObservationSpace SingleObservationSpace { get; }

    /// <inheritdoc />
    public Space SingleActionSpace { get; }

    /// <inheritdoc />
    public AutoresetMode AutoresetMode { get; }

    /// <inheritdoc />
    public ObservationBatch Observations { get; }

    /// <inheritdoc />
    public ObservationBatch FinalObservations { get; }

    /// <inheritdoc />
    public ReadOnlySpan<double> Rewards => _rewards;

    /// <inheritdoc />
    public ReadOnlySpan<bool> Terminated => _terminated;

    /// <inheritdoc />
    public ReadOnlySpan<bool> Truncated => _truncated;

    /// <inheritdoc />
    public ReadOnlySpan<StepInfo> Infos => _infos;

    /// <summary>Steps taken in env <paramref name="index"/>'s current episode.</summary>
    public int ElapsedSteps(int index) => _steps[index];

    /// <inheritdoc />
    public void Reset(long? seed = null)
    {
        _now = Stopwatch.GetTimestamp();
        for (int i = 0; i < _n; i++) ResetSlot(i, SubEnvBatch.SeedFor(seed, i));
        Array.Clear(_infos);
        _infoCount = 0;
        _pendingCount = 0;
        _doneCount = 0;
        _hasBeenReset = true;
    }

    /// <inheritdoc />
    public void ResetAt(int index, long? seed = null)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_n, nameof(index));
        if (!_hasBeenReset) throw new InvalidOperationException($"{Id} vector env: call Reset before ResetAt.");
        _now = Stopwatch.GetTimestamp();
        int p = Array.IndexOf(_pending, index, 0, _pendingCount);
        if (p >= 0) _pending[p] = _pending[--_pendingCount];
        ResetSlot(index, seed);
        _infos[index] = default;
    }

    /// <inheritdoc />
    public void Step(ActionBatch actions)
    {
        if (actions.Count != _n || !actions.Layout.SameAs(_layout))
            throw new ArgumentException($"{Id} vector env: got a batch of {actions.Count} actions of {actions.Space} for {_n} environments of {SingleActionSpace}.", nameof(actions));
        Step(actions.Discrete, actions.Continuous);
    }

    /// <inheritdoc />
    public void Step(ReadOnlySpan<int> actions) => Step(actions, default);

    /// <inheritdoc />
    public void Dispose() => GC.SuppressFinalize(this);

    /// <summary>Each env's physical state (float64, bit for bit), generator, step count and return so far.</summary>
    public VectorEnvState? CaptureState(out string? reason)
    {
        reason = !_hasBeenReset ? $"{Id}: the vector env was never reset" : _pendingCount > 0 || _endedCount > 0 ? $"{Id}: an env awaits its reset" : null;
        if (reason is not null) return null;
        var envs = new SubEnvState[_n];
        for (int i = 0; i < _n; i++)
        {
            var physical = new double[StateSize];
            ReadState(i, physical);
            envs[i] = new SubEnvState(null, _rngs[i].GetState(), null, ObservationBatches.Checksum(Observations, i), physical, _steps[i], _returns[i]);
        }
        return new VectorEnvState(StateKind, envs);
    }

    /// <summary>Puts every env's physical state, generator, step count and return back and rewrites the observations.</summary>
    public void RestoreState(VectorEnvState state)
    {
        if (state.Kind != StateKind || state.Envs.Length != _n)
            throw new InvalidDataException($"{Id}: saved vector-env state of kind '{state.Kind}' with {state.Envs.Length} envs cannot restore {_n} envs of kind '{StateKind}'.");
        _now = Stopwatch.GetTimestamp();
        for (int i = 0; i < _n; i++)
        {
            var s = state.Envs[i];
            if (s.Physical is not { } p || p.Length != StateSize || s.Random is not RngState random)
                throw new InvalidDataException($"{Id} (env {i}): the saved state lacks its generator or its {StateSize} physical values.");
            WriteState(i, p);
            _steps[i] = s.Steps;
            _returns[i] = s.Return;
            _rngs[i].SetState(random);
            _episodeStart[i] = _now;
            _rewards[i] = 0;
            _terminated[i] = _truncated[i] = false;
            if (ObservationBatches.Checksum(Observations, i) != s.Checksum)
                throw new EnvFaultException(Id.ToString(), i, "the restored physical state does not give the checkpoint's observation");
        }
        Array.Clear(_infos);
        Array.Clear(_ended);
        _infoCount = _pendingCount = _doneCount = _endedCount = 0;
        _hasBeenReset = true;
    }

    /// <summary>Names the implementation in a saved state, so that a state restores only into its own kind.</summary>
    private string StateKind => $"batched {Id}";

    /// <summary>Number of float64 values in one env's physical state.</summary>
    protected abstract int StateSize { get; }

    /// <summary>Copies env <paramref name="index"/>'s physical state (<see cref="StateSize"/> values) into <paramref name="destination"/>.</summary>
    protected abstract void ReadState(int index, Span<double> destination);

    /// <summary>Replaces env <paramref name="index"/>'s physical state and rewrites its observation slot.</summary>
    protected abstract void WriteState(int index, ReadOnlySpan<double> state);

    /// <summary>
    /// Draws env <paramref name="index"/>'s start state with <paramref name="rng"/> (in the scalar
    /// env's order) and writes its observation slot.
    /// </summary>
    protected abstract void ResetEnv(int index, Rng rng);

    /// <summary>
    /// Advances every env one step with its validated action (env-major: <paramref name="discrete"/>
    /// [NumEnvs × Kd], <paramref name="continuous"/> [NumEnvs × Kc]), writing <paramref name="rewards"/>,
    /// <paramref name="terminated"/> and the observation slots. Envs whose episode ended on the
    /// previous step (NextStep mode) are stepped too and then reset by the caller.
    /// </summary>
    protected abstract void StepEnvs(ReadOnlySpan<int> discrete, ReadOnlySpan<float> continuous, Span<double> rewards, Span<bool> terminated);

    private void Step(ReadOnlySpan<int> discrete, ReadOnlySpan<float> continuous)
    {
        if (!_hasBeenReset) throw new InvalidOperationException($"{Id} vector env: Step was called before Reset; call Reset first.");
        Validate(discrete, continuous);
        if (_endedCount > 0)
        {
            int i = Array.IndexOf(_ended, true);
            throw new InvalidOperationException($"{Id} vector env: environment {i} ended its episode; call ResetAt({i}) before stepping (autoreset is disabled).");
        }

        _now = Stopwatch.GetTimestamp(); // one clock read per batch step, shared by every reset and finished episode
        for (int k = 0; k < _infoCount; k++) _infos[_infoSlots[k]] = default;
        _infoCount = 0;

        StepEnvs(discrete, continuous, _rewards, _terminated);
        CountSteps();

        // NextStep: envs that ended on the previous step were stepped above only because the batch
        // step is branch-free; overwrite them with a fresh episode, reward 0 and both flags false.
        for (int k = 0; k < _pendingCount; k++) ResetSlot(_pending[k], null);
        _pendingCount = 0;

        for (int k = 0; k < _doneCount; k++) FinishEpisode(_done[k]);
    }

    /// <summary>Every action is checked before any env steps: counts, then integer ranges and finite floats.</summary>
    private void Validate(ReadOnlySpan<int> discrete, ReadOnlySpan<float> continuous)
    {
        int kd = _layout.DiscreteCount, kc = _layout.ContinuousCount;
        if (discrete.Length != _n * kd || continuous.Length != _n * kc)
            throw new ArgumentException(kc > 0 && continuous.IsEmpty
                ? $"{Id} vector env: {SingleActionSpace} has continuous elements; step it with an {nameof(ActionBatch)}."
                : $"{Id} vector env: got {discrete.Length} integers and {continuous.Length} floats for {_n} environments of {SingleActionSpace} ({kd} and {kc} each).", "actions");
        var starts = _layout.DiscreteStarts;
        var sizes = _layout.DiscreteSizes;
        bool valid = true;
        if (kd == 1)
        {
            uint start = (uint)starts[0], size = (uint)sizes[0];
            foreach (int a in discrete) valid &= (uint)a - start < size;
        }
        else
        {
            for (int i = 0; i < discrete.Length; i++) valid &= (uint)(discrete[i] - starts[i % kd]) < (uint)sizes[i % kd];
        }
        foreach (float c in continuous) valid &= float.IsFinite(c);
        if (valid) return;
        // The rare failure: find the first offending env and let the layout name the element.
        for (int i = 0; i < _n; i++) _layout.Validate(new EnvAction(discrete.Slice(i * kd, kd), continuous.Slice(i * kc, kc)), Id, i);
    }

    /// <summary>Step counters, truncation, returns and the list of ended envs, over the whole batch.</summary>
    private void CountSteps()
    {
        _doneCount = 0;
        int max = MaxEpisodeSteps;
        var steps = _steps.AsSpan();
        var terminated = MemoryMarshal.AsBytes(_terminated.AsSpan());
        var truncated = MemoryMarshal.AsBytes(_truncated.AsSpan());
        for (int i = 0; i < steps.Length; i++)
        {
            int s = ++steps[i];
            byte trunc = (byte)(s >= max ? 1 : 0);
            truncated[i] = trunc;
            _returns[i] += _rewards[i];
            if ((terminated[i] | trunc) != 0) _done[_doneCount++] = i;
        }
    }

    private void ResetSlot(int i, long? seed)
    {
        var rng = _rngs[i];
        if (seed is long s) rng.Reseed(unchecked((ulong)s));
        ResetEnv(i, rng);
        _steps[i] = 0;
        _returns[i] = 0;
        _episodeStart[i] = _now;
        _rewards[i] = 0;
        _terminated[i] = false;
        _truncated[i] = false;
        if (_ended[i]) { _ended[i] = false; _endedCount--; }
    }

    private void FinishEpisode(int i)
    {
        // A NextStep env reset above in this same call no longer counts as ended.
        if (!_terminated[i] && !_truncated[i]) return;
        _infos[i] = new StepInfo(Episode: new EpisodeStatistics(_returns[i], _steps[i], Stopwatch.GetElapsedTime(_episodeStart[i], _now).TotalSeconds));
        _infoSlots[_infoCount++] = i;
        switch (AutoresetMode)
        {
            case AutoresetMode.SameStep:
                Observations.CopySlot(i, FinalObservations, i);
                bool terminated = _terminated[i], truncated = _truncated[i];
                double reward = _rewards[i];
                ResetSlot(i, null);
                (_terminated[i], _truncated[i], _rewards[i]) = (terminated, truncated, reward);
                break;
            case AutoresetMode.NextStep:
                _pending[_pendingCount++] = i;
                break;
            default:
                _ended[i] = true;
                _endedCount++;
                break;
        }
    }
}
