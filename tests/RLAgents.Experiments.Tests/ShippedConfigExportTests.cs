using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Policies.Export;
using RLAgents.Policies.Tests.Export;

namespace RLAgents.Experiments.Tests;

/// <summary>
/// Every config in experiments/configs: its policy (weights from its seed, perturbed so logits have real
/// gaps, as trained ones do) exports to ONNX, and ONNX Runtime matches TorchSharp on 1,000 observations of
/// the config's own env (memory wrapper included): max |Δ| of logits/Q-values and values ≤ 1e-5, identical greedy actions.
/// </summary>
public sealed class ShippedConfigExportTests
{
    /// <summary>
    /// Configs whose encoders have no ONNX twin yet (pixel encoders and the pretrained MiniLM/ResNet18 encoders, merged
    /// after the exporter): their export must fail in one line naming the module instead.
    /// </summary>
    private static readonly Dictionary<string, string> NotYetExportable = new(StringComparer.Ordinal)
    {
        ["babyai-gotolocal-pixels-sft-ppo.json"] = "actor.encoders.0 (RLAgents.Policies.Multimodal.PatchTokenEncoder) cannot be exported to ONNX",
        ["babyai-gotoredballgrey-pixels-sft-ppo.json"] = "actor.encoders.0 (RLAgents.Policies.Multimodal.PatchTokenEncoder) cannot be exported to ONNX",
        ["babyai-gotoredballgrey-pixels-cnn-sft-ppo.json"] = "actor.encoders.0 (RLAgents.Policies.Encoding.NatureCnnEncoder) cannot be exported to ONNX",
        ["babyai-gotolocal-pixels-cnn-sft-ppo.json"] = "actor.encoders.0 (RLAgents.Policies.Encoding.NatureCnnEncoder) cannot be exported to ONNX",
        ["babyai-gotoredballgrey-pixels-resnet18-sft.json"] = "actor.encoders.0 (RLAgents.Policies.Encoding.PretrainedImageEncoder) cannot be exported to ONNX",
        ["babyai-gotolocal-sft-ppo-minilm-frozen.json"] = "actor.text (RLAgents.Policies.Multimodal.PretrainedTextTokens) cannot be exported to ONNX",
        ["babyai-gotolocal-sft-ppo-minilm-lora.json"] = "actor.text (RLAgents.Policies.Multimodal.PretrainedTextTokens) cannot be exported to ONNX",
    };

    // pretrain-*.json configure language-model pretraining (rlagents pretrain), not an agent.
    public static TheoryData<string> Configs() =>
        new(Directory.GetFiles(Path.Combine(CliRunner.RepoRoot, "experiments", "configs"), "*.json").Select(f => Path.GetFileName(f)!)
            .Where(f => !f.StartsWith("pretrain-", StringComparison.Ordinal)).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Configs))]
    public void EachShippedConfigsPolicyMatchesOnnxRuntimeOnAThousandObservationsOfItsEnv(string config)
    {
        var experiment = OptionsBinder.BindFile<ExperimentOptions>(Path.Combine(CliRunner.RepoRoot, "experiments", "configs", config), []);
        // Configs name the shipped backbone from the repository root, where rlagents runs them.
        var backbone = experiment.Policy.Multimodal.Backbone;
        if (backbone.Checkpoint is { } folder) backbone.Checkpoint = Path.Combine(CliRunner.RepoRoot, folder);
        using var env = AgentFactory.MakeActingEnv(experiment);
        var batch = RandomObservations.Collect(env, 1000, 41);
        using var agent = AgentFactory.CreateAgent(experiment, env.ObservationSpace, env.ActionSpace);
        if (env.ActionSpace is not DiscreteSpace)
        {
            // Continuous heads have no exported form yet: refused in one line naming the action space, nothing written.
            var refused = Assert.Throws<LanguageModel.Onnx.OnnxExportException>(() => ExportTestKit.AssertParity(agent.Policy, batch));
            Assert.StartsWith($"action space {env.ActionSpace} cannot be exported to ONNX", refused.Message);
            return;
        }
        ExportTestKit.Perturb(agent.Policy, 7);
        if (NotYetExportable.TryGetValue(config, out var expected))
        {
            var e = Assert.Throws<LanguageModel.Onnx.OnnxExportException>(() => ExportTestKit.AssertParity(agent.Policy, batch));
            Assert.StartsWith(expected, e.Message);
            Assert.DoesNotContain('\n', e.Message);
            return;
        }
        var export = ExportTestKit.AssertParity(agent.Policy, batch);
        // One input per modality, named as the modality (and a recurrent policy's memory after them).
        var names = Enumerable.Range(0, env.ObservationSpace.Count).Select(m => env.ObservationSpace[m].Name);
        if (export.Info.MemorySize > 0) names = names.Append(OnnxPolicyInfo.MemoryInput);
        Assert.Equal(names, export.Model.Graph!.Inputs.Select(i => i.Name));
    }
}
