using System.Globalization;
using RLAgents.Environments;
using RLAgents.Environments.GridWorld.Demonstrations;

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
/// Turns logged episodes into the demonstrations the supervised phase reads: the JSON Lines
/// format of <see cref="DemonstrationFormat"/> (<c>rlagents-demos-v1</c>), one episode per line,
/// with the image, direction, mission and (when logged) description the agent saw before each
/// action. Logs recorded with observation hashes are re-simulated to regenerate the observations.
/// </summary>
public sealed class SftExporter
{
    private readonly Replayer _replayer;

    /// <summary>Creates an exporter; <paramref name="replayer"/> rebuilds envs for hash-mode logs (null = default registry).</summary>
    public SftExporter(Replayer? replayer = null) => _replayer = replayer ?? new Replayer();

    /// <summary>Writes the episodes of <paramref name="logs"/> that pass <paramref name="filter"/> to <paramref name="output"/>.</summary>
    /// <exception cref="InvalidOperationException">A log lacks the image, direction or mission modality, or has no seed for an episode.</exception>
    public ExportSummary Export(IEnumerable<string> logs, string output, EpisodeFilter? filter = null)
    {
        filter ??= new EpisodeFilter();
        int written = 0, skipped = 0, steps = 0;
        var damaged = new List<EpisodeLogDamage>();
        string temp = output + ".tmp";
        using (var writer = DemonstrationWriter.Create(temp))
        {
            foreach (var path in logs)
            {
                var log = EpisodeLogReader.ReadAll(path);
                if (log.Damage is not null) damaged.Add(log.Damage);
                var h = log.Header;
                foreach (var name in new[] { "image", "direction", "mission" })
                    if (h.Modalities.All(m => m.Name != name))
                        throw new InvalidOperationException($"{path}: {h.EnvId} has no '{name}' modality; demonstrations need image, direction and mission (GridWorld levels).");
                bool hasDescription = h.Modalities.Any(m => m.Name == "description");
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
                        writer.Write(ToDemonstration(h.EnvId, e, hasDescription, path));
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
        File.Move(temp, output, overwrite: true);
        return new ExportSummary(output, written, skipped, steps, damaged);
    }

    private static Demonstration ToDemonstration(string envId, RecordedEpisode e, bool hasDescription, string path)
    {
        var seed = e.Seed ?? throw new InvalidOperationException($"{path}: episode {e.Index} was started from a start state, not a seed; demonstrations replay from seeds.");
        var image = e.Modality("image");
        var dir = e.Modality("direction");
        int size = image.Layout.Size;
        return new Demonstration
        {
            EnvId = envId,
            Seed = seed,
            Mission = e.Modality("mission").Texts![0],
            Actions = e.Actions,
            Images = Enumerable.Range(0, e.Length).Select(t => image.Bytes.AsSpan(t * size, size).ToArray()).ToArray(),
            Directions = dir.Ints![..e.Length],
            Rewards = e.Rewards,
            Descriptions = hasDescription ? e.Modality("description").Texts![..e.Length] : null,
            Success = e.Success == true,
        };
    }
}
