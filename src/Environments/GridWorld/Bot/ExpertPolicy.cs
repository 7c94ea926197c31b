namespace RLAgents.Environments.GridWorld.Bot;

/// <summary>
/// The bot as a policy over a grid-world environment: <see cref="Act(GridWorldEnv)"/> gives the expert's action
/// for the env's current state, starting a fresh plan whenever the env has begun a new episode.
/// Follow its actions (or report others through <see cref="Act(GridWorldEnv, int?)"/>) to keep
/// the plan in step with the world.
/// </summary>
public sealed class ExpertPolicy
{
    private BabyAIBot? _bot;
    private GridWorldEnv? _env;
    private long _episode = -1;

    /// <summary>The expert action for the current state, assuming the previous suggestion was taken.</summary>
    public int Act(GridWorldEnv env) => Act(env, null);

    /// <summary>
    /// The expert action for the current state, given the action actually taken since the last
    /// call (null: the suggested one). The plan is rebuilt on a new episode or another env.
    /// </summary>
    public int Act(GridWorldEnv env, int? actionTaken)
    {
        if (!ReferenceEquals(env, _env) || env.EpisodeCount != _episode || _bot is null)
        {
            _bot = new BabyAIBot(env);
            _env = env;
            _episode = env.EpisodeCount;
            actionTaken = null;
        }
        return _bot.Replan(actionTaken);
    }
}
