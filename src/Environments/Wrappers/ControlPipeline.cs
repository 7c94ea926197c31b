using RLAgents.Environments.Configuration;

namespace RLAgents.Environments.Wrappers;

/// <summary>
/// The action and normalisation wrappers of an experiment (<c>env.clipAction</c>, <c>env.rescaleAction</c>,
/// <c>env.normalizeObservation</c>, <c>env.normalizeReward</c>), applied to one environment from the inside
/// out in that order: clip into the env's bounds, present the rescaled bounds to the agent (so an action is
/// rescaled first, then clipped), then normalise observations and rewards. Sections left null (or
/// <c>clipAction: false</c>) are skipped.
/// </summary>
/// <param name="ClipAction">Clip continuous actions into the environment's Box bounds.</param>
/// <param name="RescaleAction">New bounds of the continuous actions, or null.</param>
/// <param name="NormalizeObservation">Running normalisation of float observations, or null.</param>
/// <param name="NormalizeReward">Running scaling of rewards, or null.</param>
/// <param name="Prefix">Key path of the sections' parent (<c>env</c>) in error messages.</param>
public sealed record ControlPipeline(bool ClipAction, RescaleActionOptions? RescaleAction, NormalizeObservationOptions? NormalizeObservation,
    NormalizeRewardOptions? NormalizeReward, string Prefix = "env")
{
    /// <summary>True when no wrapper is asked for.</summary>
    public bool IsEmpty => !ClipAction && RescaleAction is null && NormalizeObservation is null && NormalizeReward is null;

    /// <summary>True when a wrapper keeps running statistics (saved in checkpoints, frozen in evaluation).</summary>
    public bool HasStatistics => NormalizeObservation is not null || NormalizeReward is not null;

    /// <summary>
    /// <paramref name="env"/> wrapped by every given section (the result owns it; on an error it is disposed).
    /// A section the environment cannot take (an action wrapper on discrete actions, bounds that are not
    /// finite) throws <see cref="ConfigurationException"/> naming its key.
    /// </summary>
    public IEnv Wrap(IEnv env)
    {
        string key = Prefix;
        try
        {
            if (ClipAction) { key = $"{Prefix}.clipAction"; env = new ClipAction(env); }
            if (RescaleAction is { } r) { key = $"{Prefix}.rescaleAction"; env = new RescaleAction(env, r.Min, r.Max); }
            if (NormalizeObservation is { } o) { key = $"{Prefix}.normalizeObservation"; env = new NormalizeObservation(env, o); }
            if (NormalizeReward is { } w) { key = $"{Prefix}.normalizeReward"; env = new NormalizeReward(env, w); }
            return env;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            // A throwing wrapper constructor never took ownership; env is the outermost built so far.
            env.Dispose();
            throw new ConfigurationException(key, e.Message.Split('\n')[0]);
        }
    }
}
