using RLAgents.Environments;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Agents.Training;

/// <summary>
/// The running statistics of an experiment's normalisation wrappers (<c>env.normalizeObservation</c>,
/// <c>env.normalizeReward</c>), one entry per training environment: what checkpoints save, so that a
/// resumed run continues the same scaling and an evaluation or an exported policy sees observations
/// normalised as in training.
/// </summary>
/// <param name="Observations">Per env, per modality: the observation moments (null for non-float modalities); empty without <c>normalizeObservation</c>.</param>
/// <param name="Rewards">Per env: the return moments and the discounted return so far; empty without <c>normalizeReward</c>.</param>
public sealed record NormalizationStatistics(RunningMeanStdState?[][] Observations, NormalizeRewardState[] Rewards)
{
    /// <summary>The statistics of <paramref name="env"/>'s sub-environments, or null when it has no normalisation wrapper.</summary>
    public static NormalizationStatistics? Capture(IVectorEnv env)
    {
        var observations = VectorEnvs.FindAll<NormalizeObservation>(env);
        var rewards = VectorEnvs.FindAll<NormalizeReward>(env);
        if (observations.Count == 0 && rewards.Count == 0) return null;
        return new([.. observations.Select(o => o.SaveStatistics())], [.. rewards.Select(r => r.SaveState())]);
    }

    /// <summary>
    /// Puts every sub-environment's statistics back (a resume: the same number of envs) and sets the wrappers'
    /// <c>Frozen</c> flag to <paramref name="frozen"/>. Throws <see cref="InvalidDataException"/> when the saved
    /// statistics do not fit the envs.
    /// </summary>
    public void Restore(IVectorEnv env, bool frozen = false)
    {
        var observations = VectorEnvs.FindAll<NormalizeObservation>(env);
        var rewards = VectorEnvs.FindAll<NormalizeReward>(env);
        if (observations.Count != Observations.Length || rewards.Count != Rewards.Length)
            throw new InvalidDataException($"The checkpoint holds normalisation statistics of {Observations.Length} observation and {Rewards.Length} reward wrappers; the envs have {observations.Count} and {rewards.Count}.");
        for (int i = 0; i < observations.Count; i++)
        {
            observations[i].LoadStatistics(Observations[i]);
            observations[i].Frozen = frozen;
        }
        for (int i = 0; i < rewards.Count; i++)
        {
            rewards[i].LoadState(Rewards[i]);
            rewards[i].Frozen = frozen;
        }
    }

    /// <summary>
    /// Evaluation: every observation wrapper of <paramref name="env"/> (any number of envs) gets the training envs'
    /// moments merged into one and stops updating them; reward wrappers are left alone (evaluations report the
    /// environment's own returns).
    /// </summary>
    public void ApplyFrozen(IVectorEnv env)
    {
        var observations = VectorEnvs.FindAll<NormalizeObservation>(env);
        if (observations.Count == 0 || Observations.Length == 0) return;
        int modalities = Observations[0].Length;
        var merged = new RunningMeanStdState?[modalities];
        for (int m = 0; m < modalities; m++)
        {
            if (Observations[0][m] is not { } first) continue;
            var sum = new RunningMeanStd(first.Mean.Length);
            foreach (var perEnv in Observations) sum.Merge(perEnv[m]!.Mean, perEnv[m]!.Variance, perEnv[m]!.Count);
            merged[m] = sum.Save();
        }
        foreach (var o in observations)
        {
            o.LoadStatistics(merged);
            o.Frozen = true;
        }
    }
}
