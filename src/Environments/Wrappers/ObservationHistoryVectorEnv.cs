namespace RLAgents.Environments.Wrappers;

/// <summary>
/// <see cref="ObservationHistory"/> for a whole vector environment (any implementation, native
/// batched ones included): each env's observation carries its previous K values of the chosen
/// modalities and <c>history_mask</c>. An episode starts with an empty, masked history; under SameStep
/// autoreset the ending step's <see cref="ObservationVectorWrapper.FinalObservations"/> keeps its own episode's history.
/// </summary>
public sealed class ObservationHistoryVectorEnv : ObservationVectorWrapper, IRestorableVectorEnv
{
    private const string StateKind = "observation-history";

    private readonly ObservationHistoryLayout _layout;

    /// <summary>Wraps <paramref name="inner"/> (owned, disposed with this); bad options throw a configuration error naming <c>env.memory</c>.</summary>
    public ObservationHistoryVectorEnv(IVectorEnv inner, ObservationHistoryOptions options)
        : this(inner, ObservationHistoryLayout.Create((inner ?? throw new ArgumentNullException(nameof(inner))).SingleObservationSpace,
            (options ?? throw new ArgumentNullException(nameof(options))).Steps, options.Modalities, anchored: options.Anchored))
    {
    }

    private ObservationHistoryVectorEnv(IVectorEnv inner, ObservationHistoryLayout layout) : base(inner, layout.Space) => _layout = layout;

    /// <summary>The memory layout.</summary>
    public ObservationHistoryLayout Layout => _layout;

    /// <inheritdoc />
    protected override void StartEpisode(int i)
    {
        _layout.Clear(Observations, i);
        ObservationHistoryLayout.CopyBase(Inner.Observations, i, Observations, i);
    }

    /// <inheritdoc />
    protected override void ContinueEpisode(int i)
    {
        _layout.Push(Observations, i);
        ObservationHistoryLayout.CopyBase(Inner.Observations, i, Observations, i);
    }

    /// <inheritdoc />
    protected override void EndEpisode(int i)
    {
        // The ended episode's last observation keeps its history.
        _layout.Push(Observations, i);
        ObservationHistoryLayout.CopyBase(Inner.FinalObservations, i, Observations, i);
        Observations.CopySlot(i, FinalObservations, i);
    }

    /// <summary>The inner env's state and this wrapper's observations (their histories), when the inner env can be captured.</summary>
    public VectorEnvState? CaptureState(out string? reason)
    {
        reason = Inner is IRestorableVectorEnv ? null : $"{Inner.GetType().Name} cannot save its state";
        if (Inner is not IRestorableVectorEnv restorable || restorable.CaptureState(out reason) is not { } inner) return null;
        if (AnyStartPending) { reason = "an env awaits its NextStep reset"; return null; }
        return new VectorEnvState(StateKind, [], inner, ObservationBatches.Capture(Observations));
    }

    /// <summary>Restores the inner env, then the observations with their histories as they were.</summary>
    public void RestoreState(VectorEnvState state)
    {
        if (state.Kind != StateKind || state.Inner is null || state.Observations is null)
            throw new InvalidDataException($"Saved vector-env state of kind '{state.Kind}' cannot restore {nameof(ObservationHistoryVectorEnv)}.");
        if (Inner is not IRestorableVectorEnv restorable) throw new InvalidOperationException($"{Inner.GetType().Name} cannot restore its state.");
        restorable.RestoreState(state.Inner);
        ObservationBatches.Restore(state.Observations, Observations);
        ClearPendingStarts();
    }
}
