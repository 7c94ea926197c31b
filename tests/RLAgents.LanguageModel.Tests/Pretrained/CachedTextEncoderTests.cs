using RLAgents.LanguageModel.Pretrained;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Tests.Pretrained;

[Collection(MiniLmCollection.Name)]
public class CachedTextEncoderTests(MiniLmFixture fixture)
{
    private static readonly string[] Missions =
    [
        "go to the red ball", "pick up the blue key", "open the yellow door", "go to a grey key", "pick up a ball",
        "put the green box next to the purple ball", "open the door on your left", "go to the box in front of you",
        "pick up the key behind you", "go to the red door and pick up the blue box", "open a door", "go to the yellow box",
    ];

    [Fact]
    public void CachedStatesEqualEncodingEachTextAlone()
    {
        using var cache = new CachedTextEncoder(fixture.Encoder);
        using var scope = NewDisposeScope();
        string[] texts = ["go to the red ball", "put the green box next to the purple ball, then open the door"];
        using var cached = cache.Encode(texts, padTo: 24);
        Assert.Equal(new long[] { 2, 24, 384 }, cached.Hidden.shape);
        using var _ = no_grad();
        for (int b = 0; b < texts.Length; b++)
        {
            using var alone = fixture.Encoder.Encode([texts[b]]);
            int n = (int)alone.Hidden.shape[1];
            Assert.True(cached.Hidden[b, ..n].equal(alone.Hidden[0]).all().item<bool>(), texts[b]);
            Assert.Equal(0f, cached.Hidden[b, n..].abs().sum().item<float>());
            Assert.Equal(n, cached.Mask[b].sum().item<long>());
        }
        // Pooled embeddings come from the same states.
        var pooled = cache.Embed(texts, TextPooling.Mean, normalize: true);
        Assert.True(allclose(pooled, fixture.Encoder.Embed(texts, TextPooling.Mean, normalize: true), rtol: 0, atol: 1e-5));
        Assert.True(allclose(pooled.norm(1), ones(2), rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void EachDistinctTextOfABatchIsEncodedOnce()
    {
        using var cache = new CachedTextEncoder(fixture.Encoder);
        using var scope = NewDisposeScope();
        string[] batch = ["open a door", "pick up a ball", "open a door", "open a door", "pick up a ball", "go to the yellow box"];
        using var first = cache.Encode(batch);
        Assert.Equal((3L, 3L, 3), (cache.Misses, cache.Hits, cache.Count));
        Assert.True(first.Hidden[0].equal(first.Hidden[2]).all().item<bool>());
        Assert.True(first.Hidden[1].equal(first.Hidden[4]).all().item<bool>());
        using var second = cache.Encode(batch);
        Assert.Equal((3L, 9L), (cache.Misses, cache.Hits));
        Assert.True(first.Hidden.equal(second.Hidden).all().item<bool>());
    }

    [Fact]
    public void TheLeastRecentlyUsedTextIsEvictedBeyondCapacity()
    {
        using var cache = new CachedTextEncoder(fixture.Encoder, capacity: 2);
        using var scope = NewDisposeScope();
        cache.Encode(["go to the red ball"]);
        cache.Encode(["open a door"]);
        cache.Encode(["go to the red ball"]);     // now the most recent
        cache.Encode(["pick up a ball"]);         // evicts "open a door"
        Assert.Equal((2, 3L), (cache.Count, cache.Misses));
        cache.Encode(["go to the red ball"]);
        Assert.Equal(3L, cache.Misses);
        cache.Encode(["open a door"]);
        Assert.Equal(4L, cache.Misses);
        // One call with more distinct texts than the capacity still answers every row.
        using var wide = cache.Encode(Missions.Take(5).ToList());
        Assert.Equal(5, wide.Mask.any(1).sum().item<long>());
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void LiveTensorCountStaysFlatOverManyBatches()
    {
        using var cache = new CachedTextEncoder(fixture.Encoder, capacity: 8);
        void Step(int i)
        {
            using var scope = NewDisposeScope();
            // 16 missions drawn from 12 with a capacity of 8: hits, misses and evictions every step.
            var batch = Enumerable.Range(0, 16).Select(k => Missions[(i * 5 + k * 7) % Missions.Length]).ToList();
            using var encoding = cache.Encode(batch, padTo: 16);
            cache.Embed(batch);
        }
        for (int i = 0; i < 3; i++) Step(i);
        long warm = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 3; i < 23; i++) Step(i);
        Assert.Equal(warm, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.Equal(8, cache.Count);
        cache.Clear();
        Assert.Equal(warm - 8, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void ATrainableEncoderIsRefused()
    {
        using var encoder = new PretrainedTextEncoder(fixture.Encoder.Info, new BertEncoder(BertEncoderTests.Tiny()), fixture.Encoder.Tokenizer, "tiny");
        var error = Assert.Throws<InvalidOperationException>(() => new CachedTextEncoder(encoder));
        Assert.Contains("'word_embeddings.weight' requires gradients", error.Message);

        encoder.Encoder.ConfigureFineTuning(TextEncoderFineTuning.Frozen);
        using var cache = new CachedTextEncoder(encoder);
        encoder.Encoder.ConfigureFineTuning(TextEncoderFineTuning.TopLayers, topLayers: 1);
        Assert.Throws<InvalidOperationException>(() => cache.Encode(["open a door"]));
    }

    [Fact]
    public void AnEncoderWithAdaptersIsServedAndStartsOverWhenTheyChange()
    {
        using var adapted = fixture.Encoder.Copy();
        adapted.Encoder.ConfigureFineTuning(TextEncoderFineTuning.Lora, lora: new RLAgents.LanguageModel.Lora.LoraOptions { Rank = 2, TargetModules = ["attn.c_attn"] });
        using var cache = new CachedTextEncoder(adapted);
        using var scope = NewDisposeScope();
        string[] texts = ["go to the red ball", "open a door"];
        var first = cache.Encode(texts);
        // LoRA's B starts at zero: the same states as the frozen base.
        Assert.True(first.Hidden.equal(new CachedTextEncoder(fixture.Encoder).Encode(texts).Hidden).all().item<bool>());
        cache.Encode(texts);
        Assert.Equal((2L, 2L, 0L), (cache.Misses, cache.Hits, cache.AdapterChanges));

        // An optimiser step, a checkpoint load or a copy changes the adapters in place: the cache starts over.
        var b = adapted.Encoder.Projections().First().Layer.LoraB!;
        using (no_grad()) b.add_(0.05);
        var changed = cache.Encode(texts);
        Assert.Equal((4L, 1L), (cache.Misses, cache.AdapterChanges));
        Assert.False(changed.Hidden.equal(first.Hidden).all().item<bool>());
        using (no_grad())
            for (int i = 0; i < texts.Length; i++)
            {
                var alone = adapted.Encode([texts[i]]).Hidden[0];
                Assert.True(changed.Hidden[i, ..(int)alone.shape[0]].equal(alone).all().item<bool>(), texts[i]);
            }
        cache.Encode(texts);
        Assert.Equal((4L, 4L), (cache.Misses, cache.Hits));
    }

    [Fact]
    public void ACopyEncodesAlikeAndTrainsApart()
    {
        using var copy = fixture.Encoder.Copy();
        Assert.Equal(fixture.Encoder.WeightsSha256, copy.WeightsSha256);
        Assert.True(copy.Encoder.IsFrozen);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        string[] texts = ["pick up the blue key", "go to a grey key"];
        Assert.True(copy.Encode(texts).Hidden.equal(fixture.Encoder.Encode(texts).Hidden).all().item<bool>());
        var weight = copy.Encoder.named_parameters().First(p => p.name == "layers.5.mlp.c_fc.weight").parameter;
        weight.mul_(0.5);
        Assert.False(copy.Encode(texts).Hidden.equal(fixture.Encoder.Encode(texts).Hidden).all().item<bool>());
        copy.Encoder.ConfigureFineTuning(TextEncoderFineTuning.Lora);
        Assert.Throws<InvalidOperationException>(() => copy.Copy());
    }

    [Fact]
    public void APrefixCacheHoldsTheStatesBelowTheLayersThatTrainAndTheSuffixCompletesThem()
    {
        using var adapted = fixture.Encoder.Copy();
        var trained = adapted.Encoder.ConfigureFineTuning(TextEncoderFineTuning.Lora, loraLayers: 2);
        Assert.All(trained, name => Assert.Matches(@"^layers\.[45]\.", name));
        Assert.Equal(4, adapted.Encoder.LowestTrainableLayer());
        using var prefix = new CachedTextEncoder(adapted, layers: 4);
        using var scope = NewDisposeScope();
        string[] texts = ["go to the red ball", "put the green box next to the purple ball"];
        var below = prefix.Encode(texts);
        using (no_grad())
        {
            var full = adapted.Encode(texts);
            var completed = adapted.Encoder.Suffix(below.Hidden, below.Mask, 4);
            var real = full.Mask.unsqueeze(-1);
            Assert.True(allclose(full.Hidden.mul(real), completed.mul(real), rtol: 0, atol: 1e-4));
        }
        // Adapters above the prefix do not touch it; the states stay cached.
        using (no_grad()) adapted.Encoder.Projections().Last().Layer.LoraB!.add_(1);
        prefix.Encode(texts);
        Assert.Equal((2L, 2L, 0L), (prefix.Misses, prefix.Hits, prefix.AdapterChanges));
        // Layers that train inside the prefix are refused.
        using var top = fixture.Encoder.Copy();
        top.Encoder.ConfigureFineTuning(TextEncoderFineTuning.TopLayers, topLayers: 3);
        using var fine = new CachedTextEncoder(top, layers: 3);
        Assert.Throws<InvalidOperationException>(() => new CachedTextEncoder(top, layers: 4));
    }
}
