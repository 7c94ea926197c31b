namespace RLAgents.LanguageModel.Training;

/// <summary>Learning-rate schedules.</summary>
public static class LearningRateSchedule
{
    /// <summary>
    /// Linear warmup from 0 to <paramref name="maxLr"/> over <paramref name="warmupSteps"/> updates
    /// (update <c>step</c>, counted from 0, uses (step+1)/warmup), then cosine decay to
    /// <paramref name="minLr"/> at <paramref name="totalSteps"/>, and <paramref name="minLr"/> after.
    /// </summary>
    public static double WarmupCosine(long step, double maxLr, double minLr, long warmupSteps, long totalSteps)
    {
        if (step < warmupSteps) return maxLr * (step + 1) / warmupSteps;
        if (step >= totalSteps) return minLr;
        double progress = (double)(step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
        return minLr + 0.5 * (1 + Math.Cos(Math.PI * progress)) * (maxLr - minLr);
    }
}
