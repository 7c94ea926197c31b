namespace RLAgents.Environments.Wrappers;

/// <summary>
/// Base class for wrappers: delegates to <see cref="Inner"/>, with <see cref="EnvBase"/>'s reset/step
/// bookkeeping and action validation at its own level (a wrapper may end an episode the inner env
/// has not ended, as the time limit does). A wrapper overrides the hook of its one concern:
/// <see cref="AfterStep"/> to act on step results (observation, reward, flags, info) for every
/// action space, <see cref="StepCore(EnvAction)"/> to transform actions (and
/// <see cref="ActionSpace"/> when it changes them), <see cref="ResetCore"/> for resets — or a reset
/// hook and a step hook together for per-episode state.
/// </summary>
/// <remarks>
/// Integer steps of a discrete env stay integers down the whole chain, so a result wrapper costs one
/// extra virtual call per step. Wrappers written for discrete actions only may override
/// <see cref="EnvBase.StepCore(int)"/> instead; wrapping a non-discrete environment in such a
/// wrapper throws <see cref="UnsupportedActionSpaceException"/> at construction rather than letting
/// its hook be skipped.
/// </remarks>
public abstract class Wrapper : EnvBase
{
    /// <summary>Wraps <paramref name="inner"/>; the wrapper owns it and disposes it.</summary>
    protected Wrapper(IEnv inner)
    {
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
        if (HandlesDiscreteOnly && inner.ActionSpace is not DiscreteSpace)
            throw new UnsupportedActionSpaceException($"{GetType().Name} (it overrides StepCore(int) only)", "a Discrete", inner.ActionSpace);
    }

    /// <summary>The wrapped environment.</summary>
    public IEnv Inner { get; }

    /// <inheritdoc />
    public override EnvId Id => Inner.Id;

    /// <inheritdoc />
    public override ObservationSpace ObservationSpace => Inner.ObservationSpace;

    /// <summary>The actions this wrapper accepts: the inner env's unless the wrapper transforms actions.</summary>
    public override Space ActionSpace => Inner.ActionSpace;

    /// <summary>Starts an episode; the default resets the inner env.</summary>
    protected virtual ResetResult ResetCore(long? seed) => Inner.Reset(seed);

    /// <summary>Applies a valid action during an episode; the default steps the inner env and passes the result to <see cref="AfterStep"/>.</summary>
    protected override StepResult StepCore(EnvAction action) => AfterStep(Inner.Step(action));

    /// <summary>Applies a valid action of a <see cref="DiscreteSpace"/>; the default steps the inner env and passes the result to <see cref="AfterStep"/>.</summary>
    protected override StepResult StepCore(int action) => AfterStep(Inner.Step(action));

    /// <summary>The inner env's step result as this wrapper returns it (the default returns it unchanged).</summary>
    protected virtual StepResult AfterStep(StepResult inner) => inner;

    private protected sealed override ResetResult ResetEpisode(long? seed) => ResetCore(seed);

    /// <inheritdoc />
    public override void Dispose()
    {
        Inner.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc />
    public override string ToString() => $"{GetType().Name}<{Inner}>";
}
