namespace RLAgents.Environments;

/// <summary>An expert could not act in the current state (e.g. a planner found no plan); the episode is abandoned.</summary>
public class ExpertFailedException : Exception
{
    /// <summary>Creates the error with its reason.</summary>
    public ExpertFailedException(string message) : base(message) { }

    /// <summary>Creates the error with its reason and cause.</summary>
    public ExpertFailedException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>One episode an expert played: what it saw before each action, the actions and the rewards.</summary>
/// <param name="Seed">The reset seed.</param>
/// <param name="Observations">The observation before each action, [Length] (copies).</param>
/// <param name="Actions">The expert's actions, [Length].</param>
/// <param name="Rewards">The rewards, [Length].</param>
/// <param name="Success">The last step's <see cref="StepInfo.IsSuccess"/>, or null when the env does not report success.</param>
public sealed record ExpertEpisode(long Seed, IReadOnlyList<Observation> Observations, int[] Actions, double[] Rewards, bool? Success)
{
    /// <summary>Number of steps.</summary>
    public int Length => Actions.Length;
}

/// <summary>Plays episodes with an environment's expert (<see cref="IExpertEnv"/>).</summary>
public static class Experts
{
    /// <summary>The expert of <paramref name="env"/> (looked up through wrappers); one line naming the env when it has none.</summary>
    /// <exception cref="NotSupportedException">The environment offers no expert.</exception>
    public static IExpert For(IEnv env) =>
        (env.Find<IExpertEnv>() ?? throw new NotSupportedException($"{env.Id} has no expert policy (it does not implement {nameof(IExpertEnv)}); expert demonstrations need one."))
        .CreateExpert();

    /// <summary>
    /// Resets <paramref name="env"/> with <paramref name="seed"/> and follows <paramref name="expert"/> (created
    /// for this env) until the episode ends. Returns null when the expert fails mid-episode.
    /// </summary>
    public static ExpertEpisode? Play(IEnv env, IExpert expert, long seed)
    {
        var observation = env.Reset(seed).Observation;
        var observations = new List<Observation>();
        var actions = new List<int>();
        var rewards = new List<double>();
        try
        {
            while (true)
            {
                observations.Add(observation.Clone());
                int action = expert.Act();
                var step = env.Step(action);
                actions.Add(action);
                rewards.Add(step.Reward);
                observation = step.Observation;
                if (step.Done) return new ExpertEpisode(seed, observations, [.. actions], [.. rewards], step.Info.IsSuccess);
            }
        }
        catch (ExpertFailedException)
        {
            return null;
        }
    }
}
