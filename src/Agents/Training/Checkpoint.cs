using RLAgents.Core;
using System.Text.Json;
using System.Text.Json.Nodes;
using RLAgents.Agents.Algorithms;
using RLAgents.Environments.Configuration;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.Policies.Serialization;
using static TorchSharp.torch;

namespace RLAgents.Agents.Training;

/// <summary>The runner's own bookkeeping, saved so a resumed run logs exactly as an uninterrupted one would.</summary>
/// <param name="Episodes">Training episodes finished.</param>
/// <param name="RecentReturns">The rolling window of training returns, oldest first.</param>
/// <param name="NextLog">Step of the next metrics row.</param>
/// <param name="NextEval">Step of the next evaluation.</param>
/// <param name="NextCheckpoint">Step of the next checkpoint.</param>
/// <param name="Evaluations">Evaluations done (their seeds derive from this count).</param>
/// <param name="SolvedAtStep">First step at which the rolling return reached the stop threshold, if it did.</param>
/// <param name="Iterations">Runner iterations since the start of training.</param>
public sealed record RunnerState(long Episodes, double[] RecentReturns, long NextLog, long NextEval, long NextCheckpoint, long Evaluations, long? SolvedAtStep, long Iterations);

/// <summary>The JSON half of a checkpoint (the tensors are in the sibling safetensors file).</summary>
/// <param name="FormatVersion">Layout version of this file.</param>
/// <param name="Step">Env steps at the checkpoint.</param>
/// <param name="Experiment">The resolved experiment options.</param>
/// <param name="Algorithm">Counters, learning rate and generator states.</param>
/// <param name="Runner">The runner's bookkeeping.</param>
public sealed record CheckpointState(int FormatVersion, long Step, JsonElement Experiment, AlgorithmState Algorithm, RunnerState Runner);

/// <summary>
/// A checkpoint on disk: <c>checkpoints/step-N.safetensors</c> (policy, target network and optimiser
/// tensors), <c>checkpoints/step-N.json</c> (state) and, for DQN, <c>checkpoints/step-N.replay</c>
/// (the replay buffer, newest checkpoint only), each written atomically, then
/// <c>checkpoints/latest.json</c> naming the newest pair.
/// </summary>
public sealed class Checkpoint
{
    private const int Format = 1;

    /// <summary>Extension of the replay-buffer file beside a checkpoint's weights.</summary>
    public const string ReplayExtension = ".replay";
    private static readonly JsonSerializerOptions Json = new(OptionsBinder.JsonOptions) { WriteIndented = true };

    private Checkpoint(string weightsPath, CheckpointState state, ExperimentOptions experiment, Dictionary<string, Tensor> tensors)
    {
        WeightsPath = weightsPath;
        State = state;
        Experiment = experiment;
        Tensors = tensors;
    }

    /// <summary>The safetensors file.</summary>
    public string WeightsPath { get; }

    /// <summary>The JSON state.</summary>
    public CheckpointState State { get; }

    /// <summary>The experiment the checkpoint belongs to.</summary>
    public ExperimentOptions Experiment { get; }

    /// <summary>The replay-buffer file saved with this checkpoint, or null when there is none.</summary>
    public string? ReplayPath => File.Exists(Path.ChangeExtension(WeightsPath, ReplayExtension)) ? Path.ChangeExtension(WeightsPath, ReplayExtension) : null;

    /// <summary>The tensors (CPU; call <see cref="DisposeTensors"/> when done).</summary>
    public Dictionary<string, Tensor> Tensors { get; }

    /// <summary>Frees the loaded tensors.</summary>
    public void DisposeTensors()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }

    /// <summary>The id (file stem) of the checkpoint of step <paramref name="step"/>: <c>step-0000000512</c>.</summary>
    public static string IdAt(long step) => $"step-{step:D10}";

    /// <summary>Writes a checkpoint of <paramref name="algorithm"/> into <paramref name="runDirectory"/>; returns the weights path.</summary>
    public static string Write(string runDirectory, ExperimentOptions experiment, IAlgorithm algorithm, RunnerState runner)
    {
        string dir = Path.Combine(runDirectory, "checkpoints");
        var algorithmState = algorithm.SaveState();
        string stem = IdAt(algorithmState.Steps);
        string weights = Path.Combine(dir, stem + ".safetensors");
        if (algorithm.CheckpointsReplay)
        {
            // The replay file comes first so latest.json never names a checkpoint without it; only
            // the newest is kept (a resume reads the newest checkpoint; buffers can be large).
            string replay = Path.Combine(dir, stem + ReplayExtension);
            AtomicFile.Write(replay, algorithm.SaveReplay);
            foreach (var old in Directory.EnumerateFiles(dir, "*" + ReplayExtension))
                if (!string.Equals(Path.GetFullPath(old), Path.GetFullPath(replay), StringComparison.Ordinal)) File.Delete(old);
        }
        Safetensors.Write(weights, algorithm.CheckpointTensors(), new Dictionary<string, string> { ["format"] = "rlagents-checkpoint-1" });
        using var doc = JsonDocument.Parse(OptionsBinder.Serialize(experiment));
        var state = new CheckpointState(Format, algorithmState.Steps, doc.RootElement.Clone(), algorithmState, runner);
        AtomicFile.WriteText(Path.Combine(dir, stem + ".json"), JsonSerializer.Serialize(state, Json));
        AtomicFile.WriteText(Path.Combine(dir, "latest.json"), new JsonObject { ["weights"] = stem + ".safetensors", ["step"] = algorithmState.Steps }.ToJsonString());
        return weights;
    }

    /// <summary>True when <paramref name="runDirectory"/> holds at least one complete checkpoint.</summary>
    public static bool Exists(string runDirectory) => File.Exists(Path.Combine(runDirectory, "checkpoints", "latest.json"));

    /// <summary>Loads a checkpoint from its safetensors path, its JSON path, or a run directory (latest).</summary>
    public static Checkpoint Load(string path)
    {
        string weights = ResolveWeights(path);
        string statePath = Path.ChangeExtension(weights, ".json");
        if (!File.Exists(statePath)) throw new FileNotFoundException($"Checkpoint state '{statePath}' is missing next to '{weights}'.");
        CheckpointState state;
        try { state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(statePath), Json) ?? throw new InvalidDataException($"{statePath}: empty checkpoint state."); }
        catch (JsonException e) { throw new InvalidDataException($"{statePath}: malformed checkpoint state at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {e.Message}"); }
        if (state.FormatVersion != Format) throw new InvalidDataException($"{statePath}: checkpoint format {state.FormatVersion} is not supported (expected {Format}).");
        var experiment = OptionsBinder.Bind<ExperimentOptions>(state.Experiment, "experiment");
        var tensors = Safetensors.Read(weights).Tensors;
        return new Checkpoint(weights, state, experiment, tensors);
    }

    private static string ResolveWeights(string path)
    {
        if (Directory.Exists(path))
        {
            string latest = Path.Combine(path, "checkpoints", "latest.json");
            if (!File.Exists(latest)) throw new FileNotFoundException($"'{path}' holds no checkpoint (no checkpoints/latest.json).");
            var name = JsonNode.Parse(File.ReadAllText(latest))?["weights"]?.GetValue<string>()
                ?? throw new InvalidDataException($"{latest}: no 'weights' entry.");
            return Path.Combine(path, "checkpoints", name);
        }
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) path = Path.ChangeExtension(path, ".safetensors");
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' does not exist.");
        return path;
    }
}
