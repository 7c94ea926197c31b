namespace RLAgents.Environments;

/// <summary>Observations an env produces under uniformly random actions (any action space): inputs for parity checks and benchmarks of policies.</summary>
public static class RandomObservations
{
    /// <summary>
    /// <paramref name="count"/> successive observations of <paramref name="env"/> (reset with <paramref name="seed"/>),
    /// actions drawn uniformly from a generator seeded by it; an episode that ends restarts without a seed.
    /// </summary>
    public static ObservationBatch Collect(IEnv env, int count, ulong seed)
    {
        var batch = new ObservationBatch(env.ObservationSpace, count);
        var rng = new Rng(seed);
        var layout = env.ActionSpace.ActionLayout;
        var discrete = new int[layout.DiscreteCount];
        var continuous = new float[layout.ContinuousCount];
        var observation = env.Reset(unchecked((long)seed)).Observation;
        for (int i = 0; i < count; i++)
        {
            batch.Set(i, observation);
            layout.Sample(rng, discrete, continuous);
            var step = env.Step(new EnvAction(discrete, continuous));
            observation = step.Done ? env.Reset().Observation : step.Observation;
        }
        return batch;
    }
}
