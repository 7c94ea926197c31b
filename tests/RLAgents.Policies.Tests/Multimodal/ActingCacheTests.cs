using RLAgents.Environments;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.LanguageModel.Training;
using RLAgents.Policies.Multimodal;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests.Multimodal;

/// <summary>
/// The acting cache of the multimodal estimator (<see cref="MultimodalOptions.ActingCache"/>): acting through it gives
/// what the plain forward gives, for batches that mix missions, before and after an optimiser step, and without
/// leaking tensors.
/// </summary>
public sealed class ActingCacheTests
{
    private static MultimodalOptions Options(FusionMode fusion, bool cache, bool matching = false, bool roles = false) => new()
    {
        Fusion = fusion,
        Backbone = new BackboneOptions { NLayer = 2, NHead = 4, NEmbd = 32, BlockSize = 128 },
        MaxTextTokens = 8,
        FusionHiddenSizes = [24],
        ActingCache = cache,
        CellTextMatching = matching,
        CellTextRoles = roles,
    };

    private static ActorCriticPolicy Policy(ObservationSpace space, FusionMode fusion, bool cache, bool matching = false, bool roles = false) =>
        new(space, new DiscreteSpace(7), new PolicyOptions { ShareStateEstimator = true },
            new MultimodalStateEstimatorFactory(Options(fusion, cache, matching, roles), EstimatorTestKit.Tokenizer), new Rng(11));

    /// <summary>
    /// 16 GoToLocal observations: 8 episodes at their start, then the same 8 episodes two steps on, so every mission
    /// appears in two rows with different views and several missions share a step.
    /// </summary>
    private static ObservationBatch MixedMissions(bool description, int firstSeed = 300)
    {
        using var env = BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { IncludeDescription = description });
        var batch = new ObservationBatch(env.ObservationSpace, 16);
        for (int i = 0; i < 8; i++)
        {
            batch.Set(i, env.Reset(firstSeed + i).Observation);
            env.Step(1);
            batch.Set(8 + i, env.Step(2).Observation);
        }
        return batch;
    }

    private static (float[] Preferences, float[] Values) Outputs(ActorCriticPolicy policy, ObservationBatch batch)
    {
        using var scope = NewDisposeScope();
        var (prefs, values) = policy.Outputs(policy.Tensorizer.ToInput(batch));
        return (prefs.data<float>().ToArray(), values!.data<float>().ToArray());
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6, $"entry {i}: {expected[i]} vs {actual[i]}");
    }

    private static ActingCache Cache(ActorCriticPolicy policy) =>
        policy.modules().OfType<MultimodalStateEstimator>().Single().ActingCache ?? throw new InvalidOperationException("No acting cache.");

    [Theory]
    [InlineData(FusionMode.CrossAttention, false)]
    [InlineData(FusionMode.CrossAttention, true)]   // two text modalities: the key is mission and description together
    [InlineData(FusionMode.CrossAttention, false, true)]   // the cells' code scores are cached with the query
    [InlineData(FusionMode.CrossAttention, true, true)]
    [InlineData(FusionMode.CrossAttention, true, true, true)]   // and where in the text each code matched
    [InlineData(FusionMode.Late, false)]
    [InlineData(FusionMode.Late, true)]
    public void CachedActingGivesThePlainForwardsLogitsAndValuesForMixedMissions(FusionMode fusion, bool description, bool matching = false, bool roles = false)
    {
        var batch = MixedMissions(description);
        using var cached = Policy(batch.Space, fusion, cache: true, matching, roles);
        using var plain = Policy(batch.Space, fusion, cache: false, matching, roles);
        var expected = Outputs(plain, batch);
        var cold = Outputs(cached, batch);   // every key a miss
        var warm = Outputs(cached, batch);   // every key a hit
        AssertClose(expected.Preferences, cold.Preferences);
        AssertClose(expected.Values, cold.Values);
        AssertClose(expected.Preferences, warm.Preferences);
        AssertClose(expected.Values, warm.Values);
        var cache = Cache(cached);
        // Each mission is one key however many rows carry it (8 episodes, 2 rows each); cross-attention keys the mission
        // and the description together, late fusion each text apart and also the direction (4 values).
        int most = fusion == FusionMode.Late ? 8 + (description ? 16 : 0) + 4 : description ? 16 : 8;
        Assert.InRange(cache.Misses, 1, most);
        Assert.Equal(cache.Misses, cache.Count);
        long hits = cache.Hits;
        Assert.True(hits >= 16);
        // With gradients recorded nothing is read from the cache, and the result is the plain one.
        using (var scope = NewDisposeScope())
        {
            var input = cached.Tensorizer.ToInput(batch);
            AssertClose(expected.Preferences, cached.Logits(input).detach().data<float>().ToArray());
        }
        Assert.Equal(hits, cache.Hits);
    }

    [Theory]
    [InlineData(FusionMode.CrossAttention)]
    [InlineData(FusionMode.CrossAttention, true)]
    [InlineData(FusionMode.CrossAttention, true, true)]
    [InlineData(FusionMode.Late)]
    public void AnOptimiserStepEmptiesTheCacheAndActingThenMatchesTheUpdatedPlainForward(FusionMode fusion, bool matching = false, bool roles = false)
    {
        var batch = MixedMissions(description: false);
        using var cached = Policy(batch.Space, fusion, cache: true, matching, roles);
        using var plain = Policy(batch.Space, fusion, cache: false, matching, roles);
        var before = Outputs(cached, batch);
        using (var optimizer = new AdamOptimizer(cached.named_parameters().Select(p => (p.name, p.parameter)), new AdamOptions { LearningRate = 0.01 }))
        {
            using var scope = NewDisposeScope();
            var input = cached.Tensorizer.ToInput(batch);
            var loss = cached.Logits(input).log_softmax(-1).select(1, 2).mean().neg().add(cached.Value(input).square().mean());
            optimizer.ZeroGrad();
            loss.backward();
            optimizer.Step();
        }
        plain.CopyFrom(cached);
        var after = Outputs(cached, batch);
        var expected = Outputs(plain, batch);
        Assert.True(before.Preferences.Zip(after.Preferences).Any(p => Math.Abs(p.First - p.Second) > 1e-4), "the step changed nothing");
        AssertClose(expected.Preferences, after.Preferences);
        AssertClose(expected.Values, after.Values);
        Assert.Equal(1, Cache(cached).Invalidations);
        // A weight changed outside any optimiser (a checkpoint load, a copy) empties it too.
        using (no_grad()) cached.named_parameters().First(p => p.name.Contains(".backbone.", StringComparison.Ordinal)).parameter.add_(1e-3);
        plain.CopyFrom(cached);
        AssertClose(Outputs(plain, batch).Preferences, Outputs(cached, batch).Preferences);
        Assert.Equal(2, Cache(cached).Invalidations);
        if (!roles) return;
        // The text-position embedding shapes the cached code scores as much as the projections do.
        using (no_grad()) cached.named_parameters().Single(p => p.name.EndsWith("role_position", StringComparison.Ordinal)).parameter.add_(0.5);
        plain.CopyFrom(cached);
        AssertClose(Outputs(plain, batch).Preferences, Outputs(cached, batch).Preferences);
        Assert.Equal(3, Cache(cached).Invalidations);
    }

    [Theory]
    [InlineData(FusionMode.CrossAttention)]
    [InlineData(FusionMode.CrossAttention, true)]
    [InlineData(FusionMode.Late)]
    public void ABatchWithRepeatedMissionsGivesTheOutputsAndGradientsOfItsRowsOneByOne(FusionMode fusion, bool matching = false)
    {
        // With gradients (training), each distinct mission goes through the backbone once per batch and is gathered back.
        var batch = MixedMissions(description: false);
        using var policy = Policy(batch.Space, fusion, cache: true, matching);
        var weights = Enumerable.Range(0, 16 * 7).Select(i => (float)Math.Sin(i)).ToArray();
        var parameters = policy.parameters().ToArray();
        float[] together, alone = new float[16 * 7];
        Tensor?[] batched;   // null for parameters the logits do not reach (the value head)
        using (var scope = NewDisposeScope())
        {
            var logits = policy.Logits(policy.Tensorizer.ToInput(batch));                     // [16, 7]
            logits.mul(tensor(weights, [16, 7])).sum().backward();
            together = logits.detach().data<float>().ToArray();
            batched = [.. parameters.Select(p => p.grad?.clone().DetachFromDisposeScope())];
        }
        foreach (var p in parameters) p.grad?.zero_();
        for (int i = 0; i < 16; i++)
        {
            using var scope = NewDisposeScope();
            var logits = policy.Logits(policy.Tensorizer.ToInput(batch, i, 1));               // [1, 7]: nothing repeats
            logits.mul(tensor(weights.AsSpan(i * 7, 7).ToArray(), [1, 7])).sum().backward();
            logits.detach().data<float>().ToArray().CopyTo(alone, i * 7);
        }
        AssertClose(alone, together);
        for (int k = 0; k < parameters.Length; k++)
            if (batched[k] is { } g) Assert.True(parameters[k].grad!.allclose(g, rtol: 1e-4, atol: 1e-6), $"gradient of parameter {k} ({string.Join("×", parameters[k].shape)})");
        Assert.True(batched.Count(g => g is not null) > 10);
        foreach (var g in batched) g?.Dispose();
    }

    [Theory]
    [InlineData(FusionMode.CrossAttention)]
    [InlineData(FusionMode.CrossAttention, true)]
    [InlineData(FusionMode.Late)]
    public void ActingThroughTheCacheOverChangingMissionsKeepsTheLiveTensorCountFlat(FusionMode fusion, bool matching = false)
    {
        var batches = Enumerable.Range(0, 6).Select(k => MixedMissions(description: false, firstSeed: 400 + 8 * k)).ToArray();
        using var policy = Policy(batches[0].Space, fusion, cache: true, matching);
        var result = new ActResult(16);
        var rng = new Rng(1);
        void Act(ObservationBatch batch)
        {
            using var scope = NewDisposeScope();
            policy.Act(policy.Tensorizer.ToInput(batch), Policies.Selection.ActionSelection.Sample, rng, result);
        }
        Act(batches[0]);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 60; i++) Act(batches[i % batches.Length]);   // new missions (misses) for the first rounds, then hits
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.True(Cache(policy).Hits > Cache(policy).Misses);
    }
}
