using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Vector;

/// <summary>
/// The state shared by <see cref="SyncVectorEnv"/> and <see cref="ThreadedVectorEnv"/>: the
/// sub-environments, the batched outputs, and the per-env autoreset logic. Methods touching env
/// i write only slot i, so disjoint index ranges can run on different threads.
/// </summary>
internal sealed class SubEnvBatch : IDisposable
{
    private readonly IEnv[] _envs;
    // NextStep: env i ended on the previous step and resets on this one. Disabled: env i ended and awaits ResetAt.
    private readonly bool[] _ended;
    // The actions of the step in progress, [Count × Kd] and [Count × Kc], copied so worker threads can read them.
    private readonly int[] _discrete;
    private readonly float[] _continuous;
    // How env i's current episode began and the actions since, so a checkpoint can replay it (IRestorableVectorEnv):
    // the seed of its reset, or, for an unseeded reset, its generator's state just before (envs built on Env);
    // the actions step-major, [steps × Kd] integers and [steps × Kc] floats.
    private readonly Env?[] _innermost;
    private readonly long?[] _episodeSeed;
    private readonly RngState?[] _randomBefore;
    private readonly int[][] _episodeDiscrete;
    private readonly float[][] _episodeContinuous;
    private readonly int[] _episodeSteps;

    public SubEnvBatch(IReadOnlyList<IEnv> envs, AutoresetMode mode)
    {
        if (envs.Count == 0) throw new ArgumentException("A vector environment needs at least one environment.", nameof(envs));
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown autoreset mode.");
        _envs = envs.ToArray();
        var first = _envs[0];
        for (int i = 1; i < _envs.Length; i++)
        {
            var e = _envs[i];
            if (e.Id != first.Id || !e.ObservationSpace.SameLayout(first.ObservationSpace) || !e.ActionSpace.ActionLayout.SameAs(first.ActionSpace.ActionLayout))
                throw new ArgumentException($"Environment {i} ({e.Id}, {e.ObservationSpace}, {e.ActionSpace}) differs from environment 0 ({first.Id}, {first.ObservationSpace}, {first.ActionSpace}).", nameof(envs));
        }
        Mode = mode;
        Id = first.Id;
        ObservationSpace = first.ObservationSpace;
        ActionSpace = first.ActionSpace;
        Layout = ActionSpace.ActionLayout;
        int n = _envs.Length;
        Observations = new ObservationBatch(ObservationSpace, n);
        FinalObservations = new ObservationBatch(ObservationSpace, n);
        Rewards = new double[n];
        Terminated = new bool[n];
        Truncated = new bool[n];
        Infos = new StepInfo[n];
        _discrete = new int[checked(n * Layout.DiscreteCount)];
        _continuous = new float[checked(n * Layout.ContinuousCount)];
        _ended = new bool[n];
        _innermost = _envs.Select(e => e.Unwrapped() as Env).ToArray();
        _episodeSeed = new long?[n];
        _randomBefore = new RngState?[n];
        // Room for a whole episode under the time limit, so that recording actions allocates nothing once warm.
        int room = first.Find<TimeLimit>()?.MaxEpisodeSteps is int limit ? Math.Min(limit, 1 << 16) : 256;
        _episodeDiscrete = Enumerable.Range(0, n).Select(_ => new int[room * Layout.DiscreteCount]).ToArray();
        _episodeContinuous = Enumerable.Range(0, n).Select(_ => new float[room * Layout.ContinuousCount]).ToArray();
        _episodeSteps = new int[n];
    }

    public int Count => _envs.Length;
    public IReadOnlyList<IEnv> Envs => _envs;
    public AutoresetMode Mode { get; }
    public EnvId Id { get; }
    public ObservationSpace ObservationSpace { get; }
    public Space ActionSpace { get; }
    public ActionLayout Layout { get; }
    public ObservationBatch Observations { get; }
    public ObservationBatch FinalObservations { get; }
    public double[] Rewards { get; }
    public bool[] Terminated { get; }
    public bool[] Truncated { get; }
    public StepInfo[] Infos { get; }


    public bool HasBeenReset { get; private set; }

    /// <summary>Env i's seed for a vector reset with <paramref name="seed"/>.</summary>
    public static long? SeedFor(long? seed, int i) => seed is long s ? unchecked((long)Rng.DeriveSeed(unchecked((ulong)s), "env", i)) : null;

    /// <summary>Checks the call and copies the actions; every action is validated before any env steps.</summary>
    public void BeginStep(ActionBatch actions)
    {
        if (actions.Count != _envs.Length || !actions.Layout.SameAs(Layout))
            throw new ArgumentException($"{Id} vector env: got a batch of {actions.Count} actions of {actions.Space} for {_envs.Length} environments of {ActionSpace}.", nameof(actions));
        BeginStep(actions.Discrete, actions.Continuous);
    }

    /// <summary>Checks the call and copies the actions, env-major [Count × Kd] and [Count × Kc].</summary>
    public void BeginStep(ReadOnlySpan<int> discrete, ReadOnlySpan<float> continuous)
    {
        if (!HasBeenReset) throw new InvalidOperationException($"{Id} vector env: Step was called before Reset; call Reset first.");
        int n = _envs.Length, kd = Layout.DiscreteCount, kc = Layout.ContinuousCount;
        if (discrete.Length != n * kd || continuous.Length != n * kc)
            throw new ArgumentException(kc > 0 && continuous.IsEmpty
                ? $"{Id} vector env: {ActionSpace} has continuous elements; step it with an {nameof(ActionBatch)}."
                : $"{Id} vector env: got {discrete.Length} integers and {continuous.Length} floats for {n} environments of {ActionSpace} ({kd} and {kc} each).", "actions");
        for (int i = 0; i < n; i++)
        {
            Layout.Validate(new EnvAction(discrete.Slice(i * kd, kd), continuous.Slice(i * kc, kc)), Id, i);
            if (Mode == AutoresetMode.Disabled && _ended[i])
                throw new InvalidOperationException($"{Id} vector env: environment {i} ended its episode; call ResetAt({i}) before stepping (autoreset is disabled).");
        }
        discrete.CopyTo(_discrete);
        continuous.CopyTo(_continuous);
    }

    public void MarkReset() => HasBeenReset = true;

    public void ResetRange(int start, int end, long? seed)
    {
        for (int i = start; i < end; i++) ResetOne(i, SeedFor(seed, i));
    }

    public void ResetOne(int i, long? seed)
    {
        var r = ResetEnv(i, seed);
        Observations.Set(i, r.Observation);
        Rewards[i] = 0;
        Terminated[i] = false;
        Truncated[i] = false;
        Infos[i] = r.Info;
        _ended[i] = false;
    }

    public void StepRange(int start, int end)
    {
        for (int i = start; i < end; i++) StepOne(i);
    }

    private void StepOne(int i)
    {
        if (Mode == AutoresetMode.NextStep && _ended[i])
        {
            // The action is ignored: this step only starts env i's next episode.
            ResetOne(i, null);
            return;
        }
        int kd = Layout.DiscreteCount, kc = Layout.ContinuousCount;
        var discrete = _discrete.AsSpan(i * kd, kd);
        var continuous = _continuous.AsSpan(i * kc, kc);
        var r = StepEnv(i, discrete, continuous, "Step");
        RecordAction(i, discrete, continuous);
        Rewards[i] = r.Reward;
        Terminated[i] = r.Terminated;
        Truncated[i] = r.Truncated;
        Infos[i] = r.Info;
        if (!r.Terminated && !r.Truncated)
        {
            Observations.Set(i, r.Observation);
            return;
        }
        switch (Mode)
        {
            case AutoresetMode.SameStep:
                FinalObservations.Set(i, r.Observation);
                Observations.Set(i, ResetEnv(i, null).Observation);
                break;
            default:
                Observations.Set(i, r.Observation);
                _ended[i] = true;
                break;
        }
    }

    // Resets env i, noting how its episode begins (see _episodeSeed), with faults named.
    private ResetResult ResetEnv(int i, long? seed)
    {
        _episodeSeed[i] = seed;
        _randomBefore[i] = seed is null ? _innermost[i]?.RandomState : null;
        _episodeSteps[i] = 0;
        ResetResult r;
        try
        {
            r = _envs[i].Reset(seed);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw EnvFaultException.Threw(Id.ToString(), i, "Reset", e);
        }
        CheckLayout(i, r.Observation, "Reset");
        return r;
    }

    // Steps env i with one validated action, with faults named.
    private StepResult StepEnv(int i, ReadOnlySpan<int> discrete, ReadOnlySpan<float> continuous, string operation)
    {
        StepResult r;
        try
        {
            r = Layout.IsDiscrete ? _envs[i].Step(discrete[0]) : _envs[i].Step(new EnvAction(discrete, continuous));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw EnvFaultException.Threw(Id.ToString(), i, operation, e);
        }
        CheckLayout(i, r.Observation, "Step");
        return r;
    }

    private void RecordAction(int i, ReadOnlySpan<int> discrete, ReadOnlySpan<float> continuous)
    {
        int t = _episodeSteps[i]++;
        Append(ref _episodeDiscrete[i], t, discrete);
        Append(ref _episodeContinuous[i], t, continuous);

        static void Append<T>(ref T[] episode, int t, ReadOnlySpan<T> action)
        {
            if (action.IsEmpty) return;
            if ((t + 1) * action.Length > episode.Length) Array.Resize(ref episode, Math.Max(episode.Length * 2, (t + 1) * action.Length));
            action.CopyTo(episode.AsSpan(t * action.Length));
        }
    }

    /// <summary>How every env's current episode began and the actions since, or null with the reason when an unseeded episode's generator is out of reach.</summary>
    public SubEnvState[]? Capture(out string? reason)
    {
        reason = null;
        if (!HasBeenReset) { reason = $"{Id}: the vector env was never reset"; return null; }
        int kd = Layout.DiscreteCount, kc = Layout.ContinuousCount;
        var states = new SubEnvState[_envs.Length];
        for (int i = 0; i < _envs.Length; i++)
        {
            if (_episodeSeed[i] is null && _randomBefore[i] is null)
            {
                reason = $"{Id} (env {i}): its episode began without a seed and it does not derive from {nameof(Env)}, so its generator cannot be saved";
                return null;
            }
            int steps = _episodeSteps[i];
            states[i] = new SubEnvState(_episodeSeed[i], _randomBefore[i], _episodeDiscrete[i].AsSpan(0, steps * kd).ToArray(), ObservationBatches.Checksum(Observations, i),
                Steps: steps, Continuous: kc > 0 ? _episodeContinuous[i].AsSpan(0, steps * kc).ToArray() : null);
        }
        return states;
    }

    /// <summary>Replays every env's episode from its start (see <see cref="Capture"/>); faults when one does not come back to its observation.</summary>
    public void Restore(SubEnvState[] states)
    {
        if (states.Length != _envs.Length) throw new InvalidDataException($"{Id}: the saved state has {states.Length} environments, this vector env {_envs.Length}.");
        int kd = Layout.DiscreteCount, kc = Layout.ContinuousCount;
        for (int i = 0; i < _envs.Length; i++)
        {
            var state = states[i];
            var discrete = state.Actions ?? [];
            var continuous = state.Continuous ?? [];
            int steps = kd > 0 ? discrete.Length / kd : continuous.Length / kc;
            if (discrete.Length != steps * kd || continuous.Length != steps * kc)
                throw new InvalidDataException($"{Id} (env {i}): the saved actions ({discrete.Length} integers, {continuous.Length} floats) do not fit {ActionSpace} ({kd} and {kc} per step).");
            if (state.Random is RngState random)
            {
                var inner = _innermost[i] ?? throw new EnvFaultException(Id.ToString(), i, $"the saved state restores a generator, but the env does not derive from {nameof(Env)}");
                inner.RandomState = random;
            }
            var r = ResetEnv(i, state.Seed);
            for (int t = 0; t < steps; t++)
            {
                var d = discrete.AsSpan(t * kd, kd);
                var c = continuous.AsSpan(t * kc, kc);
                try
                {
                    Layout.Validate(new EnvAction(d, c), Id, i);
                }
                catch (InvalidActionException e)
                {
                    throw new InvalidDataException($"{Id} (env {i}): saved action {t} is not valid: {e.Message}");
                }
                var step = StepEnv(i, d, c, "Step (replaying to the checkpoint)");
                RecordAction(i, d, c);
                if (step.Terminated || step.Truncated)
                    throw new EnvFaultException(Id.ToString(), i, $"replaying its episode to the checkpoint, it ended after {t + 1} of {steps} steps: it is not deterministic given its seed and actions");
                r = new ResetResult(step.Observation, step.Info);
            }
            Observations.Set(i, r.Observation);
            if (ObservationBatches.Checksum(Observations, i) != state.Checksum)
                throw new EnvFaultException(Id.ToString(), i, $"replaying {steps} steps did not bring back the checkpoint's observation: it is not deterministic given its seed and actions");
            Rewards[i] = 0;
            Terminated[i] = false;
            Truncated[i] = false;
            Infos[i] = default;
            _ended[i] = false;
        }
        MarkReset();
    }

    /// <summary>
    /// An environment's results are copied into the batch by its declared layout: an observation of another layout
    /// (a transposed shape, another dtype) would be copied wrongly or not at all, so it is a fault here.
    /// </summary>
    private void CheckLayout(int i, Observation? observation, string operation)
    {
        if (observation is null) throw new EnvFaultException(Id.ToString(), i, $"{operation} returned no observation");
        if (!ReferenceEquals(observation.Space, ObservationSpace) && ObservationSpace.LayoutDifference(observation.Space) is { } difference)
            throw new EnvFaultException(Id.ToString(), i, $"{operation} returned an observation that does not fit its observation space: {difference}");
    }

    public void Dispose()
    {
        foreach (var e in _envs) e.Dispose();
    }
}
