namespace RLAgents.Environments.Vector;

/// <summary>How the sub-environments of a vector environment are stepped.</summary>
public enum VectorizationMode
{
    /// <summary>One after another on the calling thread (<see cref="SyncVectorEnv"/>).</summary>
    Sync,
    /// <summary>Partitioned across persistent worker threads (<see cref="ThreadedVectorEnv"/>).</summary>
    Threaded,
    /// <summary>
    /// A native batched implementation (a <see cref="BatchedVectorEnv"/>) where the family registers one
    /// (<see cref="EnvRegistration.CreateBatched"/>): CartPole-v1, MountainCar-v0, MountainCarContinuous-v0, Acrobot-v1, Pendulum-v1.
    /// </summary>
    Batched,
}

/// <summary>Builds vector environments from registry ids.</summary>
public static class VectorEnvs
{
    /// <summary>
    /// <paramref name="numEnvs"/> copies of <paramref name="id"/>, each made by
    /// <see cref="EnvRegistry.Make"/> (time limit and episode statistics included).
    /// </summary>
    public static IVectorEnv Make(EnvRegistry registry, string id, int numEnvs, AutoresetMode autoresetMode,
        VectorizationMode vectorization = VectorizationMode.Sync, object? options = null, int? maxEpisodeSteps = null, int? workers = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numEnvs, 1);
        var registration = registry.Resolve(id);
        switch (vectorization)
        {
            case VectorizationMode.Sync:
                return new SyncVectorEnv(_ => registry.Make(id, options, maxEpisodeSteps), numEnvs, autoresetMode);
            case VectorizationMode.Threaded:
                return new ThreadedVectorEnv(_ => registry.Make(id, options, maxEpisodeSteps), numEnvs, autoresetMode, workers);
            case VectorizationMode.Batched:
                if (registration.CreateBatched is not { } batched)
                    throw new ArgumentException($"{registration.Id} has no batched implementation; use Sync or Threaded vectorization.", nameof(vectorization));
                options ??= registration.DefaultOptions();
                if (!registration.OptionsType.IsInstanceOfType(options))
                    throw new ArgumentException($"{registration.Id} takes options of type {registration.OptionsType.Name}, not {options.GetType().Name}.", nameof(options));
                return batched(numEnvs, autoresetMode, options, maxEpisodeSteps ?? registration.MaxEpisodeSteps);
            default:
                throw new ArgumentOutOfRangeException(nameof(vectorization), vectorization, "Unknown vectorization mode.");
        }
    }

    /// <summary>
    /// The capability <typeparamref name="T"/> of every sub-environment of <paramref name="env"/> (looking
    /// through the memory wrapper), or an empty list when the sub-environments lack it or the env is
    /// natively batched (no separate sub-environments).
    /// </summary>
    public static IReadOnlyList<T> FindAll<T>(IVectorEnv env) where T : class
    {
        while (env is Wrappers.ObservationHistoryVectorEnv memory) env = memory.Inner;
        if (env is not SubEnvVectorEnv sub) return [];
        var found = sub.Envs.Select(e => e.Find<T>()).OfType<T>().ToList();
        return found.Count == sub.Envs.Count ? found : [];
    }
}
