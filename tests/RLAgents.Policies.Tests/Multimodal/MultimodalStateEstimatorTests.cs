using RLAgents.Environments;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Model;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Multimodal;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests.Multimodal;

public sealed class MultimodalStateEstimatorTests
{
    private static readonly MultimodalOptions Tiny = new()
    {
        Backbone = new BackboneOptions { NLayer = 1, NHead = 2, NEmbd = 16, BlockSize = 128 },
        MaxTextTokens = 8,
        FusionHiddenSizes = [24],
    };

    private static MultimodalOptions With(FusionMode fusion, int maxTokens = 8, FineTuneMode fineTune = FineTuneMode.Full) => new()
    {
        Fusion = fusion,
        Backbone = new BackboneOptions { NLayer = 1, NHead = 2, NEmbd = 16, BlockSize = 128, FineTune = fineTune },
        MaxTextTokens = maxTokens,
        FusionHiddenSizes = Tiny.FusionHiddenSizes,
    };

    /// <summary>Observations of GoToLocal (image, direction, mission, description) from <paramref name="count"/> seeds.</summary>
    private static ObservationBatch Observations(int count, bool description = true)
    {
        using var env = BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { IncludeDescription = description });
        var batch = new ObservationBatch(env.ObservationSpace, count);
        for (int i = 0; i < count; i++) batch.Set(i, env.Reset(100 + i).Observation);
        return batch;
    }

    [Theory]
    [InlineData(FusionMode.Early, 16)]
    [InlineData(FusionMode.Late, 24)]
    [InlineData(FusionMode.CrossAttention, 16)]
    public void EachFusionModeGivesAStatePerObservationAndTheHeadsTheirShapes(FusionMode fusion, int stateSize)
    {
        var batch = Observations(3);
        var space = batch.Space;
        var options = With(fusion);
        var estimator = EstimatorTestKit.Build(options, space).Estimator;
        Assert.Equal(stateSize, estimator.StateSize);
        var factory = new MultimodalStateEstimatorFactory(options, EstimatorTestKit.Tokenizer);
        var actions = new DiscreteSpace(7);
        using var ac = new ActorCriticPolicy(space, actions, new PolicyOptions { ShareStateEstimator = true }, factory, new Rng(1));
        using var q = new QNetworkPolicy(space, actions, new PolicyOptions(), factory, new Rng(1));
        using var scope = NewDisposeScope();
        var input = ac.Tensorizer.ToInput(batch);
        Assert.Equal([3L, 8L], input[space.IndexOf("mission")].shape);
        Assert.Equal([3L, 7L], ac.Logits(input).shape);
        Assert.Equal([3L], ac.Value(input).shape);
        Assert.Equal([3L, 7L], q.QValues(input).shape);
        Assert.True(ac.Logits(input).isfinite().all().item<bool>());
    }

    [Theory]
    [InlineData(FusionMode.Early)]
    [InlineData(FusionMode.Late)]
    [InlineData(FusionMode.CrossAttention)]
    public void PaddingTokensDoNotChangeTheState(FusionMode fusion)
    {
        var batch = Observations(4);
        string[] descriptions = ["You see a red ball 2 steps forward.", "You see nothing.", "You see a wall 1 step forward. You carry a blue key.", "You see a grey box 1 step left."];
        descriptions.CopyTo(batch.Texts(batch.Space.IndexOf("description")), 0);
        var (shortPad, t1) = EstimatorTestKit.Build(With(fusion, maxTokens: 16), batch.Space);
        var (longPad, t2) = EstimatorTestKit.Build(With(fusion, maxTokens: 30), batch.Space);
        // Same seed, same weights: only the number of pad positions after each text differs (every text fits in 16).
        var a = EstimatorTestKit.State(shortPad, t1, batch);
        var b = EstimatorTestKit.State(longPad, t2, batch);
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) < 1e-4, $"element {i}: {a[i]} vs {b[i]}");
    }

    [Theory]
    [InlineData(FusionMode.Early)]
    [InlineData(FusionMode.CrossAttention)]
    public void CellTextMatchingFeedsTheCellsAndTrainsThroughTheirState(FusionMode fusion)
    {
        var batch = Observations(3, description: false);
        var options = With(fusion);
        options.CellTextMatching = true;
        var (estimator, tensorizer) = EstimatorTestKit.Build(options, batch.Space);
        var plain = EstimatorTestKit.State(EstimatorTestKit.Build(With(fusion), batch.Space).Estimator, tensorizer, batch);
        var matched = EstimatorTestKit.State(estimator, tensorizer, batch);
        Assert.Equal(plain.Length, matched.Length);
        Assert.Contains(Enumerable.Range(0, plain.Length), i => Math.Abs(plain[i] - matched[i]) > 1e-4);
        // The matching parameters get gradients from the state, and a row's state follows its own mission only.
        using (var scope = NewDisposeScope())
        {
            estimator.forward(tensorizer.ToInput(batch)).square().sum().backward();
            var grads = estimator.named_parameters().Where(p => p.name.StartsWith("matching.", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(grads);
            Assert.All(grads, p => Assert.True(p.parameter.grad is { } g && g.abs().sum().item<float>() > 0, p.name));
        }
        int mission = batch.Space.IndexOf("mission");
        batch.Texts(mission)[0] = batch.Texts(mission)[0] == "go to the purple key" ? "go to the yellow ball" : "go to the purple key";
        var after = EstimatorTestKit.State(estimator, tensorizer, batch);
        int d = estimator.StateSize;
        Assert.Contains(Enumerable.Range(0, d), i => Math.Abs(matched[i] - after[i]) > 1e-4);
        Assert.All(Enumerable.Range(d, 2 * d), i => Assert.Equal(matched[i], after[i], 5));
    }

    [Fact]
    public void CellTextMatchingNeedsCellsThatMeetTheText()
    {
        var batch = Observations(1, description: false);
        var late = With(FusionMode.Late);
        late.CellTextMatching = true;
        var error = Assert.Throws<Environments.Configuration.ConfigurationException>(() => EstimatorTestKit.Build(late, batch.Space));
        Assert.Contains("cellTextMatching", error.Message);
        var noText = new ObservationSpace(batch.Space.Modalities.Where(m => m.Space is not TextSpace).ToArray());
        var cross = With(FusionMode.Early);
        cross.CellTextMatching = true;
        error = Assert.Throws<Environments.Configuration.ConfigurationException>(() => EstimatorTestKit.Build(cross, noText));
        Assert.Contains("needs a text modality", error.Message);
        var rolesAlone = With(FusionMode.CrossAttention);
        rolesAlone.CellTextRoles = true;
        error = Assert.Throws<Environments.Configuration.ConfigurationException>(() => EstimatorTestKit.Build(rolesAlone, batch.Space));
        Assert.Contains("cellTextRoles", error.Message);
    }

    [Fact]
    public void AttentionIsBidirectionalSoTheLeadingClsTokenReadsTextThatFollowsIt()
    {
        var batch = Observations(2, description: false);
        var (estimator, tensorizer) = EstimatorTestKit.Build(With(FusionMode.Early), batch.Space);
        var before = EstimatorTestKit.State(estimator, tensorizer, batch);
        int mission = batch.Space.IndexOf("mission");
        batch.Texts(mission)[0] = "go to the purple key";
        batch.Texts(mission)[1] = batch.Texts(mission)[1];
        var after = EstimatorTestKit.State(estimator, tensorizer, batch);
        int d = estimator.StateSize;
        // Row 0's mission changed (it sits after the CLS token): its state must move; row 1's must not.
        Assert.Contains(Enumerable.Range(0, d), i => Math.Abs(before[i] - after[i]) > 1e-4);
        Assert.All(Enumerable.Range(d, d), i => Assert.Equal(before[i], after[i], 5));
    }

    [Fact]
    public void TextBecomesPaddedTokenIdsOfTheBackboneTokenizer()
    {
        var factory = new MultimodalStateEstimatorFactory(Tiny, EstimatorTestKit.Tokenizer);
        var tensorizer = new TokenIdTensorizer(factory.Tokenizer!, 6);
        using var ids = tensorizer.ToTensor(["go to the red ball", "open the door on your left now go"]);
        var data = ids.data<long>().ToArray();
        var expected = factory.Tokenizer!.Encode("go to the red ball");
        Assert.Equal(expected.Select(i => (long)i), data.Take(5));
        Assert.Equal(factory.Tokenizer!.Special.Pad, data[5]);
        Assert.DoesNotContain(data.Skip(6), v => v == factory.Tokenizer!.Special.Pad); // cut after 6 tokens
        Assert.DoesNotContain(data, v => v == factory.Tokenizer.Special.Unk);
    }

    [Fact]
    public void FrozenBackboneKeepsItsWeightsWhileEncodersAndHeadsLearn()
    {
        var batch = Observations(4);
        var factory = new MultimodalStateEstimatorFactory(With(FusionMode.Early, fineTune: FineTuneMode.Frozen), EstimatorTestKit.Tokenizer);
        using var policy = new ActorCriticPolicy(batch.Space, new DiscreteSpace(7), new PolicyOptions { ShareStateEstimator = true }, factory, new Rng(3));
        var trainable = ParameterGroups.Trainable(policy).ToList();
        Assert.DoesNotContain(trainable, n => n.Contains(".backbone.", StringComparison.Ordinal));
        Assert.Contains("policy_head.weight", trainable);
        Assert.Contains(trainable, n => n.Contains("encoders", StringComparison.Ordinal));
        var (backboneBefore, headBefore) = Snapshot(policy);
        TrainOneStep(policy, batch);
        var (backboneAfter, headAfter) = Snapshot(policy);
        Assert.Equal(backboneBefore, backboneAfter);
        Assert.NotEqual(headBefore, headAfter);
    }

    [Fact]
    public void LoraTrainsOnlyAdaptersInTheBackboneAndStartsFromTheSameOutputs()
    {
        var batch = Observations(3);
        var (full, tFull) = EstimatorTestKit.Build(With(FusionMode.Early), batch.Space);
        var (lora, tLora) = EstimatorTestKit.Build(With(FusionMode.Early, fineTune: FineTuneMode.Lora), batch.Space);
        var a = EstimatorTestKit.State(full, tFull, batch);
        var b = EstimatorTestKit.State(lora, tLora, batch);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 4); // B = 0 at init
        var backboneTrainable = ParameterGroups.Trainable(lora.Backbone).ToList();
        Assert.NotEmpty(backboneTrainable);
        Assert.All(backboneTrainable, n => Assert.Contains(".lora_", n));
        Assert.Equal(2 * lora.Backbone.Projections().Count(), backboneTrainable.Count);
    }

    [Fact]
    public void ParameterGroupsPartitionThePolicyAndApplySetsRequiresGrad()
    {
        var batch = Observations(2);
        var factory = new MultimodalStateEstimatorFactory(With(FusionMode.CrossAttention, fineTune: FineTuneMode.Lora), EstimatorTestKit.Tokenizer);
        using var policy = new ActorCriticPolicy(batch.Space, new DiscreteSpace(7), new PolicyOptions { ShareStateEstimator = true }, factory, new Rng(3));
        var names = policy.named_parameters().Select(p => p.name).ToList();
        foreach (var name in names)
            Assert.Equal(1, new[] { "backbone", "adapters", "encoders", "heads" }.Count(g => ParameterGroups.Contains(g, name)));
        ParameterGroups.Apply(policy, ["heads", "adapters"]);
        var trainable = ParameterGroups.Trainable(policy).ToHashSet();
        Assert.Equal(names.Where(n => n.StartsWith("policy_head") || n.StartsWith("value_head") || n.Contains(".lora_")).ToHashSet(), trainable);
    }

    [Fact]
    public void APretrainingCheckpointInitialisesTheBackboneAndATooShortBlockSizeIsAClearError()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path;
        var tokenizer = TextTokenizers.ForVocabulary(GridWorldVocabulary.Words);
        var config = new GptConfig { VocabSize = tokenizer.VocabSize, BlockSize = 96, NLayer = 1, NHead = 2, NEmbd = 16 };
        using (var pretrained = new GptModel(config, seed: 42))
        {
            ModelWeights.Save(pretrained, Path.Combine(dir, "model.safetensors"));
            config.Save(Path.Combine(dir, "config.json"));
            tokenizer.Save(dir);
        }
        var space = GridWorldEnv.CreateObservationSpace(includeDescription: false);
        var options = new MultimodalOptions { Backbone = new BackboneOptions { Checkpoint = dir }, MaxTextTokens = 8 };
        var estimator = (MultimodalStateEstimator)new MultimodalStateEstimatorFactory(options, EstimatorTestKit.Tokenizer).Create(space, new Rng(9));
        using var reference = new GptModel(config, seed: 42);
        using var scope = NewDisposeScope();
        Assert.True(reference.TokenEmbeddingWeight.allclose(estimator.Backbone.TokenEmbeddingWeight, rtol: 0, atol: 0));

        var tooLong = new MultimodalOptions { Backbone = new BackboneOptions { Checkpoint = dir }, MaxTextTokens = 64 };
        var error = Assert.Throws<Environments.Configuration.ConfigurationException>(() => new MultimodalStateEstimatorFactory(tooLong, EstimatorTestKit.Tokenizer).Create(space, new Rng(9)));
        Assert.Contains("blockSize is 96", error.Message);
        var missing = Assert.Throws<DirectoryNotFoundException>(() => new MultimodalStateEstimatorFactory(
            new MultimodalOptions { Backbone = new BackboneOptions { Checkpoint = Path.Combine(dir, "nope") } }, EstimatorTestKit.Tokenizer));
        Assert.Contains("backbone.checkpoint", missing.Message);
    }

    [Fact]
    public void ActingRepeatedlyKeepsTheLiveTensorCountFlat()
    {
        var batch = Observations(4);
        var factory = new MultimodalStateEstimatorFactory(With(FusionMode.CrossAttention), EstimatorTestKit.Tokenizer);
        using var policy = new ActorCriticPolicy(batch.Space, new DiscreteSpace(7), new PolicyOptions { ShareStateEstimator = true }, factory, new Rng(5));
        EstimatorTestKit.ActingKeepsLiveTensorsFlat(policy, batch);
    }

    private static (float[] Backbone, float[] Head) Snapshot(ActorCriticPolicy policy)
    {
        var p = policy.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        return (p.Where(x => x.Key.Contains(".backbone.")).SelectMany(x => x.Value.data<float>().ToArray()).ToArray(),
            p["policy_head.weight"].data<float>().ToArray());
    }

    private static void TrainOneStep(ActorCriticPolicy policy, ObservationBatch batch)
    {
        using var scope = NewDisposeScope();
        var trainable = policy.parameters().Where(p => p.requires_grad).ToList();
        using var optimizer = optim.Adam(trainable, 0.01);
        var input = policy.Tensorizer.ToInput(batch);
        var loss = policy.Logits(input).log_softmax(-1).select(1, 2).mean().neg().add(policy.Value(input).square().mean());
        loss.backward();
        optimizer.step();
    }
}
