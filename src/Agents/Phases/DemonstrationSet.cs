using RLAgents.Agents.Buffers;
using RLAgents.Environments;
using RLAgents.EpisodeLogs;
using RLAgents.Environments.Wrappers;
using RLAgents.Policies;
using RLAgents.Policies.Networks;
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
    private readonly List<float> _rewards = [];
    private readonly List<int> _episodeStarts = [];

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

    /// <summary>The first step of each episode, in order (episode e holds steps [start_e, start_{e+1})).</summary>
    public IReadOnlyList<int> EpisodeStarts => _episodeStarts;

    /// <summary>Adds one episode (observations are copied); returns-to-go use <paramref name="gamma"/>.</summary>
    public void AddEpisode(IReadOnlyList<Observation> observations, IReadOnlyList<int> actions, IReadOnlyList<double> rewards, double gamma)
    {
        if (observations.Count != actions.Count || actions.Count != rewards.Count)
            throw new ArgumentException($"An episode needs as many observations ({observations.Count}), actions ({actions.Count}) and rewards ({rewards.Count}).");
        var returns = new float[actions.Count];
        double g = 0;
        for (int t = actions.Count - 1; t >= 0; t--) returns[t] = (float)(g = rewards[t] + gamma * g);
        _episodeStarts.Add(_actions.Count);
        for (int t = 0; t < actions.Count; t++)
        {
            if (!observations[t].Space.SameLayout(Space)) throw new ArgumentException("Episode observations do not match the agent's observation space.");
            _observations.Add(observations[t].Clone());
            _actions.Add(actions[t]);
            _returns.Add(returns[t]);
            _rewards.Add((float)rewards[t]);
        }
        Episodes++;
    }

    /// <summary>Adds every step of <paramref name="other"/>.</summary>
    public void AddAll(DemonstrationSet other)
    {
        int offset = _actions.Count;
        _episodeStarts.AddRange(other._episodeStarts.Select(s => s + offset));
        _observations.AddRange(other._observations);
        _actions.AddRange(other._actions);
        _returns.AddRange(other._returns);
        _rewards.AddRange(other._rewards);
        Episodes += other.Episodes;
    }

    /// <summary>
    /// Adds every step to <paramref name="replay"/> as an n-step transition (s_t, a_t, Σ γ^k r_{t+k}, s_{t+n}, γ^n),
    /// episode by episode through an <see cref="NStepAccumulator"/>. A demonstration's last step is taken as
    /// terminal (no bootstrap): demonstrations are successful episodes.
    /// </summary>
    public void FillReplay(ReplayBuffer replay, int nStep, double gamma)
    {
        var accumulator = new NStepAccumulator(Space, 1, nStep, gamma);
        var current = new ObservationBatch(Space, 1);
        var next = new ObservationBatch(Space, 1);
        for (int e = 0; e < _episodeStarts.Count; e++)
        {
            int start = _episodeStarts[e], end = e + 1 < _episodeStarts.Count ? _episodeStarts[e + 1] : _actions.Count;
            for (int t = start; t < end; t++)
            {
                bool last = t == end - 1;
                current.Set(0, _observations[t]);
                next.Set(0, _observations[last ? t : t + 1]);
                accumulator.Add(replay, 0, current, 0, _actions[t], _rewards[t], next, 0, terminated: last, truncated: false);
            }
        }
    }

    /// <summary>The observations as one batch (for tensorizing).</summary>
    public ObservationBatch ToBatch()
    {
        var batch = new ObservationBatch(Space, Count);
        for (int i = 0; i < Count; i++) batch.Set(i, _observations[i]);
        return batch;
    }

    /// <summary>
    /// <paramref name="count"/> expert episodes of the environment <paramref name="makeEnv"/> builds (its
    /// <see cref="IExpertEnv"/>, found through wrappers). The expert plans on the environment's state;
    /// the stored observations are what <paramref name="makeEnv"/>'s env emits, so an env built with the
    /// agent's observation wrappers gives demonstrations in the agent's own modalities. Attempt i is seeded <c>Rng.DeriveSeed(seed, "bot", i)</c>; episodes the
    /// expert fails, or that end without success where the env reports it, are dropped. Returns the set
    /// and the attempts made; <paramref name="episodesKept"/> hears the count after each kept episode (progress).
    /// </summary>
    /// <exception cref="NotSupportedException">The environment has no expert.</exception>
    public static (DemonstrationSet Set, int Attempts) FromExpert(Func<IEnv> makeEnv, ObservationSpace space, int count, ulong seed, double gamma,
        Action<int>? episodesKept = null)
    {
        using var env = makeEnv();
        var expert = Experts.For(env);
        var set = new DemonstrationSet(space);
        int attempts = 0;
        while (set.Episodes < count)
        {
            if (attempts > 2 * count + 100) throw new InvalidOperationException($"{env.Id}: the expert succeeded on only {set.Episodes} of {attempts} episodes.");
            var episode = Experts.Play(env, expert, unchecked((long)Rng.DeriveSeed(seed, "bot", attempts++)));
            if (episode is not { Success: not false }) continue;
            set.AddPlainEpisode(episode.Observations, episode.Actions, episode.Rewards, gamma);
            episodesKept?.Invoke(set.Episodes);
        }
        return (set, attempts);
    }

    /// <summary>
    /// The first <paramref name="count"/> (0 = all) complete episodes of episode logs (recorded training,
    /// <c>rlagents demos generate</c>, or <c>rlagents episodes to-sft</c>). Logs that store only
    /// observation hashes are re-simulated by <paramref name="replayer"/>. An agent that observes
    /// through wrappers the log does not hold (<paramref name="observe"/>, e.g. its image pipeline) gets
    /// every episode re-simulated under them, checked step by step against the log, so that its
    /// demonstrations carry exactly what it would have seen playing the logged actions.
    /// </summary>
    public static DemonstrationSet FromLogs(IEnumerable<string> paths, ObservationSpace space, int count, double gamma, Replayer replayer, Func<IEnv, IEnv>? observe = null)
    {
        var set = new DemonstrationSet(space);
        foreach (var path in paths)
        {
            var log = EpisodeLogReader.ReadAll(path);
            var header = log.Header;
            IEnv? env = null;
            ObservedReplay? observed = null;
            try
            {
                foreach (var recorded in log.Episodes)
                {
                    if (count > 0 && set.Episodes >= count) return set;
                    if (observe is not null)
                    {
                        observed ??= new ObservedReplay(replayer, header, observe);
                        Observation[] seen;
                        try
                        {
                            seen = observed.Replay(recorded);
                        }
                        catch (InvalidDataException diverged)
                        {
                            throw new InvalidDataException($"{path}: {diverged.Message}", diverged);
                        }
                        set.AddPlainEpisode(seen, recorded.Actions, recorded.Rewards, gamma, path);
                        continue;
                    }
                    var e = recorded;
                    if (header.ObservationHashes)
                    {
                        env ??= replayer.CreateEnvironment(header);
                        e = replayer.Regenerate(env, header, recorded);
                    }
                    var plain = new ObservationSpace([.. header.Modalities.Select(m => m.ToModality())]);
                    var steps = new Observation[e.Length];
                    for (int t = 0; t < e.Length; t++)
                    {
                        steps[t] = new Observation(plain);
                        for (int m = 0; m < e.Observations.Length; m++) e.Observations[m].CopyTo(t, steps[t], m);
                    }
                    set.AddPlainEpisode(steps, e.Actions, e.Rewards, gamma, path);
                }
            }
            finally
            {
                env?.Dispose();
                observed?.Dispose();
            }
        }
        return set;
    }

    /// <summary>
    /// Adds an episode of plain environment observations (as an env without the memory wrapper emits
    /// them): modalities are matched by name to this set's space, and with memory each step also
    /// carries the previous steps of its episode, as the wrapped env would give them.
    /// </summary>
    public void AddPlainEpisode(IReadOnlyList<Observation> observations, IReadOnlyList<int> actions, IReadOnlyList<double> rewards, double gamma, string? source = null)
    {
        var steps = new Observation[observations.Count];
        for (int t = 0; t < steps.Length; t++)
        {
            var from = observations[t];
            var obs = new Observation(Space);
            for (int m = 0; m < Space.Count; m++)
            {
                var mod = Space[m];
                if (_memory is not null && _memory.IsMemory(m)) continue;
                if (!from.Space.TryGetIndex(mod.Name, out int i) || from.Space[i].Storage != mod.Storage || from.Space[i].Size != mod.Size)
                    throw new InvalidDataException($"{source ?? "demonstration"}: modality '{mod.Name}' ({mod.Space}) of the agent's observations is missing or differs; the episode has {from.Space}.");
                CopyModality(from, i, obs, m);
            }
            steps[t] = obs;
        }
        _memory?.FillEpisode(steps);
        AddEpisode(steps, actions, rewards, gamma);
    }

    private static void CopyModality(Observation from, int i, Observation to, int m)
    {
        switch (to.Space[m].Storage)
        {
            case ModalityStorage.Float32: from.Floats(i).CopyTo(to.Floats(m)); break;
            case ModalityStorage.UInt8: from.Bytes(i).CopyTo(to.Bytes(m)); break;
            case ModalityStorage.Int32: to.SetInt(m, from.GetInt(i)); break;
            default: to.SetText(m, from.GetText(i)); break;
        }
    }

    /// <summary>
    /// DAgger (Ross, Gordon and Bagnell 2011): <paramref name="episodes"/> episodes in which <paramref name="policy"/> acts
    /// (sampling) and the environment's expert labels every state the agent reaches with the action it would take there,
    /// so that cloning learns to recover from the agent's own mistakes, which expert demonstrations never show. At each
    /// step the expert's action is the one applied with probability <paramref name="expertFraction"/> (DAgger's β), the
    /// agent's otherwise; the expert hears the applied action whenever it differed and replans. All episodes are kept,
    /// failed ones included (their labels are the expert's); an episode in which the expert cannot act (e.g. no plan
    /// from the state the agent left) keeps the steps labelled so far. <paramref name="makeEnv"/> builds one environment
    /// emitting the agent's observations (with its memory wrapper); <paramref name="numEnvs"/> of them act as one batch.
    /// Episode k is seeded <c>Rng.DeriveSeed(seed, "dagger-env", k)</c>, the action draws use <c>"dagger-actions"</c>.
    /// </summary>
    /// <exception cref="NotSupportedException">The environment has no expert.</exception>
    public static ExpertLabelledEpisodes FromExpertLabels(Policy policy, Func<IEnv> makeEnv, int numEnvs, int episodes, double expertFraction, ulong seed, double gamma)
    {
        var space = policy.ObservationSpace;
        var set = new DemonstrationSet(space);
        int n = Math.Max(1, Math.Min(numEnvs, episodes));
        var envs = new List<IEnv>(n);
        try
        {
            for (int i = 0; i < n; i++) envs.Add(makeEnv());
            var experts = envs.Select(Experts.For).ToArray();
            int start = envs[0].ActionSpace.AsDiscrete("DAgger").Start;
            var rng = new Rng(Rng.DeriveSeed(seed, "dagger-actions"));
            var memory = RecurrentMemory.For(policy, n);
            var batch = new ObservationBatch(space, n);
            var act = new ActResult(n);
            var current = new Observation?[n];
            var observations = Enumerable.Range(0, n).Select(_ => new List<Observation>()).ToArray();
            var labels = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
            var applied = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
            var rewards = Enumerable.Range(0, n).Select(_ => new List<double>()).ToArray();
            var seeds = new long[n];
            var taken = new int?[n]; // the action applied at the slot's previous step, when it was not the expert's
            var played = new List<DaggerEpisode>();
            int begun = 0, failures = 0;
            long steps = 0, agreed = 0;

            void Begin(int i)
            {
                current[i] = null;
                taken[i] = null;
                memory?.EndEpisode(i);
                if (begun >= episodes) return;
                seeds[i] = unchecked((long)Rng.DeriveSeed(seed, "dagger-env", begun++));
                current[i] = envs[i].Reset(seeds[i]).Observation.Clone();
            }

            void Finish(int i, bool expertFailed = false)
            {
                if (labels[i].Count > 0)
                {
                    set.AddEpisode(observations[i], labels[i], rewards[i], gamma);
                    played.Add(new DaggerEpisode(seeds[i], [.. applied[i]], expertFailed));
                }
                observations[i].Clear();
                labels[i].Clear();
                applied[i].Clear();
                rewards[i].Clear();
                Begin(i);
            }

            for (int i = 0; i < n; i++) Begin(i);
            while (current.Any(o => o is not null))
            {
                // Slots whose episodes are all done keep their last observation: their rows are computed and ignored.
                for (int i = 0; i < n; i++) if (current[i] is { } o) batch.Set(i, o);
                using (var scope = NewDisposeScope())
                {
                    var input = policy.Tensorizer.ToInput(batch);
                    memory?.Attach(input, n);
                    policy.Act(input, ActionSelection.Sample, rng, act, withValues: false);
                    memory?.Commit(input);
                }
                for (int i = 0; i < n; i++)
                {
                    if (current[i] is not { } observation) continue;
                    int label;
                    try
                    {
                        label = experts[i].Act(taken[i]);
                    }
                    catch (ExpertFailedException)
                    {
                        // E.g. BabyAI's bot after the agent opened a box: it cannot know what the box held.
                        failures++;
                        Finish(i, expertFailed: true);
                        continue;
                    }
                    // One draw per step whatever β is, so that the agent's draws do not depend on it.
                    bool expertActs = rng.NextDouble() < expertFraction;
                    int action = expertActs ? label : act.Actions[i];
                    if (action == label) agreed++;
                    observations[i].Add(observation);
                    labels[i].Add(label - start);
                    applied[i].Add(action);
                    var step = envs[i].Step(action);
                    steps++;
                    rewards[i].Add(step.Reward);
                    taken[i] = action == label ? null : action;
                    if (step.Done) Finish(i);
                    else current[i] = step.Observation.Clone();
                }
            }
            return new ExpertLabelledEpisodes(set, steps, steps == 0 ? 0 : (double)agreed / steps, failures, played);
        }
        finally
        {
            foreach (var env in envs) env.Dispose();
        }
    }

    /// <summary>
    /// The set <see cref="FromExpertLabels"/> built, again, from what it played (<see cref="ExpertLabelledEpisodes.Episodes"/>):
    /// each episode is reset from its seed and driven by its applied actions while a fresh expert labels every state,
    /// hearing the applied action wherever it differed, exactly as it did then. No policy is needed, which is what lets
    /// a resumed run train on DAgger episodes its earlier weights played.
    /// </summary>
    /// <exception cref="InvalidDataException">An episode does not replay as it was played (it ends early or late, or the
    /// expert fails elsewhere): the environment is not the one that played it.</exception>
    public static DemonstrationSet ReplayExpertLabels(Func<IEnv> makeEnv, ObservationSpace space, IReadOnlyList<DaggerEpisode> episodes, double gamma, string source)
    {
        var set = new DemonstrationSet(space);
        using var env = makeEnv();
        var expert = Experts.For(env);
        int start = env.ActionSpace.AsDiscrete("DAgger").Start;
        for (int e = 0; e < episodes.Count; e++)
        {
            var (seed, applied, expertFailed) = episodes[e];
            var observation = env.Reset(seed).Observation.Clone();
            var observations = new List<Observation>(applied.Length);
            var labels = new List<int>(applied.Length);
            var rewards = new List<double>(applied.Length);
            int? taken = null;
            string Where(int t) => $"{source}: DAgger episode {e} (seed {seed}), step {t}";
            for (int t = 0; t < applied.Length; t++)
            {
                int label;
                try
                {
                    label = expert.Act(taken);
                }
                catch (ExpertFailedException failed)
                {
                    throw new InvalidDataException($"{Where(t)}: the expert could not act ({failed.Message}), which it did when the episode was played", failed);
                }
                observations.Add(observation);
                labels.Add(label - start);
                var step = env.Step(applied[t]);
                rewards.Add(step.Reward);
                taken = applied[t] == label ? null : applied[t];
                bool last = t == applied.Length - 1;
                if (step.Done != (last && !expertFailed))
                    throw new InvalidDataException($"{Where(t)}: the episode {(step.Done ? "ended" : "went on")} here, which it did not when it was played");
                observation = step.Observation.Clone();
            }
            set.AddEpisode(observations, labels, rewards, gamma);
        }
        return set;
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
        var memory = RecurrentMemory.For(policy, n);
        env.Reset(unchecked((long)Rng.DeriveSeed(seed, "own-env")));
        while (finished < episodes)
        {
            using (var scope = NewDisposeScope())
            {
                var input = policy.Tensorizer.ToInput(env.Observations);
                memory?.Attach(input, n);
                policy.Act(input, ActionSelection.Sample, rng, act, withValues: false);
                memory?.Commit(input);
            }
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
                memory?.EndEpisode(i);
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

/// <summary>What <see cref="DemonstrationSet.FromExpertLabels"/> played.</summary>
/// <param name="Set">The agent's states, each labelled with the expert's action; the rewards the applied actions earned.</param>
/// <param name="Steps">Env steps taken.</param>
/// <param name="Agreement">The fraction of steps at which the applied action was the expert's.</param>
/// <param name="ExpertFailures">Episodes cut short because the expert could not act.</param>
/// <param name="Episodes">The kept episodes, in the order they were added to <paramref name="Set"/>.</param>
public sealed record ExpertLabelledEpisodes(DemonstrationSet Set, long Steps, double Agreement, int ExpertFailures, IReadOnlyList<DaggerEpisode> Episodes);

/// <summary>One DAgger episode as played: enough to play it again (the labels follow from the states).</summary>
/// <param name="Seed">The reset seed.</param>
/// <param name="Applied">The action applied at each step (the agent's or, with DAgger's β, the expert's).</param>
/// <param name="ExpertFailed">The episode was cut because the expert could not act after its last step.</param>
public sealed record DaggerEpisode(long Seed, int[] Applied, bool ExpertFailed);
