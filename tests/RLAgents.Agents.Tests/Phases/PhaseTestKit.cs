using System.Text.Json;
using System.Text.Json.Nodes;
using RLAgents.Agents.Phases;
using RLAgents.Agents.Training;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.Policies.Multimodal;
using RLAgents.Policies.Serialization;
using static TorchSharp.torch;

namespace RLAgents.Agents.Tests.Phases;

/// <summary>Tiny phased experiments on GoToRedBallGrey and helpers to read their run directories.</summary>
internal static class PhaseTestKit
{
    public const string Level = "BabyAI-GoToRedBallGrey-v0";

    public static PhasedExperimentOptions Options(PolicyArchitecture architecture, params PhaseOptions[] phases) => new()
    {
        Name = "test",
        Seed = 5,
        Env = new EnvironmentOptions { Id = Level, NumEnvs = 4, Options = JsonDocument.Parse("""{ "includeDescription": false }""").RootElement },
        Policy = new PhasePolicyOptions
        {
            Architecture = architecture,
            Network = new Policies.PolicyOptions { HiddenSizes = [32], ShareStateEstimator = true },
            Multimodal = new MultimodalOptions { Backbone = new BackboneOptions { NLayer = 1, NHead = 2, NEmbd = 16, BlockSize = 80 }, MaxTextTokens = 8 },
        },
        Phases = phases,
        Training = new PhaseTrainingOptions { LogInterval = 0, EvalEpisodes = 4 },
    };

    public static PhaseOptions Ppo(long steps, string[]? trainable = null, double klAnchor = 0) => new()
    {
        Kind = PhaseKind.Ppo,
        Steps = steps,
        Ppo = new Algorithms.PpoOptions { RolloutSteps = 16, Minibatches = 2, Epochs = 1 },
        Trainable = trainable,
        KlAnchor = klAnchor,
    };

    public static PhaseOptions Sft(int botEpisodes, int updates, int ownEpisodes = 0) => new()
    {
        Kind = PhaseKind.Sft,
        Sft = new SftOptions { BotEpisodes = botEpisodes, OwnEpisodes = ownEpisodes, Updates = updates, BatchSize = 32 },
    };

    public static List<JsonObject> Rows(string runDirectory) =>
        File.ReadAllLines(Path.Combine(runDirectory, PhaseRunner.MetricsFile)).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    /// <summary>The policy tensors of a run's latest checkpoint, as float arrays by name.</summary>
    public static Dictionary<string, float[]> LatestPolicy(string runDirectory)
    {
        string dir = Path.Combine(runDirectory, "checkpoints");
        string stem = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "latest.json")))!["stem"]!.GetValue<string>();
        var tensors = Safetensors.Read(Path.Combine(dir, stem + ".safetensors")).Tensors;
        var result = tensors.Where(p => p.Key.StartsWith("policy.", StringComparison.Ordinal))
            .ToDictionary(p => p.Key["policy.".Length..], p => p.Value.to_type(ScalarType.Float32).data<float>().ToArray());
        foreach (var t in tensors.Values) t.Dispose();
        return result;
    }

    public static string TempDirectory() => Path.Combine(Path.GetTempPath(), "rlagents-phases-" + Guid.NewGuid().ToString("N"));
}
