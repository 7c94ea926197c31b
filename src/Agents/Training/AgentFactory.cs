using RLAgents.Agents.Algorithms;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.EpisodeLogs;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;
using RLAgents.Policies;

namespace RLAgents.Agents.Training;

/// <summary>Builds environments, policies and algorithms from an <see cref="ExperimentOptions"/>.</summary>
public static class AgentFactory
{
    /// <summary>The registry: built-ins plus the experiment's plug-in, if any.</summary>
    public static (EnvRegistry Registry, EnvRegistration Registration) Resolve(ExperimentOptions options)
    {
        var registry = EnvRegistry.CreateDefault();
        var registration = options.Env.Plugin is { } plugin ? registry.LoadPlugin(plugin) : registry.Resolve(options.Env.Id);
        return (registry, registration);
    }

    /// <summary>
    /// <paramref name="numEnvs"/> environments of the experiment in same-step autoreset mode; with
    /// <paramref name="recorders"/>, each sub-environment (time limit and statistics included, as
    /// replay rebuilds them) is wrapped by that group's episode recorder.
    /// </summary>
    public static IVectorEnv MakeEnv(ExperimentOptions options, int numEnvs, EpisodeRecorderGroup? recorders = null)
    {
        var env = MakeEnvWithoutMemory(options, numEnvs, recorders);
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

    private static IVectorEnv MakeEnvWithoutMemory(ExperimentOptions options, int numEnvs, EpisodeRecorderGroup? recorders)
    {
        var (registry, registration) = Resolve(options);
        object? envOptions = EnvOptions(options, registration);
        string id = registration.Id.ToString();
        if (recorders is null)
            return VectorEnvs.Make(registry, id, numEnvs, AutoresetMode.SameStep, options.Env.Vectorization, envOptions, options.Env.MaxEpisodeSteps);
        IEnv Recorded(int slot) => recorders.Wrap(registry.Make(id, envOptions, options.Env.MaxEpisodeSteps), slot);
        return options.Env.Vectorization switch
        {
            VectorizationMode.Sync => new SyncVectorEnv(Recorded, numEnvs, AutoresetMode.SameStep),
            VectorizationMode.Threaded => new ThreadedVectorEnv(Recorded, numEnvs, AutoresetMode.SameStep),
            _ => throw new ConfigurationException("env.vectorization", "recording needs sync or threaded vectorization (a batched env has no per-episode hook)"),
        };
    }

    /// <summary>
    /// Opens the run's episode log for <see cref="ExperimentOptions.Recording"/>: a new log, or on
    /// resume the existing one with any torn tail (from a killed process) cut off.
    /// </summary>
    public static EpisodeLogWriter OpenEpisodeLog(ExperimentOptions options, string path, bool append)
    {
        var recording = options.Recording ?? throw new InvalidOperationException("The experiment records nothing.");
        recording.Validate();
        var (registry, registration) = Resolve(options);
        using var sample = registry.Make(registration.Id.ToString(), EnvOptions(options, registration), options.Env.MaxEpisodeSteps);
        var header = EpisodeLogHeader.For(sample, recording, EnvOptions(options, registration), plugin: options.Env.Plugin);
        return append
            ? EpisodeLogWriter.Append(path, header, out _, recording.DurableFlush)
            : EpisodeLogWriter.Create(path, header, recording.DurableFlush);
    }

    private static object? EnvOptions(ExperimentOptions options, EnvRegistration registration) =>
        options.Env.Options is { } json && json.ValueKind != System.Text.Json.JsonValueKind.Null
            ? OptionsBinder.Bind(json, registration.OptionsType, "env.options")
            : null;

    /// <summary>The policy the algorithm trains: a Q-network for DQN, an actor-critic otherwise.</summary>
    public static Policy CreatePolicy(ExperimentOptions options, ObservationSpace observations, DiscreteSpace actions, Rng rng) =>
        options.Algorithm.Kind == AlgorithmKind.Dqn
            ? new QNetworkPolicy(observations, actions, options.Policy, rng)
            : new ActorCriticPolicy(observations, actions, options.Policy, rng);

    /// <summary>
    /// The algorithm with a fresh policy, every seed derived from <see cref="ExperimentOptions.Seed"/>:
    /// <c>policy</c> (weights), <c>collector</c> (action draws), <c>learner</c> (minibatches, replay), <c>env</c>.
    /// </summary>
    public static IAlgorithm CreateAlgorithm(ExperimentOptions options, IVectorEnv env)
    {
        ulong seed = unchecked((ulong)options.Seed);
        var policy = CreatePolicy(options, env.SingleObservationSpace, env.SingleActionSpace.AsDiscrete("The policy heads (categorical, Q-value)"), new Rng(Rng.DeriveSeed(seed, "policy")));
        var collectorRng = new Rng(Rng.DeriveSeed(seed, "collector"));
        var learnerRng = new Rng(Rng.DeriveSeed(seed, "learner"));
        long envSeed = unchecked((long)Rng.DeriveSeed(seed, "env"));
        var a = options.Algorithm;
        switch (a.Kind)
        {
            case AlgorithmKind.Dqn:
                return new Dqn((QNetworkPolicy)policy, env, a.Dqn, collectorRng, learnerRng, envSeed);
            default:
                var (settings, loss) = a.Kind switch
                {
                    AlgorithmKind.Ppo => Ppo.Configure(a.Ppo),
                    AlgorithmKind.A2c => A2c.Configure(a.A2c),
                    _ => Reinforce.Configure(a.Reinforce),
                };
                return new OnPolicyAlgorithm((ActorCriticPolicy)policy, env, settings, loss, collectorRng, learnerRng, envSeed);
        }
    }
}
