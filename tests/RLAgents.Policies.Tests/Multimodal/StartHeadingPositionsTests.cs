using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.Wrappers;
using RLAgents.Policies.Multimodal;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests.Multimodal;

public sealed class StartHeadingPositionsTests
{
    private static MultimodalOptions With(FusionMode fusion, string? heading = "direction") => new()
    {
        Fusion = fusion,
        Backbone = new BackboneOptions { NLayer = 1, NHead = 2, NEmbd = 16, BlockSize = 128 },
        MaxTextTokens = 8,
        FusionHiddenSizes = [24],
        StartHeading = heading,
    };

    private static ObservationHistory Env(bool anchored = true, string[]? modalities = null) =>
        new(BabyAILevels.Make("BabyAI-PickupLoc-v0", new GridWorldOptions { IncludeDescription = false }),
            new ObservationHistoryOptions { Steps = 3, Modalities = modalities ?? ["image", "direction"], Anchored = anchored });

    /// <summary>
    /// Observations along one episode that turns left, left, right, left, left, left (the heading's turn since the start
    /// after each: 0, 3, 2, 3, 2, 1, 0), then the first observation of the next episode, with the env's own headings.
    /// </summary>
    private static (ObservationBatch Batch, int[] Headings) Walk()
    {
        using var env = Env();
        int[] actions = [0, 0, 1, 0, 0, 0];
        var batch = new ObservationBatch(env.ObservationSpace, actions.Length + 2);
        var headings = new int[batch.Count];
        int direction = env.ObservationSpace.IndexOf("direction");
        var obs = env.Reset(41).Observation;
        for (int t = 0; t <= actions.Length; t++)
        {
            batch.Set(t, obs);
            headings[t] = obs.GetInt(direction);
            if (t < actions.Length) obs = env.Step(actions[t]).Observation;
        }
        obs = env.Reset(42).Observation;
        batch.Set(actions.Length + 1, obs);
        headings[actions.Length + 1] = obs.GetInt(direction);
        return (batch, headings);
    }

    [Fact]
    public void TheTurnIsTheHeadingsChangeSinceTheEpisodesFirstStep()
    {
        var (batch, headings) = Walk();
        var (estimator, tensorizer) = EstimatorTestKit.Build(With(FusionMode.CrossAttention), batch.Space);
        var module = estimator.modules().OfType<StartHeadingPositions>().Single();
        using var scope = NewDisposeScope();
        var turn = module.Turn(tensorizer.ToInput(batch)).data<long>().ToArray();
        for (int i = 0; i < batch.Count - 1; i++) Assert.Equal(((headings[i] - headings[0]) % 4 + 4) % 4, (int)turn[i]);
        Assert.Equal([0L, 3L, 2L, 3L, 2L, 1L, 0L], turn.Take(7));
        Assert.Equal(0L, turn[^1]);   // a new episode starts unturned
    }

    [Theory]
    [InlineData(FusionMode.Early)]
    [InlineData(FusionMode.CrossAttention)]
    public void ATurnsEmbeddingReachesExactlyTheObservationsTurnedThatFar(FusionMode fusion)
    {
        var (batch, _) = Walk();
        var (estimator, tensorizer) = EstimatorTestKit.Build(With(fusion), batch.Space);
        var (plain, _) = EstimatorTestKit.Build(With(fusion, heading: null), batch.Space);
        // A new agent's embedding is zero: it starts as the agent without it (the same weights otherwise).
        var before = EstimatorTestKit.State(estimator, tensorizer, batch);
        Assert.Equal(EstimatorTestKit.State(plain, tensorizer, batch), before);
        var table = estimator.named_parameters().Single(p => p.name.EndsWith("table", StringComparison.Ordinal)).parameter;
        Assert.Equal([4L, 49L, 16L], table.shape);
        using (no_grad()) table[2].copy_(randn(49, 16, generator: manual_seed(3)));
        var after = EstimatorTestKit.State(estimator, tensorizer, batch);
        int width = estimator.StateSize;
        bool[] turnedTwice = [false, false, true, false, true, false, false, false];
        for (int i = 0; i < batch.Count; i++)
        {
            bool changed = Enumerable.Range(i * width, width).Any(j => Math.Abs(after[j] - before[j]) > 1e-5);
            Assert.Equal(turnedTwice[i], changed);
        }
    }

    [Fact]
    public void TheEmbeddingTrainsAndExportsToOnnxAsTorchComputesIt()
    {
        var (batch, _) = Walk();
        var (estimator, tensorizer) = EstimatorTestKit.Build(With(FusionMode.CrossAttention), batch.Space);
        var table = estimator.named_parameters().Single(p => p.name.EndsWith("table", StringComparison.Ordinal)).parameter;
        using (var scope = NewDisposeScope())
        {
            estimator.forward(tensorizer.ToInput(batch)).square().sum().backward();
            Assert.NotNull(table.grad);
            Assert.True(table.grad!.abs().sum().item<float>() > 0);
            // The walk holds every turn (0, 3, 2, 1), and each row of the table learns from the observations turned that far.
            var rows = Enumerable.Range(0, 4).Select(r => table.grad![r].abs().sum().item<float>() > 0).ToArray();
            Assert.Equal([true, true, true, true], rows);
        }
        var policyOptions = new PolicyOptions { Architecture = PolicyArchitecture.Transformer, Multimodal = With(FusionMode.CrossAttention) };
        var factory = new MultimodalStateEstimatorFactory(policyOptions.Multimodal, EstimatorTestKit.Tokenizer);
        using var policy = new ActorCriticPolicy(batch.Space, new DiscreteSpace(7), policyOptions, factory, new Rng(11));
        Export.ExportTestKit.Perturb(policy, 5);   // every weight, the turn table's zeros included
        var export = Export.ExportTestKit.AssertParity(policy, batch);
        Assert.Contains(export.Model.Graph!.Nodes, n => n.OpType == "Mod");
    }

    [Fact]
    public void BadChoicesNameTheKey()
    {
        using var anchored = Env();
        var error = Assert.Throws<ConfigurationException>(() => EstimatorTestKit.Build(With(FusionMode.CrossAttention, "heading"), anchored.ObservationSpace));
        Assert.Contains("policy.multimodal.startHeading", error.Message);
        Assert.Contains("no modality 'heading'", error.Message);
        error = Assert.Throws<ConfigurationException>(() => EstimatorTestKit.Build(With(FusionMode.CrossAttention, "image"), anchored.ObservationSpace));
        Assert.Contains("must be a discrete modality", error.Message);
        using var recent = Env(anchored: false);
        error = Assert.Throws<ConfigurationException>(() => EstimatorTestKit.Build(With(FusionMode.CrossAttention), recent.ObservationSpace));
        Assert.Contains("anchored", error.Message);
        using var imageOnly = Env(modalities: ["image"]);
        error = Assert.Throws<ConfigurationException>(() => EstimatorTestKit.Build(With(FusionMode.CrossAttention), imageOnly.ObservationSpace));
        Assert.Contains("not kept in env.memory.modalities", error.Message);
        error = Assert.Throws<ConfigurationException>(() => EstimatorTestKit.Build(With(FusionMode.Late), anchored.ObservationSpace));
        Assert.Contains("startHeading", error.Message);
    }
}
