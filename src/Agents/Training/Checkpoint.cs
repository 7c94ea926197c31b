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
/// <param name="RecentSuccesses">The rolling window of training successes (envs that report success), oldest first.</param>
/// <param name="NextLog">Env step of the next metrics row in the current RL phase.</param>
/// <param name="NextEval">Env step of the next evaluation in the current RL phase.</param>
/// <param name="NextCheckpoint">Env step of the next checkpoint in the current RL phase.</param>
/// <param name="Evaluations">Evaluations done (their seeds derive from this count).</param>
/// <param name="Updates">Gradient updates over the whole run (RL and SFT).</param>
/// <param name="SolvedAtStep">First env step at which the rolling return reached the stop threshold, if it did.</param>
/// <param name="Curriculum">Where the task curriculum stands (<c>env.curriculum</c>), once an RL phase has started one.</param>
public sealed record RunnerState(double[] RecentReturns, bool[] RecentSuccesses, long NextLog, long NextEval, long NextCheckpoint, long Evaluations, long Updates, long? SolvedAtStep,
    CurriculumState? Curriculum = null);

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
public sealed record RunState(int FormatVersion, int Phase, long EnvSteps, long EnvEpisodes, long Demonstrations, double Seconds,
    AlgorithmState? Algorithm, bool HasReference, PhaseResult[] Completed, bool Stopped, RunnerState Runner, JsonElement Experiment)
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
    /// <paramref name="saveReplay"/> is given; older ones are deleted), then the tensors, the state and the
    /// <c>latest.json</c> pointer, each atomically. Returns the weights path.
    /// </summary>
    public static string Write(string runDirectory, string id, IEnumerable<(string Name, Tensor Tensor)> tensors, RunState state, Action<Stream>? saveReplay = null)
    {
        string dir = Path.Combine(runDirectory, Folder);
        Directory.CreateDirectory(dir);
        string weights = Path.Combine(dir, id + ".safetensors");
        if (saveReplay is not null)
        {
            // latest.json never names a checkpoint without its replay file; only the newest is kept (buffers can be large).
            string replay = Path.Combine(dir, id + ReplayExtension);
            AtomicFile.Write(replay, saveReplay);
            foreach (var old in Directory.EnumerateFiles(dir, "*" + ReplayExtension))
                if (!string.Equals(Path.GetFullPath(old), Path.GetFullPath(replay), StringComparison.Ordinal)) File.Delete(old);
        }
        Safetensors.Write(weights, tensors, new Dictionary<string, string> { ["format"] = $"rlagents-run-{Format}" });
        AtomicFile.WriteText(Path.Combine(dir, id + ".json"), JsonSerializer.Serialize(state, Json));
        AtomicFile.WriteText(Path.Combine(dir, "latest.json"),
            new JsonObject { ["format"] = Format, ["id"] = id, ["phase"] = state.Phase, ["step"] = state.EnvSteps }.ToJsonString());
        return weights;
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
        RunState state;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(statePath));
            if (!doc.RootElement.TryGetProperty("formatVersion", out var version) || version.ValueKind != JsonValueKind.Number || version.GetInt32() != Format)
                throw new RunFormatException($"{statePath}: checkpoint written by an earlier RLAgents (run format {(doc.RootElement.TryGetProperty("formatVersion", out var v) ? v.ToString() : "1")}); this build reads run format {Format}");
            state = doc.RootElement.Deserialize<RunState>(Json) ?? throw new RunFormatException($"{statePath}: empty checkpoint state");
        }
        catch (JsonException e)
        {
            throw new RunFormatException($"{statePath}: malformed checkpoint state at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {e.Message}");
        }
        var experiment = OptionsBinder.Bind<ExperimentOptions>(state.Experiment, "experiment");
        var tensors = Safetensors.Read(weights).Tensors;
        return new Checkpoint(weights, state, experiment, tensors);
    }

    /// <summary>
    /// The run format of <paramref name="runDirectory"/> when it is not this build's, as one line (null when it is, or
    /// when the directory holds no checkpoint yet).
    /// </summary>
    public static string? ForeignFormat(string runDirectory)
    {
        string latest = Path.Combine(runDirectory, Folder, "latest.json");
        if (!File.Exists(latest)) return null;
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(latest));
        }
        catch (JsonException e)
        {
            return $"{latest} is damaged (byte {e.BytePositionInLine + 1} of line {e.LineNumber + 1}: {e.Message.Split('.')[0]})";
        }
        if (node?["format"]?.GetValue<int>() == Format && node["id"] is not null) return null;
        string writer = node?["stem"] is not null ? "the phased runner" : node?["weights"] is not null ? "the single-phase runner" : "an unknown writer";
        return $"'{runDirectory}' was written by an earlier RLAgents ({writer}, run format 1); this build reads run format {Format}: start a new run";
    }

    private static string ResolveWeights(string path)
    {
        if (Directory.Exists(path))
        {
            if (ForeignFormat(path) is { } foreign) throw new RunFormatException(foreign);
            string latest = Path.Combine(path, Folder, "latest.json");
            if (!File.Exists(latest)) throw new RunFormatException($"'{path}' holds no checkpoint (no {Folder}/latest.json)");
            string id = JsonNode.Parse(File.ReadAllText(latest))!["id"]!.GetValue<string>();
            return Path.Combine(path, Folder, id + ".safetensors");
        }
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) path = Path.ChangeExtension(path, ".safetensors");
        if (!File.Exists(path)) throw new RunFormatException($"checkpoint '{path}' does not exist");
        return path;
    }
}
