using RLAgents.Environments;

namespace RLAgents.EpisodeLogs;

/// <summary>What differs at a divergence.</summary>
public enum DivergenceKind
{
    /// <summary>An observation modality differs (<see cref="Divergence.Modality"/> names it).</summary>
    Observation,
    /// <summary>The reward differs (compared bit for bit).</summary>
    Reward,
    /// <summary>The terminated flag differs.</summary>
    Terminated,
    /// <summary>The truncated flag differs.</summary>
    Truncated,
    /// <summary>The environment rejected the recorded action or failed while replaying.</summary>
    EnvironmentError,
    /// <summary>The episode cannot be started: it has neither seed nor a start state the env can restore.</summary>
    Unreplayable,
}

/// <summary>
/// The first point where a replay differs from its log: episode index, step, and what. Step t
/// refers to observation t (0 = the reset observation) for observations, and to transition t
/// (the action taken on observation t) for rewards, flags and errors.
/// </summary>
public sealed record Divergence(long Episode, int Step, DivergenceKind Kind, string? Modality, string Recorded, string Replayed)
{
    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        DivergenceKind.Observation => $"episode {Episode}, step {Step}, modality '{Modality}': observation differs (recorded {Recorded}, replayed {Replayed})",
        DivergenceKind.EnvironmentError or DivergenceKind.Unreplayable => $"episode {Episode}, step {Step}: {Replayed}",
        _ => $"episode {Episode}, step {Step}: {Kind.ToString().ToLowerInvariant()} differs (recorded {Recorded}, replayed {Replayed})",
    };
}

/// <summary>Outcome of replaying one episode.</summary>
/// <param name="Episode">Episode index.</param>
/// <param name="StepsReplayed">Transitions replayed before the divergence (or all of them).</param>
/// <param name="Divergence">The first divergence, or null when the replay matched exactly.</param>
public sealed record EpisodeReplayResult(long Episode, int StepsReplayed, Divergence? Divergence)
{
    /// <summary>True when every observation, reward and flag matched.</summary>
    public bool Matched => Divergence is null;
}

/// <summary>Outcome of verifying a log by replay.</summary>
/// <param name="Path">The log.</param>
/// <param name="Header">Its header.</param>
/// <param name="Episodes">One result per replayed episode, in file order.</param>
/// <param name="Damages">Damaged regions met while reading the log (their complete neighbours were replayed).</param>
public sealed record ReplayReport(string Path, EpisodeLogHeader Header, IReadOnlyList<EpisodeReplayResult> Episodes, IReadOnlyList<EpisodeLogDamage> Damages)
{
    /// <summary>The first damaged region, or null when the log is intact.</summary>
    public EpisodeLogDamage? Damage => Damages.Count > 0 ? Damages[0] : null;

    /// <summary>The first divergence in file order, or null.</summary>
    public Divergence? FirstDivergence => Episodes.FirstOrDefault(e => e.Divergence is not null)?.Divergence;

    /// <summary>Episodes that replayed exactly.</summary>
    public int Matched => Episodes.Count(e => e.Matched);

    /// <summary>True when every episode matched and the log is undamaged (exit code 0).</summary>
    public bool Success => Damage is null && Episodes.All(e => e.Matched);

    /// <summary>A one-paragraph summary for the command line.</summary>
    public string Summary()
    {
        var lines = new List<string> { $"{Path}: {Header.EnvId}, replayed {Episodes.Count} episode(s), {Matched} matched exactly." };
        if (FirstDivergence is { } d) lines.Add($"first divergence: {d}");
        lines.AddRange(Damages.Select(d => d.ToString()));
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>The environment of a log cannot be rebuilt (unknown id, other version, missing plug-in assembly, options that no longer bind).</summary>
public sealed class EpisodeLogEnvironmentException : Exception
{
    /// <summary>Creates the error with a one-line message.</summary>
    public EpisodeLogEnvironmentException(string message, Exception? inner = null) : base(message, inner) { }
}
