namespace RLAgents.Environments.Wrappers;

/// <summary>
/// <see cref="ObservationHistory"/> for a whole vector environment (any implementation, native
/// batched ones included): each env's observation carries its previous K values of the chosen
/// modalities and <c>history_mask</c>. Episode boundaries follow the inner env's
/// <see cref="IVectorEnv.AutoresetMode"/>:
/// <list type="bullet">
/// <item><see cref="AutoresetMode.SameStep"/>: on the ending step <see cref="FinalObservations"/> holds the
/// last observation with its own episode's history, and <see cref="Observations"/> the new episode's
/// first observation with an empty, masked history.</item>
/// <item><see cref="AutoresetMode.NextStep"/>: the ending step's observation carries its episode's
/// history; the following step (the inner env's reset step) starts an empty history.</item>
/// <item><see cref="AutoresetMode.Disabled"/>: <see cref="ResetAt"/> starts an empty history.</item>
/// </list>
/// </summary>
public sealed class ObservationHistoryVectorEnv : IVectorEnv, IRestorableVectorEnv
{
    private const string StateKind = "observation-history";

    private readonly IVectorEnv _inner;
    private readonly ObservationHistoryLayout _layout;
    private readonly bool[] _resetsNext; // NextStep: env i ended on the previous step, so this step resets it

    /// <summary>Wraps <paramref name="inner"/> (owned, disposed with this); bad options throw a configuration error naming <c>env.memory</c>.</summary>
    public ObservationHistoryVectorEnv(IVectorEnv inner, ObservationHistoryOptions options)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(options);
        _inner = inner;
        _layout = ObservationHistoryLayout.Create(inner.SingleObservationSpace, options.Steps, options.Modalities);
        Observations = new ObservationBatch(_layout.Space, inner.NumEnvs);
        FinalObservations = new ObservationBatch(_layout.Space, inner.NumEnvs);
        _resetsNext = new bool[inner.NumEnvs];
    }

    /// <summary>The wrapped vector environment.</summary>
    public IVectorEnv Inner => _inner;

    /// <summary>The memory layout.</summary>
    public ObservationHistoryLayout Layout => _layout;

    /// <inheritdoc />
    public int NumEnvs => _inner.NumEnvs;

    /// <inheritdoc />
    public EnvId Id => _inner.Id;

    /// <inheritdoc />
    public ObservationSpace SingleObservationSpace => _layout.Space;

    /// <inheritdoc />
    public Space SingleActionSpace => _inner.SingleActionSpace;

    /// <inheritdoc />
    public AutoresetMode AutoresetMode => _inner.AutoresetMode;

    /// <inheritdoc />
    public ObservationBatch Observations { get; }

    /// <inheritdoc />
    public ObservationBatch FinalObservations { get; }

    /// <inheritdoc />
    public ReadOnlySpan<double> Rewards => _inner.Rewards;

    /// <inheritdoc />
    public ReadOnlySpan<bool> Terminated => _inner.Terminated;

    /// <inheritdoc />
    public ReadOnlySpan<bool> Truncated => _inner.Truncated;

    /// <inheritdoc />
    public ReadOnlySpan<StepInfo> Infos => _inner.Infos;

    /// <inheritdoc />
    public void Reset(long? seed = null)
    {
        _inner.Reset(seed);
        for (int i = 0; i < NumEnvs; i++) Start(i);
    }

    /// <inheritdoc />
    public void ResetAt(int index, long? seed = null)
    {
        _inner.ResetAt(index, seed);
        Start(index);
    }

    /// <inheritdoc />
    public void Step(ActionBatch actions)
    {
        _inner.Step(actions);
        AfterStep();
    }

    /// <inheritdoc />
    public void Step(ReadOnlySpan<int> actions)
    {
        _inner.Step(actions);
        AfterStep();
    }

    private void AfterStep()
    {
        var terminated = _inner.Terminated;
        var truncated = _inner.Truncated;
        bool sameStep = _inner.AutoresetMode == AutoresetMode.SameStep;
        for (int i = 0; i < NumEnvs; i++)
        {
            if (_resetsNext[i])
            {
                Start(i);
                continue;
            }
            _layout.Push(Observations, i);
            bool done = terminated[i] || truncated[i];
            if (done && sameStep)
            {
                // The ended episode's last observation keeps its history; the new episode starts empty.
                ObservationHistoryLayout.CopyBase(_inner.FinalObservations, i, Observations, i);
                Observations.CopySlot(i, FinalObservations, i);
                Start(i);
                continue;
            }
            ObservationHistoryLayout.CopyBase(_inner.Observations, i, Observations, i);
            if (done && _inner.AutoresetMode == AutoresetMode.NextStep) _resetsNext[i] = true;
        }
    }

    /// <summary>The inner env's state and this wrapper's observations (their histories), when the inner env can be captured.</summary>
    public VectorEnvState? CaptureState(out string? reason)
    {
        reason = _inner is IRestorableVectorEnv ? null : $"{_inner.GetType().Name} cannot save its state";
        if (_inner is not IRestorableVectorEnv restorable || restorable.CaptureState(out reason) is not { } inner) return null;
        if (_resetsNext.Any(r => r)) { reason = "an env awaits its NextStep reset"; return null; }
        return new VectorEnvState(StateKind, [], inner, ObservationBatches.Capture(Observations));
    }

    /// <summary>Restores the inner env, then the observations with their histories as they were.</summary>
    public void RestoreState(VectorEnvState state)
    {
        if (state.Kind != StateKind || state.Inner is null || state.Observations is null)
            throw new InvalidDataException($"Saved vector-env state of kind '{state.Kind}' cannot restore {nameof(ObservationHistoryVectorEnv)}.");
        if (_inner is not IRestorableVectorEnv restorable) throw new InvalidOperationException($"{_inner.GetType().Name} cannot restore its state.");
        restorable.RestoreState(state.Inner);
        ObservationBatches.Restore(state.Observations, Observations);
        Array.Clear(_resetsNext);
    }

    /// <inheritdoc />
    public void Dispose() => _inner.Dispose();

    /// <inheritdoc />
    public override string ToString() => $"{nameof(ObservationHistoryVectorEnv)}<{_inner}>";

    private void Start(int i)
    {
        _layout.Clear(Observations, i);
        ObservationHistoryLayout.CopyBase(_inner.Observations, i, Observations, i);
        _resetsNext[i] = false;
    }
}
