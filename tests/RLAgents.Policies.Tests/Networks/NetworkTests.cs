using RLAgents.Environments;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests.Networks;

/// <summary>Encoders sized from spaces, the state-estimator seam, heads and initialisation.</summary>
public class NetworkTests
{
    private static readonly ObservationSpace Multimodal = new(
        new Modality("image", new BoxSpace(0, 10, [7, 7, 3], DType.UInt8)),
        new Modality("direction", new DiscreteSpace(4)),
        new Modality("mission", new TextSpace(4, ["go", "to", "the", "red", "ball"])),
        new Modality("state", new BoxSpace(-1, 1, [5])));

    [Fact]
    public void EncoderSizesComeFromTheSpaces()
    {
        var options = new PolicyOptions { EmbeddingSize = 6 };
        var tensorizer = new MlpStateEstimatorFactory(options).CreateTensorizer(Multimodal);
        var rng = new Rng(1UL);
        var sizes = Multimodal.Modalities.Select((m, i) => ModalityEncoder.Create(m, options, tensorizer, i, rng).OutputSize).ToArray();
        // Text: a bag over the word tokenizer of the space's vocabulary (its 5 words and the special tokens).
        int vocabulary = TextTokenizers.ForVocabulary(((TextSpace)Multimodal[2].Space).Vocabulary).VocabSize;
        Assert.Equal(5 + SpecialTokens.All.Count, vocabulary);
        Assert.Equal(new[] { 49 * 6, 6, vocabulary, 5 }, sizes);
        var pixels = new Modality("pixels", new BoxSpace(0, 255, [8, 8, 3], DType.UInt8));
        Assert.IsType<ScaledImageEncoder>(ModalityEncoder.Create(pixels, options, new ObservationTensorizer(new ObservationSpace(pixels)), 0, rng));
    }

    [Fact]
    public void MultimodalPolicyMapsABatchToLogitsAndValues()
    {
        using var scope = NewDisposeScope();
        var policy = new ActorCriticPolicy(Multimodal, new DiscreteSpace(3), new PolicyOptions { HiddenSizes = [32, 16] }, new Rng(2UL));
        var batch = new ObservationBatch(Multimodal, 2);
        batch.Bytes(0)[5] = 10;
        batch.Ints(1)[1] = 3;
        batch.Texts(2)[0] = "go to the red ball";
        batch.Texts(2)[1] = "the the ball";
        var input = policy.Tensorizer.ToInput(batch);
        // Bag of words: "the" twice in the second mission.
        int the = TextTokenizers.ForVocabulary(((TextSpace)Multimodal[2].Space).Vocabulary).Encode("the").Single();
        Assert.Equal(2f, input[2][1, the].item<float>());
        Assert.Equal(2f, input[2][1].sum().item<float>() - 1f); // and "ball" once
        Assert.Equal(new long[] { 2, 3 }, policy.Logits(input).shape);
        Assert.Equal(new long[] { 2 }, policy.Value(input).shape);
        var eval = policy.EvaluateActions(input, tensor(new long[] { 0, 2 }));
        Assert.Equal(new long[] { 2 }, eval.LogProbs.shape);
        Assert.True(eval.Entropy.data<float>().ToArray().All(h => h > 0 && h <= MathF.Log(3) + 1e-5f));
    }

    [Fact]
    public void TextWithoutAVocabularyIsReadByteByByteAndATensorizerWithoutTextEncodingNamesTheModality()
    {
        var space = new ObservationSpace(new Modality("note", new TextSpace(20)));
        var tensorizer = new MlpStateEstimatorFactory(new PolicyOptions()).CreateTensorizer(space);
        Assert.Equal(256 + SpecialTokens.All.Count, tensorizer.TextWidth(0));
        var batch = new ObservationBatch(space, 1);
        batch.Texts(0)[0] = "héllo";
        using (NewDisposeScope()) Assert.Equal(6f, tensorizer.ToInput(batch)[0].sum().item<float>()); // é is two UTF-8 bytes
        var e = Assert.Throws<NotSupportedException>(() => new ObservationTensorizer(space));
        Assert.Contains("'note'", e.Message);
    }

    [Fact]
    public void SharedStateEstimatorAppearsOnceAmongParameters()
    {
        var space = ObservationSpace.Single("state", new BoxSpace(-1, 1, [4]));
        var separate = new ActorCriticPolicy(space, new DiscreteSpace(2), new PolicyOptions(), new Rng(1UL));
        var shared = new ActorCriticPolicy(space, new DiscreteSpace(2), new PolicyOptions { ShareStateEstimator = true }, new Rng(1UL));
        Assert.False(separate.SharesStateEstimator);
        Assert.True(shared.SharesStateEstimator);
        long Count(nn.Module m) => m.parameters().Sum(p => p.numel());
        long mlp = 4 * 64 + 64 + 64 * 64 + 64;
        long heads = 64 * 2 + 2 + 64 + 1;
        Assert.Equal(2 * mlp + heads, Count(separate));
        Assert.Equal(mlp + heads, Count(shared));
        Assert.Equal(shared.named_parameters().Count(), shared.named_parameters().Select(p => p.name).Distinct().Count());
    }

    [Fact]
    public void OrthogonalInitHasOrthonormalRowsTimesGain()
    {
        var w = Init.Orthogonal(5, 9, new Rng(4UL));
        for (int a = 0; a < 5; a++)
            for (int b = 0; b < 5; b++)
            {
                double dot = 0;
                for (int j = 0; j < 9; j++) dot += w[a * 9 + j] * w[b * 9 + j];
                Assert.Equal(a == b ? 1.0 : 0.0, dot, 5);
            }
        var tall = Init.Orthogonal(9, 5, new Rng(4UL));
        for (int a = 0; a < 5; a++)
        {
            double dot = 0;
            for (int i = 0; i < 9; i++) dot += tall[i * 5 + a] * tall[i * 5 + a];
            Assert.Equal(1.0, dot, 5);
        }
        var layer = nn.Linear(9, 5);
        Init.Linear(layer, new Rng(4UL), 2.0);
        using var product = layer.weight!.matmul(layer.weight.t());
        using var expected = eye(5).mul(4.0);
        Assert.True(product.allclose(expected, rtol: 1e-4, atol: 1e-4));
        Assert.Equal(0f, layer.bias!.abs().sum().item<float>());
    }

    [Fact]
    public void WeightsArePureFunctionsOfTheSeed()
    {
        var space = ObservationSpace.Single("state", new BoxSpace(-1, 1, [4]));
        float[] Weights(ulong seed) => new ActorCriticPolicy(space, new DiscreteSpace(2), new PolicyOptions(), new Rng(seed))
            .parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
        Assert.Equal(Weights(5), Weights(5));
        Assert.NotEqual(Weights(5), Weights(6));
    }

    [Fact]
    public void PolyakAveragesAndCopiesParameters()
    {
        var space = ObservationSpace.Single("state", new BoxSpace(-1, 1, [2]));
        var options = new PolicyOptions { HiddenSizes = [3] };
        var a = new QNetworkPolicy(space, new DiscreteSpace(2), options, new Rng(1UL));
        var b = new QNetworkPolicy(space, new DiscreteSpace(2), options, new Rng(2UL));
        float a0 = a.parameters().First().data<float>()[0], b0 = b.parameters().First().data<float>()[0];
        a.Polyak(b, 0.25);
        Assert.Equal(0.75f * a0 + 0.25f * b0, a.parameters().First().data<float>()[0], 5);
        var clone = b.CloneNetwork();
        Assert.Equal(b.parameters().SelectMany(p => p.data<float>().ToArray()), clone.parameters().SelectMany(p => p.data<float>().ToArray()));
    }
}
