using RLAgents.Environments;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Demonstrations;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.Wrappers;
using RLAgents.Policies;
using RLAgents.Policies.Selection;
using static TorchSharp.torch;

namespace RLAgents.Agents.Phases;

/// <summary>
/// Episodes for supervised fine-tuning, flattened to steps: observation, action (zero-based) and
/// the discounted return from that step to the episode's end.
/// </summary>
public sealed class DemonstrationSet
{
    private readonly List<Observation> _observations = [];
    private readonly List<int> _actions = [];
    private readonly List<float> _returns = [];

    private readonly ObservationHistoryLayout? _memory;

    /// <summary>Creates an empty set for observations of <paramref name="space"/>.</summary>
    public DemonstrationSet(ObservationSpace space)
    {
        Space = space;
        _memory = ObservationHistoryLayout.Find(space);
    }

    /// <summary>The observation layout.</summary>
    public ObservationSpace Space { get; }

    /// <summary>Steps held.</summary>
    public int Count => _actions.Count;

    /// <summary>Episodes held.</summary>
    public int Episodes { get; private set; }

    /// <summary>Zero-based actions, one per step.</summary>
    public IReadOnlyList<int> Actions => _actions;

    /// <summary>Discounted returns-to-go, one per step.</summary>
    public IReadOnlyList<float> Returns => _returns;

    /// <summary>Adds one episode (observations are copied); returns-to-go use <paramref name="gamma"/>.</summary>
    public void AddEpisode(IReadOnlyList<Observation> observations, IReadOnlyList<int> actions, IReadOnlyList<double> rewards, double gamma)
    {
        if (observations.Count != actions.Count || actions.Count != rewards.Count)
            throw new ArgumentException($"An episode needs as many observations ({observations.Count}), actions ({actions.Count}) and rewards ({rewards.Count}).");
        var returns = new float[actions.Count];
        double g = 0;
        for (int t = actions.Count - 1; t >= 0; t--) returns[t] = (float)(g = rewards[t] + gamma * g);
        for (int t = 0; t < actions.Count; t++)
        {
            if (!observations[t].Space.SameLayout(Space)) throw new ArgumentException("Episode observations do not match the agent's observation space.");
            _observations.Add(observations[t].Clone());
            _actions.Add(actions[t]);
            _returns.Add(returns[t]);
        }
        Episodes++;
    }

    /// <summary>Adds every step of <paramref name="other"/>.</summary>
    public void AddAll(DemonstrationSet other)
    {
        _observations.AddRange(other._observations);
        _actions.AddRange(other._actions);
        _returns.AddRange(other._returns);
        Episodes += other.Episodes;
    }

    /// <summary>The observations as one batch (for tensorizing).</summary>
    public ObservationBatch ToBatch()
    {
        var batch = new ObservationBatch(Space, Count);
        for (int i = 0; i < Count; i++) batch.Set(i, _observations[i]);
        return batch;
    }

    /// <summary>
    /// <paramref name="count"/> successful expert-bot episodes of BabyAI level <paramref name="envId"/>;
    /// attempt i is seeded <c>Rng.DeriveSeed(seed, "bot", i)</c>. Returns the set and the attempts made.
    /// </summary>
    public static (DemonstrationSet Set, int Attempts) FromBot(string envId, GridWorldOptions? options, ObservationSpace space, int count, ulong seed, double gamma)
    {
        if (!BabyAILevels.All.ContainsKey(envId))
            throw new ArgumentException($"There is no expert bot for '{envId}'; bot demonstrations need a BabyAI level.");
        using var env = BabyAILevels.Make(envId, options);
        var set = new DemonstrationSet(space);
        bool describe = space.TryGetIndex("description", out _);
        int attempts = 0;
        while (set.Episodes < count)
        {
            if (attempts > 2 * count + 100) throw new InvalidOperationException($"{envId}: the bot succeeded on only {set.Episodes} of {attempts} episodes.");
            var demo = DemoGenerator.Play(env, envId, unchecked((long)Rng.DeriveSeed(seed, "bot", attempts++)), describe);
            if (demo is not null) set.Add(demo, gamma);
        }
        return (set, attempts);
    }

    /// <summary>The first <paramref name="count"/> (0 = all) episodes of a demonstrations file.</summary>
    public static DemonstrationSet FromFile(string path, ObservationSpace space, int count, double gamma)
    {
        var set = new DemonstrationSet(space);
        foreach (var demo in DemonstrationReader.ReadAll(path))
        {
            if (count > 0 && set.Episodes >= count) break;
            set.Add(demo, gamma);
        }
        return set;
    }

    /// <summary>Adds a GridWorld demonstration; descriptions missing from the file are rendered from the images.</summary>
    public void Add(Demonstration demo, double gamma)
    {
        int image = Space.IndexOf("image"), direction = Space.IndexOf("direction"), mission = Space.IndexOf("mission");
        int description = Space.TryGetIndex("description", out int d) ? d : -1;
        var steps = new Observation[demo.Length];
        for (int t = 0; t < demo.Length; t++)
        {
            var obs = new Observation(Space);
            demo.Images[t].CopyTo(obs.Bytes(image));
            obs.SetInt(direction, demo.Directions[t]);
            obs.SetText(mission, demo.Mission);
            if (description >= 0) obs.SetText(description, demo.Descriptions?[t] ?? ViewDescriber.DescribeOnce(demo.Images[t]));
            steps[t] = obs;
        }
        // With memory, each step also carries the previous steps of its episode, as the wrapped env would give them.
        _memory?.FillEpisode(steps);
        AddEpisode(steps, demo.Actions, demo.Rewards, gamma);
    }

    /// <summary>
    /// Plays <paramref name="episodes"/> episodes with <paramref name="policy"/> (sampling) in
    /// <paramref name="env"/> and keeps those whose return is at least <paramref name="minReturn"/>.
    /// Returns the kept set and the env steps taken.
    /// </summary>
    public static (DemonstrationSet Set, long Steps) FromOwnEpisodes(Policy policy, IVectorEnv env, int episodes, double minReturn, ulong seed, double gamma)
    {
        var space = env.SingleObservationSpace;
        var set = new DemonstrationSet(space);
        int n = env.NumEnvs, finished = 0;
        var observations = Enumerable.Range(0, n).Select(_ => new List<Observation>()).ToArray();
        var actions = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
        var rewards = Enumerable.Range(0, n).Select(_ => new List<double>()).ToArray();
        var act = new ActResult(n);
        var rng = new Rng(Rng.DeriveSeed(seed, "own-actions"));
        long steps = 0;
        env.Reset(unchecked((long)Rng.DeriveSeed(seed, "own-env")));
        while (finished < episodes)
        {
            using (var scope = NewDisposeScope())
                policy.Act(policy.Tensorizer.ToInput(env.Observations), ActionSelection.Sample, rng, act, withValues: false);
            for (int i = 0; i < n; i++)
            {
                var obs = new Observation(space);
                env.Observations.Get(i, obs);
                observations[i].Add(obs);
                actions[i].Add(act.Actions[i] - env.SingleActionSpace.AsDiscrete("Demonstrations").Start);
            }
            env.Step(act.Actions.AsSpan(0, n));
            steps += n;
            for (int i = 0; i < n; i++)
            {
                rewards[i].Add(env.Rewards[i]);
                if (!env.Terminated[i] && !env.Truncated[i]) continue;
                if (finished < episodes && rewards[i].Sum() >= minReturn) set.AddEpisode(observations[i], actions[i], rewards[i], gamma);
                finished++;
                observations[i].Clear();
                actions[i].Clear();
                rewards[i].Clear();
            }
        }
        return (set, steps);
    }
}
