using RLAgents.Environments;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Lora;
using RLAgents.LanguageModel.Pretrained;
using RLAgents.LanguageModel.Training;
using RLAgents.Policies.Multimodal;
using RLAgents.Policies.Selection;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests.Multimodal;

/// <summary>all-MiniLM-L6-v2 read from its package once for the tests that put it into agents.</summary>
public sealed class MiniLmBase : IDisposable
{
    public PretrainedTextEncoder Encoder { get; } = PretrainedTextEncoders.Load(PretrainedTextEncoders.MiniLM, maxTokens: 16);

    public void Dispose() => Encoder.Dispose();
}

public sealed class PretrainedTextTokensTests(MiniLmBase miniLm) : IClassFixture<MiniLmBase>
{
    private static MultimodalOptions Options(FusionMode fusion, TextEncoderFineTuning fineTune, int? loraLayers = null, bool cache = true, bool matching = false) => new()
    {
        Fusion = fusion,
        Backbone = new BackboneOptions
        {
            NLayer = 1, NHead = 2, NEmbd = 16, BlockSize = 128,
            Pretrained = new PretrainedTextEncoderOptions { Name = PretrainedTextEncoders.MiniLM, FineTune = fineTune, Lora = new LoraOptions { Rank = 4 }, LoraLayers = loraLayers },
        },
        MaxTextTokens = 16,
        FusionHiddenSizes = [24],
        ActingCache = cache,
        CellTextMatching = matching,
    };

    private MultimodalStateEstimatorFactory Factory(FusionMode fusion, TextEncoderFineTuning fineTune, int? loraLayers = null, bool cache = true, bool matching = false) =>
        new(Options(fusion, fineTune, loraLayers, cache, matching), textEncoder: miniLm.Encoder);

    private ActorCriticPolicy Policy(FusionMode fusion, TextEncoderFineTuning fineTune, ulong seed = 1, int? loraLayers = null, bool cache = true, bool matching = false) =>
        new(Space, new DiscreteSpace(7), new PolicyOptions { ShareStateEstimator = true }, Factory(fusion, fineTune, loraLayers, cache, matching), new Rng(seed));

    private static ObservationSpace Space => GridWorldEnv.CreateObservationSpace(includeDescription: false);

    /// <summary>GoToLocal observations of <paramref name="seeds"/>, in order.</summary>
    private static ObservationBatch Observations(params int[] seeds)
    {
        using var env = BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { IncludeDescription = false });
        var batch = new ObservationBatch(env.ObservationSpace, seeds.Length);
        for (int i = 0; i < seeds.Length; i++) batch.Set(i, env.Reset(seeds[i]).Observation);
        return batch;
    }

    private static MultimodalStateEstimator Estimator(ActorCriticPolicy policy) =>
        (MultimodalStateEstimator)policy.named_children().Single(c => c.name == "actor").module;

    [Theory]
    [InlineData(FusionMode.Early, 16)]
    [InlineData(FusionMode.Late, 24)]
    [InlineData(FusionMode.CrossAttention, 16)]
    public void EveryFusionModeReadsTheMissionThroughTheEncoder(FusionMode fusion, int stateSize)
    {
        using var policy = Policy(fusion, TextEncoderFineTuning.Frozen);
        var estimator = Estimator(policy);
        Assert.Equal(stateSize, estimator.StateSize);
        var batch = Observations(1, 2, 3);
        // Row 1 gets row 0's view and direction but keeps its own mission: only the words differ.
        batch.Bytes(0).AsSpan(0, 147).CopyTo(batch.Bytes(0).AsSpan(147, 147));
        batch.Ints(1)[1] = batch.Ints(1)[0];
        batch.Texts(2)[1] = batch.Texts(2)[0] == "go to the red ball" ? "go to the blue key" : "go to the red ball";
        batch.Texts(2)[2] = batch.Texts(2)[0];
        batch.Bytes(0).AsSpan(0, 147).CopyTo(batch.Bytes(0).AsSpan(294, 147));
        batch.Ints(1)[2] = batch.Ints(1)[0];
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = policy.Tensorizer.ToInput(batch);
        Assert.Equal(batch.Texts(2), input.RowTexts(2));
        var state = estimator.forward(input);
        Assert.Equal([3L, stateSize], state.shape);
        Assert.False(state[0].equal(state[1]).all().item<bool>());
        Assert.True(state[0].equal(state[2]).all().item<bool>());
    }

    [Fact]
    public void EachDistinctMissionGoesThroughTheEncoderOnceAndFrozenStatesAreCached()
    {
        using var policy = Policy(FusionMode.CrossAttention, TextEncoderFineTuning.Frozen);
        var cache = Estimator(policy).TextEncoder!.Cache!;
        var batch = Observations(5, 6, 7, 8, 9, 10, 11, 12);
        int distinct = batch.Texts(2).Distinct().Count();
        using var scope = NewDisposeScope();
        policy.Logits(policy.Tensorizer.ToInput(batch)).sum().backward();   // with gradients: the frozen states still come from the cache
        Assert.Equal(distinct, cache.Misses);
        policy.Act(policy.Tensorizer.ToInput(batch), ActionSelection.Sample, new Rng(1), new ActResult(8));
        Assert.Equal(distinct, cache.Misses);
        Assert.Equal(distinct, cache.Hits);   // the cache sees each distinct text once per call
        Assert.All(policy.named_parameters().Where(p => p.name.Contains(".text.backbone.", StringComparison.Ordinal)), p => Assert.Null(p.parameter.grad));
        Assert.NotNull(policy.named_parameters().Single(p => p.name == "actor.text.projection.weight").parameter.grad);
    }

    [Theory]
    [InlineData(TextEncoderFineTuning.Frozen, false)]
    [InlineData(TextEncoderFineTuning.Frozen, true)]
    [InlineData(TextEncoderFineTuning.Lora, true)]
    public void ActingKeepsWhatEachMissionDecidesAndFollowsEveryUpdate(TextEncoderFineTuning fineTune, bool matching)
    {
        // Cross-attention over MiniLM: the CLS query (and the cells' code scores) are a function of the mission's string,
        // kept per string while acting; the plain forward (cache off, same weights) is what it must give, before and after a step.
        using var cached = Policy(FusionMode.CrossAttention, fineTune, loraLayers: 2, matching: matching);
        using var plain = Policy(FusionMode.CrossAttention, fineTune, loraLayers: 2, cache: false, matching: matching);
        var cache = Estimator(cached).ActingCache!;
        Assert.Null(Estimator(plain).ActingCache);
        var batch = Observations(30, 31, 32, 33, 30, 31, 34, 35);   // rows 4 and 5 repeat rows 0 and 1
        int distinct = batch.Texts(2).Distinct().Count();
        float[] Act(ActorCriticPolicy policy)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            return policy.Logits(policy.Tensorizer.ToInput(batch)).data<float>().ToArray();
        }
        var trainable = cached.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToList();
        using var adam = new AdamOptimizer(trainable, new AdamOptions { LearningRate = 0.01 });
        for (int update = 0; update < 2; update++)
        {
            plain.CopyFrom(cached);
            var expected = Act(plain);
            Assert.Equal(expected, Act(cached), (a, b) => Math.Abs(a - b) < 1e-5);     // misses
            Assert.Equal(expected, Act(cached), (a, b) => Math.Abs(a - b) < 1e-5);     // hits
            Assert.Equal(distinct * (update + 1), cache.Misses);
            using var scope = NewDisposeScope();
            adam.ZeroGrad();
            cached.Logits(cached.Tensorizer.ToInput(batch)).logsumexp(1).sum().backward();
            adam.Step();
        }
        Assert.Equal(1, cache.Invalidations);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(2)]
    public void LoraAdaptersTrainAndActingFollowsEveryUpdate(int? loraLayers)
    {
        using var policy = Policy(FusionMode.CrossAttention, TextEncoderFineTuning.Lora, loraLayers: loraLayers);
        var trainable = policy.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToList();
        Assert.Contains(trainable, p => p.name.EndsWith(".lora_B", StringComparison.Ordinal));
        Assert.DoesNotContain(trainable, p => p.name.Contains(".text.backbone.", StringComparison.Ordinal) && !p.name.Contains(".lora_", StringComparison.Ordinal));
        using var adam = new AdamOptimizer(trainable, new AdamOptions { LearningRate = 0.01 });
        var batch = Observations(20, 21, 22, 23);
        var cache = Estimator(policy).TextEncoder!.Cache!;
        for (int update = 0; update < 2; update++)
        {
            using var scope = NewDisposeScope();
            var input = policy.Tensorizer.ToInput(batch);
            var training = policy.Logits(input);                       // batched, with gradients through the adapters
            float[] acting;
            using (no_grad()) acting = policy.Logits(input).data<float>().ToArray();   // from the cache
            // The cache encodes each text alone, the training path in one padded batch: the same states up to rounding.
            Assert.Equal(training.data<float>().ToArray(), acting, (a, b) => Math.Abs(a - b) < 1e-4);
            adam.ZeroGrad();
            training.logsumexp(1).sum().backward();
            Assert.Contains(trainable, p => p.name.EndsWith(".lora_B", StringComparison.Ordinal) && p.parameter.grad!.abs().sum().item<float>() > 0);
            adam.Step();
            using (no_grad())
                Assert.NotEqual(acting, policy.Logits(input).data<float>().ToArray());
        }
        Assert.Equal(2, cache.AdapterChanges);
        // Adapters on the top 2 layers only: the 4 below are cached per text and training runs through the top 2 alone.
        var prefix = Estimator(policy).TextEncoder!.PrefixCache;
        Assert.Equal(loraLayers is null ? null : 4, prefix?.Layers);
        if (prefix is not null) Assert.Equal(batch.Texts(2).Distinct().Count(), prefix.Misses);
    }

    [Fact]
    public void CheckpointsHoldWhatTrainedAndTheBaseHashWhichLoadingChecks()
    {
        using var policy = Policy(FusionMode.CrossAttention, TextEncoderFineTuning.Lora);
        using (no_grad())
            foreach (var (name, p) in policy.named_parameters())
                if (name.EndsWith(".lora_B", StringComparison.Ordinal)) p.normal_(0, 0.01);
        var saved = ModelWeights.Named(policy, "policy.").ToDictionary(t => t.Name, t => t.Tensor);
        Assert.DoesNotContain(saved.Keys, k => k.Contains(".text.backbone.", StringComparison.Ordinal) && !k.Contains(".lora_", StringComparison.Ordinal));
        Assert.Contains("policy.actor.text.base_sha256", saved.Keys);
        Assert.Contains("policy.actor.text.projection.weight", saved.Keys);
        Assert.Equal(2 * 6 * 4, saved.Keys.Count(k => k.Contains(".lora_", StringComparison.Ordinal)));
        long bytes = saved.Values.Sum(t => t.numel() * t.ElementSize);
        Assert.InRange(bytes, 1, 2_000_000);

        var batch = Observations(30, 31, 32);
        using var restored = Policy(FusionMode.CrossAttention, TextEncoderFineTuning.Lora, seed: 9);
        ModelWeights.Load(restored, saved, "agent.safetensors", _ => true, "policy.");
        using (var scope = NewDisposeScope())
        using (no_grad())
            Assert.Equal(policy.Logits(policy.Tensorizer.ToInput(batch)).data<float>().ToArray(), restored.Logits(restored.Tensorizer.ToInput(batch)).data<float>().ToArray());

        // Trained on other base weights: one line naming the file and both hashes, and nothing is copied.
        using var other = Policy(FusionMode.CrossAttention, TextEncoderFineTuning.Lora, seed: 11);
        var tampered = new Dictionary<string, Tensor>(saved) { ["policy.actor.text.base_sha256"] = zeros(32, dtype: ScalarType.Byte) };
        float[] before;
        using (var scope = NewDisposeScope())
        using (no_grad()) before = other.Logits(other.Tensorizer.ToInput(batch)).data<float>().ToArray();
        var error = Assert.Throws<CheckpointException>(() => ModelWeights.Load(other, tampered, "agent.safetensors", _ => true, "policy."));
        Assert.StartsWith("agent.safetensors: the text encoder was trained on all-MiniLM-L6-v2 base weights with SHA-256 0000", error.Message);
        Assert.Contains(miniLm.Encoder.WeightsSha256, error.Message);
        Assert.DoesNotContain('\n', error.Message);
        using (var scope = NewDisposeScope())
        using (no_grad()) Assert.Equal(before, other.Logits(other.Tensorizer.ToInput(batch)).data<float>().ToArray());
    }

    [Fact]
    public void TrainableGroupsNeverUnfreezeThePretrainedBase()
    {
        using var policy = Policy(FusionMode.Early, TextEncoderFineTuning.Lora);
        ParameterGroups.Apply(policy, ["all"]);
        foreach (var (name, p) in policy.named_parameters())
        {
            bool frozenBase = name.Contains(".text.backbone.", StringComparison.Ordinal) && !name.Contains(".lora_", StringComparison.Ordinal);
            Assert.Equal(!frozenBase, p.requires_grad);
        }
    }

    [Theory]
    [InlineData(TextEncoderFineTuning.Frozen)]
    [InlineData(TextEncoderFineTuning.Lora)]
    public void ActingKeepsLiveTensorsFlat(TextEncoderFineTuning fineTune)
    {
        using var policy = Policy(FusionMode.CrossAttention, fineTune);
        EstimatorTestKit.ActingKeepsLiveTensorsFlat(policy, Observations(40, 41, 42, 43, 44, 45));
    }

    [Fact]
    public void AGptThatReadsTextCannotBeCombinedWithAPretrainedTextReader()
    {
        var options = Options(FusionMode.Early, TextEncoderFineTuning.Frozen);
        options.Backbone.Checkpoint = "experiments/checkpoints/babyai-gpt-tiny";
        var error = Assert.Throws<ArgumentException>(() => new MultimodalStateEstimatorFactory(options, textEncoder: miniLm.Encoder));
        Assert.StartsWith("policy.multimodal.backbone: pretrained reads the text itself", error.Message);
    }
}
