namespace RLAgents.Environments.Wrappers;

/// <summary>
/// A vector environment that rewrites the observations of another (any implementation, native batched ones
/// included) while rewards, flags, infos and actions pass through. Subclasses say what a slot's observation
/// becomes when its episode starts, continues and ends; this class follows the inner env's
/// <see cref="IVectorEnv.AutoresetMode"/> to call them:
/// <list type="bullet">
/// <item><see cref="AutoresetMode.SameStep"/>: on the ending step <see cref="EndEpisode"/> writes the ended
/// episode's last observation into <see cref="FinalObservations"/>, then <see cref="StartEpisode"/> the new
/// episode's first observation into <see cref="Observations"/>.</item>
/// <item><see cref="AutoresetMode.NextStep"/>: the ending step's observation continues its episode; the following
/// step (the inner env's reset step) starts the next.</item>
/// <item><see cref="AutoresetMode.Disabled"/>: <see cref="ResetAt"/> starts an episode.</item>
/// </list>
/// </summary>
public abstract class ObservationVectorWrapper : IVectorEnv
{
    private readonly bool[] _startsNext; // NextStep: env i ended on the previous step, so this step starts its next episode

    /// <summary>Wraps <paramref name="inner"/> (owned, disposed with this); observations are laid out by <paramref name="space"/>.</summary>
    protected ObservationVectorWrapper(IVectorEnv inner, ObservationSpace space)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
        SingleObservationSpace = space;
        Observations = new ObservationBatch(space, inner.NumEnvs);
        FinalObservations = new ObservationBatch(space, inner.NumEnvs);
        _startsNext = new bool[inner.NumEnvs];
    }

    /// <summary>The wrapped vector environment.</summary>
    public IVectorEnv Inner { get; }

    /// <inheritdoc />
    public int NumEnvs => Inner.NumEnvs;

    /// <inheritdoc />
    public EnvId Id => Inner.Id;

    /// <inheritdoc />
    public ObservationSpace SingleObservationSpace { get; }

    /// <inheritdoc />
    public Space SingleActionSpace => Inner.SingleActionSpace;

    /// <inheritdoc />
    public AutoresetMode AutoresetMode => Inner.AutoresetMode;

    /// <inheritdoc />
    public ObservationBatch Observations { get; }

    /// <inheritdoc />
    public ObservationBatch FinalObservations { get; }

    /// <inheritdoc />
    public ReadOnlySpan<double> Rewards => Inner.Rewards;

    /// <inheritdoc />
    public ReadOnlySpan<bool> Terminated => Inner.Terminated;

    /// <inheritdoc />
    public ReadOnlySpan<bool> Truncated => Inner.Truncated;

    /// <inheritdoc />
    public ReadOnlySpan<StepInfo> Infos => Inner.Infos;

    /// <summary>True while some env ended under NextStep autoreset and starts its next episode on the coming step.</summary>
    protected bool AnyStartPending => _startsNext.Contains(true);

    /// <inheritdoc />
    public void Reset(long? seed = null)
    {
        Inner.Reset(seed);
        OnReset(seed);
        for (int i = 0; i < NumEnvs; i++) Start(i);
    }

    /// <inheritdoc />
    public void ResetAt(int index, long? seed = null)
    {
        Inner.ResetAt(index, seed);
        OnResetAt(index, seed);
        Start(index);
    }

    /// <inheritdoc />
    public void Step(ActionBatch actions)
    {
        Inner.Step(actions);
        AfterStep();
    }

    /// <inheritdoc />
    public void Step(ReadOnlySpan<int> actions)
    {
        Inner.Step(actions);
        AfterStep();
    }

    /// <summary>Called after the inner env was reset with <paramref name="seed"/>, before every env starts its episode.</summary>
    protected virtual void OnReset(long? seed)
    {
    }

    /// <summary>Called after the inner env <paramref name="index"/> was reset with <paramref name="seed"/>, before it starts its episode.</summary>
    protected virtual void OnResetAt(int index, long? seed)
    {
    }

    /// <summary>Slot <paramref name="i"/> starts an episode: write its first observation (from <c>Inner.Observations</c>) into <see cref="Observations"/>.</summary>
    protected abstract void StartEpisode(int i);

    /// <summary>Slot <paramref name="i"/> took a step within its episode: write the observation (from <c>Inner.Observations</c>) into <see cref="Observations"/>.</summary>
    protected abstract void ContinueEpisode(int i);

    /// <summary>
    /// SameStep autoreset: slot <paramref name="i"/>'s episode ended on this step; write its last observation (from
    /// <c>Inner.FinalObservations</c>) into <see cref="FinalObservations"/>. <see cref="StartEpisode"/> follows.
    /// </summary>
    protected abstract void EndEpisode(int i);

    /// <summary>Forgets pending NextStep starts (after a restored state, which captures none).</summary>
    protected void ClearPendingStarts() => Array.Clear(_startsNext);

    private void Start(int i)
    {
        _startsNext[i] = false;
        StartEpisode(i);
    }

    private void AfterStep()
    {
        var terminated = Inner.Terminated;
        var truncated = Inner.Truncated;
        for (int i = 0; i < NumEnvs; i++)
        {
            if (_startsNext[i])
            {
                Start(i);
                continue;
            }
            bool done = terminated[i] || truncated[i];
            if (done && Inner.AutoresetMode == AutoresetMode.SameStep)
            {
                EndEpisode(i);
                Start(i);
                continue;
            }
            ContinueEpisode(i);
            if (done && Inner.AutoresetMode == AutoresetMode.NextStep) _startsNext[i] = true;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the inner env.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing) Inner.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() => $"{GetType().Name}<{Inner}>";
}
