using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Policies.Tests.Export;

namespace RLAgents.Experiments.Tests;

/// <summary>
/// Every config in experiments/configs: its policy (weights from its seed, perturbed so logits have real
/// gaps, as trained ones do) exports to ONNX, and ONNX Runtime matches TorchSharp on 1,000 observations of
/// the config's own env (memory wrapper included): max |Δ| of logits/Q-values and values ≤ 1e-5, identical greedy actions.
/// </summary>
public sealed class ShippedConfigExportTests
{
    public static TheoryData<string> Configs() =>
        new(Directory.GetFiles(Path.Combine(CliRunner.RepoRoot, "experiments", "configs"), "*.json").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal));

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
        using var agent = AgentFactory.CreateAgent(experiment, env.ObservationSpace, env.ActionSpace.AsDiscrete("this test"));
        ExportTestKit.Perturb(agent.Policy, 7);
        var export = ExportTestKit.AssertParity(agent.Policy, batch);
        // One input per modality, named as the modality.
        Assert.Equal(Enumerable.Range(0, env.ObservationSpace.Count).Select(m => env.ObservationSpace[m].Name), export.Model.Graph!.Inputs.Select(i => i.Name));
    }
}
