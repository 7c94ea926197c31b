using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Collection;
using RLAgents.Agents.Losses;
using RLAgents.Agents.Phases;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;
using RLAgents.EpisodeLogs;
using RLAgents.Policies;

namespace RLAgents.Agents.Training;

/// <summary>Builds environments, policies and algorithms from an <see cref="ExperimentOptions"/>.</summary>
public static class AgentFactory
{
    /// <summary>The registry: built-ins plus the experiment's plug-in, if any. An unknown id or a plug-in that does not load is a configuration error naming the key.</summary>
    public static (EnvRegistry Registry, EnvRegistration Registration) Resolve(ExperimentOptions options)
    {
        var registry = EnvRegistry.CreateDefault();
        try
        {
            var registration = options.Env.Plugin is { } plugin ? registry.LoadPlugin(plugin) : registry.Resolve(options.Env.Id);
            return (registry, registration);
        }
        catch (KeyNotFoundException e)
        {
            throw new ConfigurationException("env.id", e.Message);
        }
        catch (EnvPluginException e)
        {
            throw new ConfigurationException("env.plugin", e.Message);
        }
    }

    /// <summary>
    /// Settles what the experiment's environment section leaves to the env: a plug-in run takes the plug-in's own id
    /// (config files, headers and logs name it), and <c>batched</c> vectorization of an env without a batched
    /// implementation (every plug-in) falls back to <c>sync</c>, said through <paramref name="notice"/>. Idempotent.
    /// </summary>
    public static void ResolveEnvironment(ExperimentOptions options, Action<string>? notice = null)
    {
        var (_, registration) = Resolve(options);
        if (options.Env.Plugin is not null) options.Env.Id = registration.Id.ToString();
        if (options.Env.Vectorization == VectorizationMode.Batched && registration.CreateBatched is null)
        {
            options.Env.Vectorization = VectorizationMode.Sync;
            notice?.Invoke($"env.vectorization: {registration.Id} has no batched implementation; stepping its envs with sync vectorization");
        }
    }

    /// <summary>
    /// <paramref name="numEnvs"/> environments of the experiment in same-step autoreset mode; with
    /// <paramref name="recorders"/>, each sub-environment (time limit and statistics included, as
    /// replay rebuilds them) is wrapped by that group's episode recorder. For <paramref name="evaluation"/> the
    /// rewards are the environment's own (no <c>env.normalizeReward</c>): evaluations report real returns.
    /// </summary>
    public static IVectorEnv MakeEnv(ExperimentOptions options, int numEnvs, EpisodeRecorderGroup? recorders = null, bool evaluation = false)
    {
        var env = MakeEnvWithoutMemory(options, numEnvs, recorders, evaluation);
        // Memory wraps outside the recorders: episode logs keep the plain observations that replay re-simulates.
        return options.Env.Memory.Steps > 0 ? WithMemory(env, options.Env.Memory) : env;
    }

    private static IVectorEnv WithMemory(IVectorEnv env, ObservationHistoryOptions memory)
    {
        try
        {
            return new ObservationHistoryVectorEnv(env, memory);
        }
        catch
        {
            env.Dispose();
            throw;
        }
    }

    private static IVectorEnv MakeEnvWithoutMemory(ExperimentOptions options, int numEnvs, EpisodeRecorderGroup? recorders, bool evaluation)
    {
        var (registry, registration) = Resolve(options);
        object? envOptions = EnvOptions(options, registration);
        string id = registration.Id.ToString();
        var images = options.Env.Images;
        var control = evaluation ? options.Env.Control with { NormalizeReward = null } : options.Env.Control;
        if (recorders is null && images.IsEmpty && control.IsEmpty)
            return VectorEnvs.Make(registry, id, numEnvs, AutoresetMode.SameStep, options.Env.Vectorization, envOptions, options.Env.MaxEpisodeSteps);
        // Image, action and normalisation wrappers sit outside each recorder: the log keeps what the environment
        // emits and receives, which replay re-simulates.
        IEnv Single(int slot)
        {
            var env = registry.Make(id, envOptions, options.Env.MaxEpisodeSteps);
            return control.Wrap(images.Wrap(recorders is null ? env : recorders.Wrap(env, slot)));
        }
        return options.Env.Vectorization switch
        {
            VectorizationMode.Sync => new SyncVectorEnv(Single, numEnvs, AutoresetMode.SameStep),
            VectorizationMode.Threaded => new ThreadedVectorEnv(Single, numEnvs, AutoresetMode.SameStep),
            _ => throw new ConfigurationException("env.vectorization", recorders is null
                ? "image, action and normalisation wrappers (pixels, grayscale, resize, frameStack, clipAction, rescaleAction, normalizeObservation, normalizeReward) wrap each environment; use sync or threaded vectorization"
                : "recording needs sync or threaded vectorization (a batched env has no per-episode hook)"),
        };
    }

    /// <summary>
    /// One environment as the experiment's policy sees it: <see cref="MakeSingleEnv"/> and, when <c>env.memory</c> is set,
    /// the observation history wrapper (no recorder). Its observations are what a served or exported policy reads.
    /// </summary>
    public static IEnv MakeActingEnv(ExperimentOptions options)
    {
        var env = MakeSingleEnv(options);
        if (options.Env.Memory.Steps == 0) return env;
        try
        {
            return new ObservationHistory(env, options.Env.Memory);
        }
        catch
        {
            env.Dispose();
            throw;
        }
    }

    /// <summary>
    /// One environment of the experiment as the agent sees it (time limit and image observation
    /// wrappers included; no memory wrapper, no recorder): expert demonstrations are played on it.
    /// </summary>
    public static IEnv MakeSingleEnv(ExperimentOptions options)
    {
        var (registry, registration) = Resolve(options);
        return options.Env.Control.Wrap(options.Env.Images.Wrap(registry.Make(registration.Id.ToString(), EnvOptions(options, registration), options.Env.MaxEpisodeSteps)));
    }

    /// <summary>The closed vocabulary of the experiment env's text (its <see cref="ITextVocabulary"/>), or null when it declares none.</summary>
    public static IReadOnlyList<string>? TextVocabulary(ExperimentOptions options)
    {
        using var env = MakeSingleEnv(options);
        return env.Find<ITextVocabulary>()?.TextVocabulary;
    }

    /// <summary>
    /// Opens the run's episode log for <see cref="ExperimentOptions.Recording"/>: a new log, or on resume the
    /// existing one (see <see cref="EpisodeLogWriter.Append"/>): damaged bytes set aside, a torn tail cut off, and
    /// with <paramref name="keepBytes"/> the episodes written after the resumed checkpoint removed; <paramref name="repair"/> says what changed.
    /// </summary>
    public static EpisodeLogWriter OpenEpisodeLog(ExperimentOptions options, string path, bool append, out EpisodeLogRepair? repair, long? keepBytes = null)
    {
        var recording = options.Recording ?? throw new InvalidOperationException("The experiment records nothing.");
        recording.Validate();
        var (registry, registration) = Resolve(options);
        using var sample = registry.Make(registration.Id.ToString(), EnvOptions(options, registration), options.Env.MaxEpisodeSteps);
        var header = EpisodeLogHeader.For(sample, recording, EnvOptions(options, registration), plugin: options.Env.Plugin);
        repair = null;
        return append
            ? EpisodeLogWriter.Append(path, header, out repair, recording.DurableFlush, keepBytes)
            : EpisodeLogWriter.Create(path, header, recording.DurableFlush);
    }

    private static object? EnvOptions(ExperimentOptions options, EnvRegistration registration) =>
        options.Env.Options is { } json && json.ValueKind != System.Text.Json.JsonValueKind.Null
            ? OptionsBinder.Bind(json, registration.OptionsType, "env.options")
            : null;

    /// <summary>
    /// The agent of <paramref name="options"/> for a vector env's spaces, its weights drawn from <c>DeriveSeed(seed, "policy")</c>
    /// (the same weights whichever phase it starts with).
    /// </summary>
    public static Agent CreateAgent(ExperimentOptions options, IVectorEnv env) =>
        CreateAgent(options, env.SingleObservationSpace, env.SingleActionSpace);

    /// <summary>The agent of <paramref name="options"/> for the given spaces, its weights drawn from <c>DeriveSeed(seed, "policy")</c>.</summary>
    public static Agent CreateAgent(ExperimentOptions options, ObservationSpace observations, Space actions) =>
        new(options, observations, actions, TextVocabulary(options), new Rng(Rng.DeriveSeed(unchecked((ulong)options.Seed), "policy")));

    /// <summary>
    /// Demonstrations for a phase in the layout of <paramref name="space"/>: <paramref name="expertEpisodes"/> successful
    /// episodes of the experiment env's expert (attempts seeded from <paramref name="seed"/>) and the first
    /// <paramref name="fileEpisodes"/> (0 = all) episodes of the log <paramref name="file"/>. <paramref name="expertEpisodesKept"/>
    /// hears the count of expert episodes kept so far (progress).
    /// </summary>
    public static DemonstrationSet LoadDemonstrations(ExperimentOptions options, ObservationSpace space, int expertEpisodes, string? file, int fileEpisodes, ulong seed, double gamma,
        Action<int>? expertEpisodesKept = null)
    {
        var data = new DemonstrationSet(space);
        if (expertEpisodes > 0) data.AddAll(DemonstrationSet.FromExpert(() => MakeSingleEnv(options), space, expertEpisodes, seed, gamma, expertEpisodesKept).Set);
        if (file is not null)
        {
            // Logs hold what the environment emitted; the agent sees it through the image sections (env.pixels …).
            var images = options.Env.Images;
            data.AddAll(DemonstrationSet.FromLogs([file], space, fileEpisodes, gamma, new Replayer(Resolve(options).Registry), images.IsEmpty ? null : images.Wrap));
        }
        return data;
    }

    /// <summary>
    /// The RL algorithm of <paramref name="phase"/> on <paramref name="agent"/>'s policy over <paramref name="env"/>.
    /// Seeds derive from the run seed and the phase index: <c>collector</c> (action draws), <c>learner</c>
    /// (minibatches, replay sampling), <c>env</c> (episode starts). With a reference policy and a KL anchor,
    /// the anchor joins the loss.
    /// </summary>
    public static IAlgorithm CreateAlgorithm(ExperimentOptions options, PhaseOptions phase, int phaseIndex, Agent agent, IVectorEnv env)
    {
        ulong seed = unchecked((ulong)options.Seed);
        long envSeed = unchecked((long)Rng.DeriveSeed(seed, "env", phaseIndex));
        return CreateAlgorithm(options, phase, phaseIndex, agent, RolloutCollector.Started(env, agent.Policy, CollectorRng(options, phaseIndex), envSeed));
    }

    /// <summary>The generator of a phase's action draws in the learner's process: <c>DeriveSeed(seed, "collector", phase)</c>.</summary>
    public static Rng CollectorRng(ExperimentOptions options, int phaseIndex) => new(Rng.DeriveSeed(unchecked((ulong)options.Seed), "collector", phaseIndex));

    /// <summary>
    /// The RL algorithm of <paramref name="phase"/> on <paramref name="agent"/>'s policy, fed by <paramref name="source"/>
    /// (a local collector or a distributed one; the algorithm owns it). The learner's generator derives from
    /// <c>DeriveSeed(seed, "learner", phase)</c>; SAC's and TD3's critics' weights from <c>DeriveSeed(seed, "critics", phase)</c>;
    /// DQfD demonstrations from <c>DeriveSeed(seed, "dqfd-demos", phase)</c>.
    /// </summary>
    public static IAlgorithm CreateAlgorithm(ExperimentOptions options, PhaseOptions phase, int phaseIndex, Agent agent, IExperienceSource source)
    {
        ulong seed = unchecked((ulong)options.Seed);
        var learnerRng = new Rng(Rng.DeriveSeed(seed, "learner", phaseIndex));
        try
        {
            if (phase.Kind == AlgorithmKind.Dqn)
            {
                var d = phase.Dqn.Demonstrations;
                if (!d.Enabled) return new Dqn((QNetworkPolicy)agent.Policy, source, phase.Dqn, learnerRng);
                var demonstrations = LoadDemonstrations(options, source.ObservationSpace, d.ExpertEpisodes, d.DemonstrationsFile, d.FileEpisodes,
                    Rng.DeriveSeed(seed, "dqfd-demos", phaseIndex), phase.Dqn.Gamma);
                return new Dqn((QNetworkPolicy)agent.Policy, source, phase.Dqn, learnerRng,
                    d.MarginWeight > 0 ? [(new LargeMarginLoss(d.Margin), d.MarginWeight)] : null, demonstrations);
            }
            var criticRng = new Rng(Rng.DeriveSeed(seed, "critics", phaseIndex));
            if (phase.Kind == AlgorithmKind.Sac)
                return new Sac((ContinuousActor)agent.Policy, options.Policy, agent.Estimators, source, phase.Sac, learnerRng, criticRng);
            if (phase.Kind == AlgorithmKind.Td3)
                return new Td3((ContinuousActor)agent.Policy, options.Policy, agent.Estimators, source, phase.Td3, learnerRng, criticRng);
            var extra = new List<(ILossTerm, double)>();
            if (phase.KlAnchor > 0 && agent.Reference is { } reference) extra.Add((new KlAnchorLoss(reference), phase.KlAnchor));
            var (settings, loss) = phase.Kind switch
            {
                AlgorithmKind.Ppo => Ppo.Configure(phase.Ppo, extra),
                AlgorithmKind.A2c => A2c.Configure(phase.A2c, extra),
                AlgorithmKind.Reinforce => Reinforce.Configure(phase.Reinforce, extra),
                _ => throw new ArgumentException($"{phase.Kind} is not an RL algorithm.", nameof(phase)),
            };
            return new OnPolicyAlgorithm((ActorCriticPolicy)agent.Policy, source, settings, loss, learnerRng);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }
}
