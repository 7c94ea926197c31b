using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Lora;
using RLAgents.LanguageModel.Pretrained;
using RLAgents.LanguageModel.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Tests.Pretrained;

/// <summary>The encoder's structure, masking, pooling and fine-tuning modes on a tiny random BERT (the real one is checked against ONNX Runtime).</summary>
public class BertEncoderTests
{
    internal static BertConfig Tiny() => new()
    {
        VocabSize = 50, MaxPositions = 16, TypeVocabSize = 2, Layers = 3, Width = 16, Heads = 2, MlpWidth = 24, LayerNormEpsilon = 1e-12,
    };

    private static Tensor Ids(long seed, long b = 2, long t = 7)
    {
        using var g = new Generator((ulong)seed);
        return randint(50, [b, t], dtype: int64, generator: g);
    }

    /// <summary>A scalar that depends on every output: the sum of squared states.</summary>
    private static Tensor Loss(BertEncoder encoder, Tensor ids) => encoder.forward(new BertInput(TokenIds: ids)).pow(2).mean();

    [Fact]
    public void ParametersFollowTheSharedBlockNamesAndCountTheFormula()
    {
        using var encoder = new BertEncoder(Tiny(), seed: 1);
        var shapes = encoder.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal(new long[] { 48, 16 }, shapes["layers.2.attn.c_attn.weight"]);  // fused [q; k; v]
        Assert.Equal(new long[] { 24, 16 }, shapes["layers.0.mlp.c_fc.weight"]);
        Assert.Equal(new long[] { 16, 24 }, shapes["layers.1.mlp.c_proj.weight"]);
        Assert.Contains("layers.1.ln_2.bias", shapes.Keys);
        Assert.Contains("ln_embeddings.weight", shapes.Keys);
        long c = 16, h = 24, v = 50, p = 16, types = 2;
        long perLayer = 4 * c * c + 4 * c + 2 * c * h + h + c + 4 * c;  // attention, MLP, two LayerNorms
        Assert.Equal(v * c + p * c + types * c + 2 * c + 3 * perLayer, encoder.ParameterCount);
        Assert.Equal(12, encoder.Projections().Count());
    }

    [Fact]
    public void PaddingDoesNotChangeTheRealTokensAndPoolingIgnoresIt()
    {
        using var scope = NewDisposeScope();
        using var encoder = new BertEncoder(Tiny(), seed: 2);
        encoder.eval();
        var ids = Ids(3, 1, 5);
        var alone = encoder.forward(new BertInput(TokenIds: ids));
        var padded = encoder.forward(new BertInput(TokenIds: cat([ids, zeros(1, 4, dtype: int64)], 1), AttentionMask: tensor(new long[] { 1, 1, 1, 1, 1, 0, 0, 0, 0 }, [1, 9])));
        Assert.True(allclose(alone, padded[.., ..5], rtol: 0, atol: 1e-5));
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 0, 0, 0, 0 }, [1, 9]);
        Assert.True(allclose(alone.mean([1]), BertEncoder.Pool(padded, mask, TextPooling.Mean), rtol: 0, atol: 1e-5));
        Assert.True(BertEncoder.Pool(padded, mask, TextPooling.Cls).equal(padded[.., 0]).all().item<bool>());
        Assert.Throws<ArgumentException>(() => encoder.forward(new BertInput(TokenIds: ids, AttentionMask: zeros(1, 5, dtype: int64))));
    }

    [Fact]
    public void FrozenTrainsNothingAndFullTrainsEverything()
    {
        using var encoder = new BertEncoder(Tiny(), seed: 4);
        Assert.Empty(encoder.ConfigureFineTuning(TextEncoderFineTuning.Frozen));
        Assert.True(encoder.IsFrozen);
        var all = encoder.ConfigureFineTuning(TextEncoderFineTuning.Full);
        Assert.Equal(encoder.named_parameters().Count(), all.Count);
        using (var scope = NewDisposeScope()) Loss(encoder, Ids(5)).backward();
        Assert.All(encoder.named_parameters(), p => Assert.NotNull(p.parameter.grad));
    }

    [Fact]
    public void TopLayersTrainOnlyTheTopLayers()
    {
        using var encoder = new BertEncoder(Tiny(), seed: 6);
        var trainable = encoder.ConfigureFineTuning(TextEncoderFineTuning.TopLayers, topLayers: 1);
        Assert.NotEmpty(trainable);
        Assert.All(trainable, n => Assert.StartsWith("layers.2.", n));
        Assert.Equal(encoder.named_parameters().Count(p => p.name.StartsWith("layers.2.", StringComparison.Ordinal)), trainable.Count);

        var before = ModelWeights.Collect(encoder).ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using (var optimizer = new AdamOptimizer(LoraAdapters.TrainableParameters(encoder), new AdamOptions { Beta2 = 0.95, MaxGradNorm = 1.0 }))
        {
            var ids = Ids(7);
            for (int i = 0; i < 3; i++) TrainingStep.Run(optimizer, () => Loss(encoder, ids), 1e-2);
        }
        foreach (var (name, value) in ModelWeights.Collect(encoder))
            Assert.True(trainable.Contains(name) != value.equal(before[name]).all().item<bool>(), $"{name} moved = {trainable.Contains(name)} expected");
        Assert.Throws<ArgumentOutOfRangeException>(() => encoder.ConfigureFineTuning(TextEncoderFineTuning.TopLayers, topLayers: 4));
    }

    [Fact]
    public void LoraTrainsOnlyAdaptersThroughTheSharedLoraCode()
    {
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        using var encoder = new BertEncoder(Tiny(), seed: 8);
        encoder.eval();
        var ids = Ids(9);
        var before = encoder.forward(new BertInput(TokenIds: ids)).detach();
        var baseWeights = ModelWeights.Collect(encoder).ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var options = new LoraOptions { Rank = 2, Alpha = 4, Seed = 3 };
        var trainable = encoder.ConfigureFineTuning(TextEncoderFineTuning.Lora, lora: options);
        Assert.Equal(3 * 4 * 2, trainable.Count);  // 3 layers × 4 projections × (A, B)
        Assert.All(trainable, n => Assert.True(ModelWeights.IsAdapterTensor(n), n));
        Assert.True(allclose(before, encoder.forward(new BertInput(TokenIds: ids)), rtol: 0, atol: 1e-6));  // B = 0 at attach

        using (var optimizer = new AdamOptimizer(LoraAdapters.TrainableParameters(encoder), new AdamOptions { Beta2 = 0.95, MaxGradNorm = 1.0 }))
            for (int i = 0; i < 3; i++) TrainingStep.Run(optimizer, () => Loss(encoder, ids), 1e-2);
        var after = encoder.forward(new BertInput(TokenIds: ids)).detach();
        Assert.False(allclose(before, after, rtol: 0, atol: 1e-4));
        foreach (var (name, value) in ModelWeights.Collect(encoder, n => !ModelWeights.IsAdapterTensor(n)))
            Assert.True(value.equal(baseWeights[name]).all().item<bool>(), name);

        // The adapters save and load on their own, as for the GPT backbone.
        LoraAdapters.Save(encoder, options, dir.Path);
        using var fresh = new BertEncoder(Tiny(), seed: 8);
        fresh.eval();
        LoraAdapters.Load(fresh, dir.Path);
        Assert.True(after.equal(fresh.forward(new BertInput(TokenIds: ids))).all().item<bool>());
    }
}
