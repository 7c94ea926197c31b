namespace RLAgents.Environments.Wrappers;

/// <summary>
/// Base class for wrappers: delegates to <see cref="Inner"/> and enforces the same reset/step
/// bookkeeping and action validation as <see cref="Env"/> at its own level (a wrapper may end an
/// episode the inner env has not ended, as the time limit does). A wrapper overrides the hook of
/// its one concern: <see cref="ResetCore"/>, <see cref="StepCore"/>, or both for per-episode counters.
/// </summary>
public abstract class Wrapper : IEnv
{
    private readonly DiscreteSpace _actionSpace;
    private bool _needsReset = true;
    private bool _everReset;

    /// <summary>Wraps <paramref name="inner"/>; the wrapper owns it and disposes it.</summary>
    protected Wrapper(IEnv inner)
    {
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
        _actionSpace = inner.ActionSpace;
    }

    /// <summary>The wrapped environment.</summary>
    public IEnv Inner { get; }

    /// <inheritdoc />
    public EnvId Id => Inner.Id;

    /// <inheritdoc />
    public virtual ObservationSpace ObservationSpace => Inner.ObservationSpace;

    /// <inheritdoc />
    public DiscreteSpace ActionSpace => _actionSpace;

    /// <summary>True between a reset and the end of the episode (as this wrapper sees it).</summary>
    public bool InEpisode => !_needsReset;

    /// <inheritdoc />
    public ResetResult Reset(long? seed = null)
    {
        var result = ResetCore(seed);
        _needsReset = false;
        _everReset = true;
        return result;
    }

    /// <inheritdoc />
    public StepResult Step(int action)
    {
        if (_needsReset)
            throw new InvalidOperationException(_everReset
                ? $"{Id}: Step was called after the episode ended; call Reset first."
                : $"{Id}: Step was called before Reset; call Reset first.");
        if (!_actionSpace.Contains(action)) throw new InvalidActionException(Id.ToString(), action, _actionSpace);
        var result = StepCore(action);
        if (result.Terminated || result.Truncated) _needsReset = true;
        return result;
    }

    /// <summary>Starts an episode; the default resets the inner env.</summary>
    protected virtual ResetResult ResetCore(long? seed) => Inner.Reset(seed);

    /// <summary>Applies a valid action during an episode; the default steps the inner env.</summary>
    protected virtual StepResult StepCore(int action) => Inner.Step(action);

    /// <inheritdoc />
    public void Dispose()
    {
        Inner.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc />
    public override string ToString() => $"{GetType().Name}<{Inner}>";
}
