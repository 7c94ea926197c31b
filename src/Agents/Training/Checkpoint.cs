using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RLAgents.Agents.Algorithms;
using RLAgents.Core;
using RLAgents.Environments.Configuration;
using RLAgents.LanguageModel.Checkpoints;
using static TorchSharp.torch;

namespace RLAgents.Agents.Training;

/// <summary>What one finished phase did.</summary>
/// <param name="Index">Position in the schedule (repeats included).</param>
/// <param name="Name">Label.</param>
/// <param name="Kind">The algorithm.</param>
/// <param name="EnvSteps">Env steps taken in the phase (RL steps, or own episodes played for SFT).</param>
/// <param name="EnvEpisodes">Env episodes finished in the phase.</param>
/// <param name="Demonstrations">Demonstration episodes (expert or file) the phase used.</param>
/// <param name="Seconds">Wall-clock time of the phase.</param>
/// <param name="Evaluation">The evaluation at the phase's end (mean return, success rate where the env reports it).</param>
public sealed record PhaseResult(int Index, string Name, AlgorithmKind Kind, long EnvSteps, long EnvEpisodes, long Demonstrations, double Seconds, EvaluationSummary Evaluation);

/// <summary>The figures of one evaluation that runs keep: mean return, its interquartile mean and, where the env reports it, the success rate.</summary>
/// <param name="Episodes">Episodes evaluated.</param>
/// <param name="MeanReturn">Mean undiscounted return.</param>
/// <param name="IqmReturn">Interquartile mean of the returns.</param>
/// <param name="SuccessRate">Fraction of successful episodes, or null when the env does not report success.</param>
public sealed record EvaluationSummary(int Episodes, double MeanReturn, double IqmReturn, double? SuccessRate);

/// <summary>The runner's bookkeeping, saved so a resumed run logs exactly as an uninterrupted one would.</summary>
/// <param name="RecentReturns">The rolling window of training returns, oldest first.</param>
/// <param name="RecentSuccesses">The rolling window of training successes, oldest first (null where the episode reported none).</param>
/// <param name="NextLog">Env step of the next metrics row in the current RL phase.</param>
/// <param name="NextEval">Env step of the next evaluation in the current RL phase.</param>
/// <param name="NextCheckpoint">Env step of the next checkpoint in the current RL phase.</param>
/// <param name="Evaluations">Evaluations done (their seeds derive from this count).</param>
/// <param name="Updates">Gradient updates over the whole run (RL and SFT).</param>
/// <param name="SolvedAtStep">First env step at which the rolling return reached the stop threshold, if it did.</param>
/// <param name="Row">Mid-phase: the metrics gathered since the last metrics row, which the next row averages.</param>
/// <param name="Curriculum">Where the task curriculum stands (<c>env.curriculum</c>), once an RL phase has started one.</param>
public sealed record RunnerState(double[] RecentReturns, bool?[] RecentSuccesses, long NextLog, long NextEval, long NextCheckpoint, long Evaluations, long Updates, long? SolvedAtStep,
    PartialRow? Row = null, CurriculumState? Curriculum = null);

/// <summary>The metrics of the RL iterations since the last metrics row (sums and counts per key, finished episodes' returns and lengths).</summary>
/// <param name="Sums">Per metric key: the sum of its values.</param>
/// <param name="Counts">Per metric key: how many values were summed.</param>
/// <param name="Returns">Returns of the episodes finished since the row.</param>
/// <param name="Lengths">Lengths of those episodes.</param>
public sealed record PartialRow(Dictionary<string, double> Sums, Dictionary<string, int> Counts, double[] Returns, int[] Lengths);

/// <summary>Where a run's episode log stood at a checkpoint: a resume cuts it back to <paramref name="Bytes"/> and continues the episode numbering.</summary>
/// <param name="Bytes">The log's length after the last episode written before the checkpoint.</param>
/// <param name="LastIndex">The last episode index drawn (the recorders' shared counter).</param>
public sealed record EpisodeLogPosition(long Bytes, long LastIndex);

/// <summary>
/// Training stopped on something it cannot train through: an environment broke its contract (threw, returned a value
/// outside its space, a non-finite reward), or a loss or gradient was not finite. The message is one line naming the
/// env step, the phase and the quantity; the run directory keeps its last good checkpoint.
/// </summary>
public sealed class TrainingFaultException(string message, long step, string? lastCheckpoint, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The env step at which training stopped.</summary>
    public long Step { get; } = step;

    /// <summary>The id of the last good checkpoint the run keeps, or null when none was written.</summary>
    public string? LastCheckpoint { get; } = lastCheckpoint;
}

/// <summary>Where a run stands: the JSON half of a checkpoint (its tensors are in the sibling safetensors file).</summary>
/// <param name="FormatVersion">Run format (<see cref="Checkpoint.Format"/>).</param>
/// <param name="Phase">The phase to run next, or the one running when <paramref name="Algorithm"/> is set.</param>
/// <param name="EnvSteps">Env steps so far, all phases.</param>
/// <param name="EnvEpisodes">Env episodes so far.</param>
/// <param name="Demonstrations">Demonstration episodes used so far.</param>
/// <param name="Seconds">Wall-clock seconds so far (summed over resumes).</param>
/// <param name="Algorithm">Mid-RL-phase: the algorithm's state (its tensors are in the safetensors file).</param>
/// <param name="HasReference">Whether a KL-anchor reference policy is saved (<c>reference.*</c>).</param>
/// <param name="Completed">Finished phases.</param>
/// <param name="Stopped">A stop criterion was met; nothing is left to run.</param>
/// <param name="Runner">The runner's bookkeeping.</param>
/// <param name="Experiment">The resolved experiment, so a checkpoint file alone can be evaluated.</param>
/// <param name="EpisodeLog">Where the run's episode log stood, when the run records one.</param>
/// <param name="Normalization">The training envs' normalisation statistics, when the experiment normalises observations or rewards.</param>
public sealed record RunState(int FormatVersion, int Phase, long EnvSteps, long EnvEpisodes, long Demonstrations, double Seconds,
    AlgorithmState? Algorithm, bool HasReference, PhaseResult[] Completed, bool Stopped, RunnerState Runner, JsonElement Experiment,
    EpisodeLogPosition? EpisodeLog = null, NormalizationStatistics? Normalization = null)
{
    /// <summary>True when the schedule has nothing left to run.</summary>
    public bool Finished(int scheduleLength) => Stopped || (Phase >= scheduleLength && Algorithm is null);
}

/// <summary>A run directory or checkpoint this build cannot read, named in one line.</summary>
public sealed class RunFormatException(string message) : Exception(message);

/// <summary>
/// A checkpoint on disk, one layout for every run: <c>checkpoints/&lt;id&gt;.safetensors</c> (the policy as
/// <c>policy.*</c>, the optimiser, a DQN target network, a KL reference), <c>checkpoints/&lt;id&gt;.json</c>
/// (<see cref="RunState"/>) and, for DQN, <c>checkpoints/&lt;id&gt;.replay</c> (the replay buffer, newest
/// checkpoint only), each written atomically, then <c>checkpoints/latest.json</c> naming the newest.
/// Ids are <c>phase-P-step-S</c>: the weights after S env steps, last changed by phase P (the running phase, or
/// the one that just ended); episode logs name the acting weights by the same id.
/// </summary>
public sealed class Checkpoint
{
    /// <summary>The run format this build writes and reads.</summary>
    public const int Format = 2;

    /// <summary>Folder of checkpoints in a run directory.</summary>
    public const string Folder = "checkpoints";

    /// <summary>Extension of the replay-buffer file beside a checkpoint's weights.</summary>
    public const string ReplayExtension = ".replay";

    private static readonly JsonSerializerOptions Json = new(OptionsBinder.JsonOptions) { WriteIndented = true };

    private Checkpoint(string weightsPath, RunState state, ExperimentOptions experiment, Dictionary<string, Tensor> tensors)
    {
        WeightsPath = weightsPath;
        State = state;
        Experiment = experiment;
        Tensors = tensors;
    }

    /// <summary>The safetensors file.</summary>
    public string WeightsPath { get; }

    /// <summary>The run directory the checkpoint belongs to (the parent of its <c>checkpoints</c> folder), or null for a checkpoint file kept elsewhere.</summary>
    public string? RunDirectory => Path.GetDirectoryName(Path.GetFullPath(WeightsPath)) is { } folder && Path.GetFileName(folder) == Folder ? Path.GetDirectoryName(folder) : null;

    /// <summary>The checkpoint's id (file stem).</summary>
    public string Id => Path.GetFileNameWithoutExtension(WeightsPath);

    /// <summary>The JSON state.</summary>
    public RunState State { get; }

    /// <summary>The experiment the checkpoint belongs to.</summary>
    public ExperimentOptions Experiment { get; }

    /// <summary>
    /// The experiment with <c>key.path=value</c> <paramref name="overrides"/> applied to its stored JSON, bound and
    /// validated again (e.g. <c>env.options.heldOutMode=only</c> to evaluate on held-out missions).
    /// </summary>
    public ExperimentOptions ExperimentWith(IEnumerable<string> overrides)
    {
        var root = JsonNode.Parse(State.Experiment.GetRawText())!.AsObject();
        foreach (var o in overrides) OptionsBinder.ApplyOverride(root, o);
        using var document = JsonDocument.Parse(root.ToJsonString());
        var options = OptionsBinder.Bind<ExperimentOptions>(document.RootElement, "");
        options.Validate();
        return options;
    }

    /// <summary>The replay-buffer file saved with this checkpoint, or null when there is none.</summary>
    public string? ReplayPath => File.Exists(Path.ChangeExtension(WeightsPath, ReplayExtension)) ? Path.ChangeExtension(WeightsPath, ReplayExtension) : null;

    /// <summary>The tensors (CPU; call <see cref="DisposeTensors"/> when done).</summary>
    public Dictionary<string, Tensor> Tensors { get; }

    /// <summary>Frees the loaded tensors.</summary>
    public void DisposeTensors()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }

    /// <summary>The id of the weights after <paramref name="envSteps"/> env steps, last changed by phase <paramref name="phase"/>.</summary>
    public static string IdAt(int phase, long envSteps) => $"phase-{phase:D3}-step-{envSteps:D10}";

    /// <summary>
    /// Writes a checkpoint <paramref name="id"/> into <paramref name="runDirectory"/>: the replay buffer first (when
    /// <paramref name="saveReplay"/> is given), then the tensors (whose metadata holds the CRC-32C of the state and
    /// the replay file), the state and the <c>latest.json</c> pointer, each atomically; older replay buffers are
    /// deleted last. Returns the weights path.
    /// </summary>
    public static string Write(string runDirectory, string id, IEnumerable<(string Name, Tensor Tensor)> tensors, RunState state, Action<Stream>? saveReplay = null)
    {
        string dir = Path.Combine(runDirectory, Folder);
        Directory.CreateDirectory(dir);
        string weights = Path.Combine(dir, id + ".safetensors");
        // The tensor file's metadata carries the CRC-32C of its companions, so a checkpoint is checked as a whole.
        var metadata = new Dictionary<string, string> { ["format"] = $"rlagents-run-{Format}" };
        string? replay = null;
        if (saveReplay is not null)
        {
            replay = Path.Combine(dir, id + ReplayExtension);
            AtomicFile.Write(replay, saveReplay);
            metadata[ReplayChecksumKey] = Crc32C.Format(FileChecksum(replay));
        }
        byte[] stateJson = JsonSerializer.SerializeToUtf8Bytes(state, Json);
        metadata[StateChecksumKey] = Crc32C.Format(Crc32C.Compute(stateJson));
        Safetensors.Write(weights, tensors, metadata);
        AtomicFile.Write(Path.Combine(dir, id + ".json"), s => s.Write(stateJson));
        AtomicFile.WriteText(Path.Combine(dir, "latest.json"),
            new JsonObject { ["format"] = Format, ["id"] = id, ["phase"] = state.Phase, ["step"] = state.EnvSteps }.ToJsonString());
        // Only the newest replay buffer is kept (buffers can be large), and only once latest.json names its checkpoint:
        // a process killed at any point leaves latest.json naming a checkpoint whose replay file exists.
        if (replay is not null)
            foreach (var old in Directory.EnumerateFiles(dir, "*" + ReplayExtension))
                if (!string.Equals(Path.GetFullPath(old), Path.GetFullPath(replay), StringComparison.Ordinal)) File.Delete(old);
        return weights;
    }

    /// <summary>Metadata key (in the tensor file) of the CRC-32C of the checkpoint's state JSON.</summary>
    public const string StateChecksumKey = "rlagents.state_crc32c";

    /// <summary>Metadata key (in the tensor file) of the CRC-32C of the checkpoint's replay-buffer file.</summary>
    public const string ReplayChecksumKey = "rlagents.replay_crc32c";

    private static uint FileChecksum(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var buffer = new byte[1 << 16];
        uint crc = Crc32C.Start;
        for (int n; (n = file.Read(buffer)) > 0;) crc = Crc32C.Append(crc, buffer.AsSpan(0, n));
        return Crc32C.Finish(crc);
    }

    /// <summary>True when <paramref name="runDirectory"/> holds at least one complete checkpoint.</summary>
    public static bool Exists(string runDirectory) => File.Exists(Path.Combine(runDirectory, Folder, "latest.json"));

    /// <summary>Loads a checkpoint from its safetensors path, its JSON path, or a run directory (latest).</summary>
    /// <exception cref="RunFormatException">An earlier run format, or a damaged or missing file, named in one line.</exception>
    public static Checkpoint Load(string path)
    {
        string weights = ResolveWeights(path);
        string statePath = Path.ChangeExtension(weights, ".json");
        if (!File.Exists(statePath)) throw new RunFormatException($"checkpoint state '{statePath}' is missing next to '{weights}'");
        var contents = Safetensors.Read(weights);
        try
        {
            byte[] stateBytes = File.ReadAllBytes(statePath);
            if (contents.Metadata.TryGetValue(StateChecksumKey, out string? stored) && !Matches(stored, Crc32C.Compute(stateBytes)))
                throw new RunFormatException($"{statePath} is damaged: its CRC-32C is {Crc32C.Format(Crc32C.Compute(stateBytes))}, {Path.GetFileName(weights)} records {stored}");
            string replay = Path.ChangeExtension(weights, ReplayExtension);
            // Only the newest checkpoint keeps its replay buffer: an older one (evaluated, say) has none to check.
            if (contents.Metadata.TryGetValue(ReplayChecksumKey, out string? replayStored) && File.Exists(replay))
            {
                uint actual = FileChecksum(replay);
                if (!Matches(replayStored, actual)) throw new RunFormatException($"{replay} is damaged: its CRC-32C is {Crc32C.Format(actual)}, {Path.GetFileName(weights)} records {replayStored}");
            }
            var state = ParseState(statePath, stateBytes);
            var experiment = OptionsBinder.Bind<ExperimentOptions>(state.Experiment, "experiment");
            return new Checkpoint(weights, state, experiment, contents.Tensors);
        }
        catch
        {
            contents.Dispose();
            throw;
        }
    }

    private static bool Matches(string stored, uint actual) => Crc32C.TryParse(stored, out uint expected) && expected == actual;

    private static RunState ParseState(string statePath, byte[] bytes)
    {
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            if (!doc.RootElement.TryGetProperty("formatVersion", out var version) || version.ValueKind != JsonValueKind.Number || version.GetInt32() != Format)
                throw new RunFormatException($"{statePath}: checkpoint written by an earlier RLAgents (run format {(doc.RootElement.TryGetProperty("formatVersion", out var v) ? v.ToString() : "1")}); this build reads run format {Format}");
            return doc.RootElement.Deserialize<RunState>(Json) ?? throw new RunFormatException($"{statePath}: empty checkpoint state");
        }
        catch (JsonException e)
        {
            throw new RunFormatException($"{statePath}: malformed checkpoint state at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {e.Message.Split(". ")[0]}");
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or NotSupportedException or OverflowException)
        {
            throw new RunFormatException($"{statePath}: malformed checkpoint state: {e.Message}");
        }
    }

    /// <summary>
    /// The run format of <paramref name="runDirectory"/> when it is not this build's, as one line (null when it is, or
    /// when the directory holds no checkpoint yet).
    /// </summary>
    public static string? ForeignFormat(string runDirectory)
    {
        string latest = Path.Combine(runDirectory, Folder, "latest.json");
        if (!File.Exists(latest)) return null;
        JsonObject? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(latest)) as JsonObject;
        }
        catch (JsonException e)
        {
            return $"{latest} is damaged (byte {e.BytePositionInLine + 1} of line {e.LineNumber + 1}: {e.Message.Split('.')[0]})";
        }
        if (node is null) return $"{latest} is damaged (not a JSON object)";
        if (node["format"] is JsonValue f && f.TryGetValue(out int format) && format == Format)
            return LatestId(node) is null ? $"{latest} is damaged (no checkpoint id)" : null;
        string writer = node["stem"] is not null ? "the phased runner" : node["weights"] is not null ? "the single-phase runner" : "an unknown writer";
        return $"'{runDirectory}' was written by an earlier RLAgents ({writer}, run format 1); this build reads run format {Format}: start a new run";
    }

    /// <summary>
    /// Removes what a process killed while writing left behind: temporary files of atomic writes (<c>*.tmp-*</c>) in
    /// <paramref name="runDirectory"/> and its checkpoint folder, the files of checkpoints <c>latest.json</c> never came
    /// to name (ids after it: a write cut short, which the resumed timeline writes again) and replay buffers other than
    /// the latest checkpoint's. Without <c>latest.json</c> only incomplete checkpoints go (weights without their state,
    /// or the reverse); with a damaged one, no checkpoint file is touched. Checkpoints up to the latest are kept. Call
    /// before resuming; returns the names removed.
    /// </summary>
    public static IReadOnlyList<string> RemoveAbandoned(string runDirectory)
    {
        var removed = new List<string>();
        string folder = Path.Combine(runDirectory, Folder);
        string latestPath = Path.Combine(folder, "latest.json");
        bool hasLatest = File.Exists(latestPath);
        string? latest = hasLatest && ForeignFormat(runDirectory) is null && LatestId((JsonObject)JsonNode.Parse(File.ReadAllText(latestPath))!) is { } id && IsCheckpointId(id) ? id : null;
        foreach (var dir in new[] { runDirectory, folder })
        {
            if (!Directory.Exists(dir)) continue;
            foreach (var file in Directory.EnumerateFiles(dir))
            {
                string name = Path.GetFileName(file);
                string stem = name.Split('.')[0];
                bool abandoned = name.Contains(".tmp-", StringComparison.Ordinal);
                if (!abandoned && dir == folder && IsCheckpointId(stem))
                {
                    if (latest is not null)
                        abandoned = Position(stem).CompareTo(Position(latest)) > 0 || Path.GetExtension(name) == ReplayExtension && stem != latest;
                    else if (!hasLatest)
                        abandoned = !File.Exists(Path.Combine(folder, stem + ".safetensors")) || !File.Exists(Path.Combine(folder, stem + ".json"));
                }
                if (!abandoned) continue;
                File.Delete(file);
                removed.Add(Path.GetRelativePath(runDirectory, file));
            }
        }
        return removed;
    }

    // (phase, env steps) of a checkpoint id: the order checkpoints are written in.
    private static (long Phase, long Step) Position(string id)
    {
        var parts = id.Split('-');
        return (long.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[3], CultureInfo.InvariantCulture));
    }

    private static string? LatestId(JsonObject latest) => latest["id"] is JsonValue v && v.TryGetValue(out string? id) ? id : null;

    /// <summary>True when <paramref name="id"/> has the form <see cref="IdAt"/> writes (no path separators, nothing else).</summary>
    public static bool IsCheckpointId(string id) => System.Text.RegularExpressions.Regex.IsMatch(id, @"^phase-\d{3,}-step-\d{10,}$");

    private static string ResolveWeights(string path)
    {
        if (Directory.Exists(path))
        {
            if (ForeignFormat(path) is { } foreign) throw new RunFormatException(foreign);
            string latest = Path.Combine(path, Folder, "latest.json");
            if (!File.Exists(latest)) throw new RunFormatException($"'{path}' holds no checkpoint (no {Folder}/latest.json)");
            string id = LatestId((JsonObject)JsonNode.Parse(File.ReadAllText(latest))!)!;
            if (!IsCheckpointId(id)) throw new RunFormatException($"{latest} is damaged: '{id}' is not a checkpoint id (phase-PPP-step-SSSSSSSSSS)");
            string named = Path.Combine(path, Folder, id + ".safetensors");
            if (!File.Exists(named)) throw new RunFormatException($"{latest} names checkpoint '{id}', which does not exist");
            return named;
        }
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) path = Path.ChangeExtension(path, ".safetensors");
        if (!File.Exists(path)) throw new RunFormatException($"checkpoint '{path}' does not exist");
        return path;
    }
}
