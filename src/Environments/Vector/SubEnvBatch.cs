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
                ResetResult next;
                try
                {
                    next = _envs[i].Reset(null);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    throw EnvFaultException.Threw(Id.ToString(), i, "Reset", e);
                }
                CheckLayout(i, next.Observation, "Reset");
                Observations.Set(i, next.Observation);
                break;
            default:
                Observations.Set(i, r.Observation);
                _ended[i] = true;
                break;
        }
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
