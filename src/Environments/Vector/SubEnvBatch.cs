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
    // How env i's current episode began and the actions since, so a checkpoint can replay it (IRestorableVectorEnv):
    // the seed of its reset, or, for an unseeded reset, its generator's state just before (envs built on Env).
    private readonly Env?[] _innermost;
    private readonly long?[] _episodeSeed;
    private readonly RngState?[] _randomBefore;
    private readonly int[][] _episodeActions;
    private readonly int[] _actionCount;

    public SubEnvBatch(IReadOnlyList<IEnv> envs, AutoresetMode mode)
    {
        if (envs.Count == 0) throw new ArgumentException("A vector environment needs at least one environment.", nameof(envs));
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown autoreset mode.");
        _envs = envs.ToArray();
        var first = _envs[0];
        for (int i = 1; i < _envs.Length; i++)
        {
            var e = _envs[i];
            if (e.Id != first.Id || !e.ObservationSpace.SameLayout(first.ObservationSpace) || e.ActionSpace.N != first.ActionSpace.N || e.ActionSpace.Start != first.ActionSpace.Start)
                throw new ArgumentException($"Environment {i} ({e.Id}, {e.ObservationSpace}, {e.ActionSpace}) differs from environment 0 ({first.Id}, {first.ObservationSpace}, {first.ActionSpace}).", nameof(envs));
        }
        Mode = mode;
        Id = first.Id;
        ObservationSpace = first.ObservationSpace;
        ActionSpace = first.ActionSpace;
        int n = _envs.Length;
        Observations = new ObservationBatch(ObservationSpace, n);
        FinalObservations = new ObservationBatch(ObservationSpace, n);
        Rewards = new double[n];
        Terminated = new bool[n];
        Truncated = new bool[n];
        Infos = new StepInfo[n];
        Actions = new int[n];
        _ended = new bool[n];
        _innermost = _envs.Select(e => e.Unwrapped() as Env).ToArray();
        _episodeSeed = new long?[n];
        _randomBefore = new RngState?[n];
        // Room for a whole episode under the time limit, so that recording actions allocates nothing once warm.
        int room = first.Find<TimeLimit>()?.MaxEpisodeSteps is int limit ? Math.Min(limit, 1 << 16) : 256;
        _episodeActions = Enumerable.Range(0, n).Select(_ => new int[room]).ToArray();
        _actionCount = new int[n];
    }

    public int Count => _envs.Length;
    public AutoresetMode Mode { get; }
    public EnvId Id { get; }
    public ObservationSpace ObservationSpace { get; }
    public DiscreteSpace ActionSpace { get; }
    public ObservationBatch Observations { get; }
    public ObservationBatch FinalObservations { get; }
    public double[] Rewards { get; }
    public bool[] Terminated { get; }
    public bool[] Truncated { get; }
    public StepInfo[] Infos { get; }

    /// <summary>The actions of the step in progress, copied so worker threads can read them.</summary>
    public int[] Actions { get; }

    public bool HasBeenReset { get; private set; }

    /// <summary>Env i's seed for a vector reset with <paramref name="seed"/>.</summary>
    public static long? SeedFor(long? seed, int i) => seed is long s ? unchecked((long)Rng.DeriveSeed(unchecked((ulong)s), "env", i)) : null;

    /// <summary>Checks the call and copies the actions; every action is validated before any env steps.</summary>
    public void BeginStep(ReadOnlySpan<int> actions)
    {
        if (!HasBeenReset) throw new InvalidOperationException($"{Id} vector env: Step was called before Reset; call Reset first.");
        if (actions.Length != _envs.Length)
            throw new ArgumentException($"{Id} vector env: got {actions.Length} actions for {_envs.Length} environments.", nameof(actions));
        for (int i = 0; i < actions.Length; i++)
        {
            if (!ActionSpace.Contains(actions[i])) throw new InvalidActionException($"{Id} (env {i})", actions[i], ActionSpace);
            if (Mode == AutoresetMode.Disabled && _ended[i])
                throw new InvalidOperationException($"{Id} vector env: environment {i} ended its episode; call ResetAt({i}) before stepping (autoreset is disabled).");
        }
        actions.CopyTo(Actions);
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
        StepResult r;
        try
        {
            r = _envs[i].Step(Actions[i]);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw EnvFaultException.Threw(Id.ToString(), i, "Step", e);
        }
        CheckLayout(i, r.Observation, "Step");
        RecordAction(i, Actions[i]);
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
        _actionCount[i] = 0;
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

    private void RecordAction(int i, int action)
    {
        ref int[] actions = ref _episodeActions[i];
        if (_actionCount[i] == actions.Length) Array.Resize(ref actions, actions.Length * 2);
        actions[_actionCount[i]++] = action;
    }

    /// <summary>How every env's current episode began and the actions since, or null with the reason when an unseeded episode's generator is out of reach.</summary>
    public SubEnvState[]? Capture(out string? reason)
    {
        reason = null;
        if (!HasBeenReset) { reason = $"{Id}: the vector env was never reset"; return null; }
        var states = new SubEnvState[_envs.Length];
        for (int i = 0; i < _envs.Length; i++)
        {
            if (_episodeSeed[i] is null && _randomBefore[i] is null)
            {
                reason = $"{Id} (env {i}): its episode began without a seed and it does not derive from {nameof(Env)}, so its generator cannot be saved";
                return null;
            }
            states[i] = new SubEnvState(_episodeSeed[i], _randomBefore[i], _episodeActions[i].AsSpan(0, _actionCount[i]).ToArray(), ObservationBatches.Checksum(Observations, i));
        }
        return states;
    }

    /// <summary>Replays every env's episode from its start (see <see cref="Capture"/>); faults when one does not come back to its observation.</summary>
    public void Restore(SubEnvState[] states)
    {
        if (states.Length != _envs.Length) throw new InvalidDataException($"{Id}: the saved state has {states.Length} environments, this vector env {_envs.Length}.");
        for (int i = 0; i < _envs.Length; i++)
        {
            var state = states[i];
            if (state.Random is RngState random)
            {
                var inner = _innermost[i] ?? throw new EnvFaultException(Id.ToString(), i, $"the saved state restores a generator, but the env does not derive from {nameof(Env)}");
                inner.RandomState = random;
            }
            var r = ResetEnv(i, state.Seed);
            var actions = state.Actions ?? [];
            for (int t = 0; t < actions.Length; t++)
            {
                if (!ActionSpace.Contains(actions[t])) throw new InvalidDataException($"{Id} (env {i}): saved action {actions[t]} is not in {ActionSpace}.");
                StepResult step;
                try
                {
                    step = _envs[i].Step(actions[t]);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    throw EnvFaultException.Threw(Id.ToString(), i, "Step (replaying to the checkpoint)", e);
                }
                CheckLayout(i, step.Observation, "Step");
                RecordAction(i, actions[t]);
                if (step.Terminated || step.Truncated)
                    throw new EnvFaultException(Id.ToString(), i, $"replaying its episode to the checkpoint, it ended after {t + 1} of {actions.Length} steps: it is not deterministic given its seed and actions");
                r = new ResetResult(step.Observation, step.Info);
            }
            Observations.Set(i, r.Observation);
            if (ObservationBatches.Checksum(Observations, i) != state.Checksum)
                throw new EnvFaultException(Id.ToString(), i, $"replaying {actions.Length} steps did not bring back the checkpoint's observation: it is not deterministic given its seed and actions");
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
