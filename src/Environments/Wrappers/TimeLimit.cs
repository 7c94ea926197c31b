namespace RLAgents.Environments.Wrappers;

/// <summary>
/// Truncates an episode after <see cref="MaxEpisodeSteps"/> steps: the only source of
/// truncation. As in Gymnasium, the limiting step reports <c>Truncated = true</c> even when it
/// also terminates.
/// </summary>
public sealed class TimeLimit : Wrapper
{
    /// <summary>Wraps <paramref name="inner"/> with a limit of <paramref name="maxEpisodeSteps"/> steps.</summary>
    public TimeLimit(IEnv inner, int maxEpisodeSteps) : base(inner)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEpisodeSteps, 1);
        MaxEpisodeSteps = maxEpisodeSteps;
    }

    /// <summary>Steps after which the episode is truncated.</summary>
    public int MaxEpisodeSteps { get; }

    /// <summary>Steps taken in the current episode.</summary>
    public int ElapsedSteps { get; private set; }

    /// <inheritdoc />
    protected override ResetResult ResetCore(long? seed)
    {
        ElapsedSteps = 0;
        return Inner.Reset(seed);
    }

    /// <inheritdoc />
    protected override StepResult AfterStep(StepResult r) =>
        ++ElapsedSteps >= MaxEpisodeSteps ? r with { Truncated = true } : r;
}
