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
        var r = _envs[i].Reset(seed);
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
        var r = Layout.IsDiscrete
            ? _envs[i].Step(_discrete[i])
            : _envs[i].Step(new EnvAction(_discrete.AsSpan(i * kd, kd), _continuous.AsSpan(i * kc, kc)));
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
                Observations.Set(i, _envs[i].Reset(null).Observation);
                break;
            default:
                Observations.Set(i, r.Observation);
                _ended[i] = true;
                break;
        }
    }

    public void Dispose()
    {
        foreach (var e in _envs) e.Dispose();
    }
}
