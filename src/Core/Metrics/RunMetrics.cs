using System.Text.Json;

namespace RLAgents.Core.Metrics;

/// <summary>
/// The one metrics pipeline of a run directory: every row goes once to <c>metrics.jsonl</c>
/// (<see cref="MetricsWriter"/>, the record of the run) and to a TensorBoard event file
/// (<see cref="TensorBoardWriter"/>, a view of it). Training runs and LM pretraining both write through it.
/// </summary>
public sealed class RunMetrics : IDisposable
{
    private readonly IMetricsSink[] _sinks;

    private RunMetrics(params IMetricsSink[] sinks) => _sinks = sinks;

    /// <summary>The metrics file of a run directory.</summary>
    public static string MetricsPath(string runDirectory) => Path.Combine(runDirectory, MetricsWriter.FileName);

    /// <summary>
    /// Starts the metrics of a new run in <paramref name="runDirectory"/> (an existing metrics.jsonl is an error);
    /// <paramref name="tensorBoard"/> false writes metrics.jsonl only.
    /// </summary>
    public static RunMetrics Create(string runDirectory, bool tensorBoard = true)
    {
        var jsonl = MetricsWriter.Create(MetricsPath(runDirectory));
        return tensorBoard ? new RunMetrics(jsonl, TensorBoardWriter.Create(runDirectory)) : new RunMetrics(jsonl);
    }

    /// <summary>
    /// Continues a run: keeps the leading rows of metrics.jsonl that <paramref name="keep"/> accepts (see
    /// <see cref="MetricsWriter.Resume(string, Func{JsonElement, bool}, out int)"/>) and rebuilds the TensorBoard
    /// view from exactly those rows (earlier event files are replaced), so both sinks again hold the same rows.
    /// <paramref name="tensorBoard"/> false removes earlier event files and writes metrics.jsonl only.
    /// </summary>
    public static RunMetrics Resume(string runDirectory, Func<JsonElement, bool> keep, bool tensorBoard = true)
    {
        var jsonl = MetricsWriter.Resume(MetricsPath(runDirectory), keep, out _, out var kept);
        foreach (string old in TensorBoardWriter.EventFiles(runDirectory).ToList()) File.Delete(old);
        if (!tensorBoard) return new RunMetrics(jsonl);
        var events = TensorBoardWriter.Create(runDirectory);
        var started = StartTime(runDirectory);
        foreach (var row in kept) events.WriteJsonRow(row, started);
        return new RunMetrics(jsonl, events);
    }

    /// <summary>Writes <paramref name="row"/> to every sink.</summary>
    public void Write(MetricsRow row)
    {
        foreach (var sink in _sinks) sink.Write(row);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var sink in _sinks) sink.Dispose();
    }

    // run.json's start time dates the rows a resume replays (their wall.time_s counts from it); the file's time otherwise.
    private static DateTimeOffset StartTime(string runDirectory)
    {
        string info = Path.Combine(runDirectory, RunInfo.FileName);
        if (File.Exists(info))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(info));
                if (doc.RootElement.TryGetProperty("started", out var s) && s.TryGetDateTimeOffset(out var started)) return started;
            }
            catch (JsonException)
            {
                // An unreadable run.json only costs the replayed rows their dates.
            }
        }
        return File.Exists(MetricsPath(runDirectory)) ? File.GetCreationTimeUtc(MetricsPath(runDirectory)) : DateTimeOffset.UtcNow;
    }
}
