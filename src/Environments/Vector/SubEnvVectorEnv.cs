namespace RLAgents.Environments.Vector;

/// <summary>
/// What <see cref="SyncVectorEnv"/> and <see cref="ThreadedVectorEnv"/> share: N separate
/// <see cref="IEnv"/> instances whose batched buffers, autoreset bookkeeping and per-env seeding
/// live in one <see cref="SubEnvBatch"/>. The subclasses differ only in who steps which envs.
/// </summary>
public abstract class SubEnvVectorEnv : IVectorEnv, IRestorableVectorEnv
{
    private const string StateKind = "sub-envs";

    private protected SubEnvVectorEnv(SubEnvBatch batch) => Batch = batch;

    /// <summary>The sub-environments and their batched state.</summary>
    private protected SubEnvBatch Batch { get; }

    /// <inheritdoc />
    public int NumEnvs => Batch.Count;

    /// <summary>The sub-environments, slot i = env i (to configure them between steps, e.g. a curriculum; never to step them).</summary>
    public IReadOnlyList<IEnv> Envs => Batch.Envs;

    /// <inheritdoc />
    public EnvId Id => Batch.Id;

    /// <inheritdoc />
    public ObservationSpace SingleObservationSpace => Batch.ObservationSpace;

    /// <inheritdoc />
    public Space SingleActionSpace => Batch.ActionSpace;

    /// <inheritdoc />
    public AutoresetMode AutoresetMode => Batch.Mode;

    /// <inheritdoc />
    public ObservationBatch Observations => Batch.Observations;

    /// <inheritdoc />
    public ObservationBatch FinalObservations => Batch.FinalObservations;

    /// <inheritdoc />
    public ReadOnlySpan<double> Rewards => Batch.Rewards;

    /// <inheritdoc />
    public ReadOnlySpan<bool> Terminated => Batch.Terminated;

    /// <inheritdoc />
    public ReadOnlySpan<bool> Truncated => Batch.Truncated;

    /// <inheritdoc />
    public ReadOnlySpan<StepInfo> Infos => Batch.Infos;

    /// <inheritdoc />
    public abstract void Reset(long? seed = null);

    /// <inheritdoc />
    public virtual void ResetAt(int index, long? seed = null)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Batch.Count, nameof(index));
        if (!Batch.HasBeenReset) throw new InvalidOperationException($"{Id} vector env: call Reset before ResetAt.");
        Batch.ResetOne(index, seed);
    }

    /// <inheritdoc />
    public void Step(ActionBatch actions)
    {
        BeforeStep();
        Batch.BeginStep(actions);
        StepAll();
    }

    /// <inheritdoc />
    public void Step(ReadOnlySpan<int> actions)
    {
        BeforeStep();
        Batch.BeginStep(actions, default);
        StepAll();
    }

    /// <summary>Checks that the vector env can step (e.g. is not disposed).</summary>
    private protected virtual void BeforeStep() { }

    /// <summary>Steps every env with the actions <see cref="SubEnvBatch.BeginStep(ReadOnlySpan{int}, ReadOnlySpan{float})"/> copied.</summary>
    private protected abstract void StepAll();

    /// <summary>
    /// Each sub-environment's episode start (its reset seed, or its generator's state before an unseeded reset,
    /// for envs built on <see cref="Env"/>) and the actions it has taken since.
    /// </summary>
    public VectorEnvState? CaptureState(out string? reason) => Batch.Capture(out reason) is { } envs ? new VectorEnvState(StateKind, envs) : null;

    /// <summary>Replays each sub-environment's episode from its start on the calling thread; its observation must come back bit for bit.</summary>
    public void RestoreState(VectorEnvState state)
    {
        if (state.Kind != StateKind) throw new InvalidDataException($"{Id}: saved vector-env state of kind '{state.Kind}' cannot restore {GetType().Name}.");
        Batch.Restore(state.Envs);
    }

    /// <inheritdoc />
    public abstract void Dispose();

    private protected static int CheckCount(int numEnvs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numEnvs, 1);
        return numEnvs;
    }
}
