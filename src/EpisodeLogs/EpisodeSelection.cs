using System.Globalization;
using RLAgents.Core;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs;

/// <summary>Which episodes become training data (<c>--filter</c>).</summary>
public sealed class EpisodeFilter
{
    /// <summary>Keep only successful episodes.</summary>
    public bool SuccessOnly { get; set; }

    /// <summary>Keep only episodes whose return is at least this.</summary>
    public double? MinReturn { get; set; }

    /// <summary>Keep only these levels (env ids); empty keeps all.</summary>
    public List<string> Levels { get; set; } = [];

    /// <summary>Keep only this phase, or null for all.</summary>
    public string? Phase { get; set; }

    /// <summary>True when an episode of a log for <paramref name="level"/> passes.</summary>
    public bool Accepts(string level, RecordedEpisode e) =>
        (!SuccessOnly || e.Success == true)
        && (MinReturn is not double min || e.Return >= min)
        && (Levels.Count == 0 || Levels.Contains(level, StringComparer.Ordinal))
        && (Phase is null || string.Equals(Phase, e.Phase, StringComparison.Ordinal));

    /// <summary>
    /// Parses the command-line form: comma-separated terms <c>success</c>, <c>minReturn=X</c>,
    /// <c>level=ID</c> (repeatable), <c>phase=NAME</c>; empty text keeps everything.
    /// </summary>
    /// <exception cref="FormatException">An unknown term or a bad number, named in the message.</exception>
    public static EpisodeFilter Parse(string? text)
    {
        var f = new EpisodeFilter();
        if (string.IsNullOrWhiteSpace(text)) return f;
        foreach (var raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = raw.IndexOf('=');
            string key = eq < 0 ? raw : raw[..eq].Trim(), value = eq < 0 ? "" : raw[(eq + 1)..].Trim();
            switch (key)
            {
                case "success" when eq < 0: f.SuccessOnly = true; break;
                case "minReturn" when eq > 0:
                    f.MinReturn = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double m) ? m
                        : throw new FormatException($"--filter: minReturn='{value}' is not a number.");
                    break;
                case "level" when eq > 0: f.Levels.Add(value); break;
                case "phase" when eq > 0: f.Phase = value; break;
                default: throw new FormatException($"--filter: unknown term '{raw}' (use success, minReturn=X, level=ID, phase=NAME).");
            }
        }
        return f;
    }
}

/// <summary>What an export wrote.</summary>
/// <param name="Output">The file written.</param>
/// <param name="Episodes">Episodes written.</param>
/// <param name="Skipped">Episodes the filter rejected.</param>
/// <param name="Steps">Steps (state–action pairs) written.</param>
/// <param name="Damaged">Damage met in the inputs (their complete episodes were used).</param>
public sealed record ExportSummary(string Output, int Episodes, int Skipped, int Steps, IReadOnlyList<EpisodeLogDamage> Damaged);

/// <summary>
/// Selects logged episodes into a new episode log: the demonstrations a supervised phase reads
/// (<c>sft.demonstrationsFiles</c>). Every input must record the same environment, options and
/// observation layout. Logs recorded with observation hashes are re-simulated, so the output
/// always holds the observations. Episodes are renumbered from 0 and keep their seeds or start
/// states, so the output replays exactly. Inputs are never written to.
/// </summary>
public sealed class EpisodeSelection
{
    private readonly Replayer _replayer;

    /// <summary>Creates a selection; <paramref name="replayer"/> rebuilds envs for hash-mode logs (null = default registry).</summary>
    public EpisodeSelection(Replayer? replayer = null) => _replayer = replayer ?? new Replayer();

    /// <summary>Writes the episodes of <paramref name="logs"/> that pass <paramref name="filter"/> to <paramref name="output"/> (atomically).</summary>
    /// <exception cref="InputException">The output is one of the inputs, or the inputs record different environments or layouts.</exception>
    public ExportSummary Write(IReadOnlyList<string> logs, string output, EpisodeFilter? filter = null)
    {
        filter ??= new EpisodeFilter();
        UserPaths.EnsureNotAnInput("--out", output, logs);
        int written = 0, skipped = 0, steps = 0;
        var damaged = new List<EpisodeLogDamage>();
        string temp = output + ".tmp";
        EpisodeLogWriter? writer = null;
        EpisodeLogHeader? first = null;
        string? firstPath = null;
        try
        {
            foreach (var path in logs)
            {
                var log = EpisodeLogReader.ReadAll(path);
                damaged.AddRange(log.Damages);
                var h = log.Header;
                if (first is null)
                {
                    (first, firstPath) = (h, path);
                    writer = EpisodeLogWriter.Create(temp, WithValues(h));
                }
                else if (h.EnvId != first.EnvId || h.EnvOptionsJson != first.EnvOptionsJson || !SameLayout(h, first))
                    throw new InputException($"{path} records {h.EnvId} {h.EnvOptionsJson}, {firstPath} records {first.EnvId} {first.EnvOptionsJson}: one selection holds one environment and layout");
                IEnv? env = null;
                try
                {
                    foreach (var recorded in log.Episodes)
                    {
                        if (!filter.Accepts(h.EnvId, recorded)) { skipped++; continue; }
                        var e = recorded;
                        if (h.ObservationHashes)
                        {
                            env ??= _replayer.CreateEnvironment(h);
                            e = _replayer.Regenerate(env, h, recorded);
                        }
                        e.Index = written;
                        writer!.Write(e);
                        written++;
                        steps += e.Length;
                    }
                }
                finally
                {
                    env?.Dispose();
                }
            }
        }
        finally
        {
            writer?.Dispose();
        }
        if (writer is null) throw new InvalidOperationException("No episode logs given.");
        File.Move(temp, output, overwrite: true);
        return new ExportSummary(output, written, skipped, steps, damaged);
    }

    // Hash-mode columns become value columns (images zlib-compressed, as the recorder stores them by default).
    private static EpisodeLogHeader WithValues(EpisodeLogHeader h) => h with
    {
        Modalities = [.. h.Modalities.Select(m => m.Encoding != ObservationEncoding.Hash64 ? m
            : m with { Encoding = m.Storage == ModalityStorage.UInt8 && m.Size >= new EpisodeRecorderOptions().CompressImagesFromBytes ? ObservationEncoding.Zlib : ObservationEncoding.Raw })],
    };

    private static bool SameLayout(EpisodeLogHeader a, EpisodeLogHeader b) =>
        a.Modalities.Count == b.Modalities.Count
        && a.Modalities.Zip(b.Modalities).All(p => p.First.Name == p.Second.Name && p.First.Storage == p.Second.Storage && p.First.Shape.SequenceEqual(p.Second.Shape));
}
