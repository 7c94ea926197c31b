using System.Text.Json;
using System.Text.Json.Nodes;
using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Phases;
using RLAgents.Agents.Training;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.Policies;
using RLAgents.Policies.Multimodal;
using static TorchSharp.torch;

namespace RLAgents.Agents.Tests.Phases;

/// <summary>Tiny schedules on GoToRedBallGrey and helpers to read their run directories.</summary>
internal static class PhaseTestKit
{
    public const string Level = "BabyAI-GoToRedBallGrey-v0";

    public static ExperimentOptions Options(PolicyArchitecture architecture, params PhaseOptions[] phases) => new()
    {
        Name = "test",
        Seed = 5,
        Env = new EnvironmentOptions { Id = Level, NumEnvs = 4, Options = JsonDocument.Parse("""{ "includeDescription": false }""").RootElement },
        Policy = new PolicyOptions
        {
            Architecture = architecture,
            HiddenSizes = [32],
            ShareStateEstimator = true,
            Multimodal = new MultimodalOptions { Backbone = new BackboneOptions { NLayer = 1, NHead = 2, NEmbd = 16, BlockSize = 80 }, MaxTextTokens = 8 },
        },
        Phases = phases,
        Training = new TrainingOptions { LogInterval = 0, EvalInterval = 0, CheckpointInterval = 0, EvalEpisodes = 4, GreedyEvaluation = false },
    };

    public static PhaseOptions Ppo(long steps, string[]? trainable = null, double klAnchor = 0) => new()
    {
        Kind = AlgorithmKind.Ppo,
        Steps = steps,
        Ppo = new PpoOptions { RolloutSteps = 16, Minibatches = 2, Epochs = 1 },
        Trainable = trainable,
        KlAnchor = klAnchor,
    };

    public static PhaseOptions Sft(int expertEpisodes, int updates, int ownEpisodes = 0) => new()
    {
        Kind = AlgorithmKind.Sft,
        Sft = new SftOptions { ExpertEpisodes = expertEpisodes, OwnEpisodes = ownEpisodes, Updates = updates, BatchSize = 32 },
    };

    public static List<JsonObject> Rows(string runDirectory) =>
        File.ReadAllLines(Path.Combine(runDirectory, TrainingRunner.MetricsFile)).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    /// <summary>The policy tensors of a run's latest checkpoint, as float arrays by name.</summary>
    public static Dictionary<string, float[]> LatestPolicy(string runDirectory)
    {
        var checkpoint = Checkpoint.Load(runDirectory);
        var result = checkpoint.Tensors.Where(p => p.Key.StartsWith("policy.", StringComparison.Ordinal))
            .ToDictionary(p => p.Key["policy.".Length..], p => p.Value.to_type(ScalarType.Float32).data<float>().ToArray());
        checkpoint.DisposeTensors();
        return result;
    }

    /// <summary>Recreates the run directory as it was when checkpoint <paramref name="id"/> was the latest.</summary>
    public static void CopyRunUpTo(string source, string destination, string id)
    {
        Directory.CreateDirectory(Path.Combine(destination, Checkpoint.Folder));
        foreach (var file in new[] { TrainingRunner.ConfigFile, TrainingRunner.RunInfoFile, TrainingRunner.MetricsFile })
            File.Copy(Path.Combine(source, file), Path.Combine(destination, file));
        foreach (var ext in new[] { ".json", ".safetensors" })
            File.Copy(Path.Combine(source, Checkpoint.Folder, id + ext), Path.Combine(destination, Checkpoint.Folder, id + ext));
        File.WriteAllText(Path.Combine(destination, Checkpoint.Folder, "latest.json"), $$"""{"format":{{Checkpoint.Format}},"id":"{{id}}"}""");
    }
}
