using System.Diagnostics;

namespace RLAgents.Environments.Wrappers;

/// <summary>
/// Fills <see cref="StepInfo.Episode"/> with the return, length and wall-clock seconds of the
/// episode on the step that ends it (by termination or truncation). Put it outside
/// <see cref="TimeLimit"/> so truncated episodes are counted.
/// </summary>
public sealed class RecordEpisodeStatistics : Wrapper
{
    private double _return;
    private int _length;
    private long _startTimestamp;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public RecordEpisodeStatistics(IEnv inner) : base(inner) { }

    /// <summary>Statistics of the most recently finished episode, or null before the first ends.</summary>
    public EpisodeStatistics? LastEpisode { get; private set; }

    /// <inheritdoc />
    protected override ResetResult ResetCore(long? seed)
    {
        _return = 0;
        _length = 0;
        _startTimestamp = Stopwatch.GetTimestamp();
        return Inner.Reset(seed);
    }

    /// <inheritdoc />
    protected override StepResult AfterStep(StepResult r)
    {
        _return += r.Reward;
        _length++;
        if (!r.Terminated && !r.Truncated) return r;
        var stats = new EpisodeStatistics(_return, _length, Stopwatch.GetElapsedTime(_startTimestamp).TotalSeconds);
        LastEpisode = stats;
        return r with { Info = r.Info with { Episode = stats } };
    }
}
