using System.Collections.Concurrent;
using System.Reflection;

namespace RLAgents.Environments.Wrappers;

/// <summary>
/// Base class for wrappers: delegates to <see cref="Inner"/>, with <see cref="EnvBase"/>'s reset/step
/// bookkeeping and action validation at its own level (a wrapper may end an episode the inner env
/// has not ended, as the time limit does). A wrapper overrides the hook of its one concern:
/// <see cref="ResetCore"/>, <see cref="StepCore(EnvAction)"/> (every action space), or both for
/// per-episode counters; a wrapper that changes the actions also overrides <see cref="ActionSpace"/>.
/// </summary>
/// <remarks>
/// Wrappers written for discrete actions only may override <see cref="EnvBase.StepCore(int)"/>
/// instead; wrapping a non-discrete environment in such a wrapper throws
/// <see cref="UnsupportedActionSpaceException"/> at construction rather than letting its hook be skipped.
/// </remarks>
public abstract class Wrapper : EnvBase
{
    // Per wrapper type: true when it overrides StepCore(int) but not StepCore(EnvAction).
    private static readonly ConcurrentDictionary<Type, bool> DiscreteOnlyTypes = new();

    /// <summary>Wraps <paramref name="inner"/>; the wrapper owns it and disposes it.</summary>
    protected Wrapper(IEnv inner)
    {
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
        if (inner.ActionSpace is not DiscreteSpace && DiscreteOnlyTypes.GetOrAdd(GetType(), OverridesOnlyTheDiscreteHook))
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

    /// <summary>Applies a valid action during an episode; the default steps the inner env.</summary>
    protected override StepResult StepCore(EnvAction action) => ActionLayout.IsDiscrete
        ? StepCore(action.Discrete[0])
        : Inner.Step(action);

    /// <summary>Applies a valid action of a <see cref="DiscreteSpace"/>; the default steps the inner env.</summary>
    protected override StepResult StepCore(int action) => Inner.Step(action);

    private protected sealed override ResetResult ResetEpisode(long? seed) => ResetCore(seed);

    /// <inheritdoc />
    public override void Dispose()
    {
        Inner.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc />
    public override string ToString() => $"{GetType().Name}<{Inner}>";

    private static bool OverridesOnlyTheDiscreteHook(Type type)
    {
        const BindingFlags flags = BindingFlags.Instance | BindingFlags.NonPublic;
        var byInt = type.GetMethod(nameof(StepCore), flags, [typeof(int)])!;
        var byAction = type.GetMethod(nameof(StepCore), flags, [typeof(EnvAction)])!;
        return byInt.DeclaringType != typeof(Wrapper) && byAction.DeclaringType == typeof(Wrapper);
    }
}
