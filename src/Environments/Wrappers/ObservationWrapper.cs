namespace RLAgents.Environments.Wrappers;

/// <summary>
/// Base class of wrappers that change observations only (Gymnasium's <c>ObservationWrapper</c>):
/// one hook, <see cref="Transform"/>, sees every observation the inner environment returns and
/// whether it starts an episode; rewards, flags and infos pass through unchanged.
/// </summary>
public abstract class ObservationWrapper : Wrapper
{
    /// <summary>Wraps <paramref name="inner"/>; the wrapper owns it and disposes it.</summary>
    protected ObservationWrapper(IEnv inner) : base(inner)
    {
    }

    /// <summary>
    /// Maps the inner observation to this wrapper's (of <see cref="Wrapper.ObservationSpace"/>).
    /// <paramref name="episodeStart"/> is true for the observation a reset returns. The result is
    /// owned by the wrapper and valid until its next call, like an environment's.
    /// </summary>
    protected abstract Observation Transform(Observation observation, bool episodeStart);

    /// <inheritdoc />
    protected sealed override ResetResult ResetCore(long? seed)
    {
        var r = Inner.Reset(seed);
        return r with { Observation = Transform(r.Observation, episodeStart: true) };
    }

    /// <inheritdoc />
    protected sealed override StepResult StepCore(int action)
    {
        var r = Inner.Step(action);
        return r with { Observation = Transform(r.Observation, episodeStart: false) };
    }
}
