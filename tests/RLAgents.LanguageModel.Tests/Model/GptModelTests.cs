using RLAgents.LanguageModel.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Tests.Model;

public class GptModelTests
{
    internal static GptConfig Tiny(bool causal = true, bool bias = true) => new()
    {
        VocabSize = 37, BlockSize = 16, NLayer = 2, NHead = 2, NEmbd = 16, Dropout = 0, Bias = bias, Causal = causal,
    };

    private static Tensor RandomIds(long b, long t, int vocab, long seed)
    {
        using var g = new Generator((ulong)seed);
        return randint(vocab, [b, t], dtype: int64, generator: g);
    }

    [Fact]
    public void OutputsHaveTheDocumentedShapes()
    {
        using var scope = NewDisposeScope();
        using var model = new GptModel(Tiny());
        var output = model.forward(new GptInput(TokenIds: RandomIds(3, 10, 37, 1)));
        Assert.Equal(new long[] { 3, 10, 16 }, output.HiddenStates.shape);
        Assert.Equal(new long[] { 3, 10, 37 }, output.Logits!.shape);
        Assert.Null(model.forward(new GptInput(TokenIds: RandomIds(1, 4, 37, 1), ComputeLogits: false)).Logits);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ParameterCountMatchesTheFormulaAndNamesFollowGpt2(bool bias)
    {
        using var model = new GptModel(Tiny(bias: bias));
        long c = 16, l = 2, v = 37, t = 16;
        // Per block: q/k/v 3C², attention out C², MLP 8C², plus biases 9C and two LayerNorms (2C each with bias, C without).
        long perBlock = 12 * c * c + (bias ? 9 * c + 4 * c : 2 * c);
        long expected = l * perBlock + v * c + t * c + (bias ? 2 * c : c);
        Assert.Equal(expected, model.ParameterCount());
        Assert.Equal(expected - t * c, model.ParameterCount(excludePositionEmbeddings: true));

        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Contains("wte.weight", names);
        Assert.Contains("wpe.weight", names);
        Assert.Contains("h.1.attn.c_attn.weight", names);
        Assert.Contains("h.0.mlp.c_proj.weight", names);
        Assert.Contains("ln_f.weight", names);
        Assert.Equal(bias, names.Contains("h.0.ln_1.bias"));
        Assert.DoesNotContain(names, n => n.Contains("lm_head"));
    }

    [Fact]
    public void LogitsUseTheTiedTokenEmbedding()
    {
        using var scope = NewDisposeScope();
        using var model = new GptModel(Tiny());
        var output = model.forward(new GptInput(TokenIds: RandomIds(2, 5, 37, 2)));
        var expected = matmul(output.HiddenStates, model.TokenEmbeddingWeight.t());
        Assert.True(allclose(expected, output.Logits!, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void CausalAttentionIgnoresTheFutureAndBidirectionalDoesNot()
    {
        using var scope = NewDisposeScope();
        using var model = new GptModel(Tiny());
        model.eval();
        var ids = RandomIds(1, 8, 37, 3);
        var changed = ids.clone();
        changed[0, 5] = (ids[0, 5] + 1) % 37;

        var a = model.forward(new GptInput(TokenIds: ids)).Logits!;
        var b = model.forward(new GptInput(TokenIds: changed)).Logits!;
        Assert.True(allclose(a[.., ..5], b[.., ..5], atol: 1e-6));
        Assert.False(allclose(a[.., 5..], b[.., 5..], atol: 1e-4));

        var bidiA = model.forward(new GptInput(TokenIds: ids, Causal: false)).Logits!;
        var bidiB = model.forward(new GptInput(TokenIds: changed, Causal: false)).Logits!;
        Assert.False(allclose(bidiA[.., ..5], bidiB[.., ..5], atol: 1e-4));
    }

    [Fact]
    public void EmbeddingsInputMatchesTokenInput()
    {
        using var scope = NewDisposeScope();
        using var model = new GptModel(Tiny());
        var ids = RandomIds(2, 6, 37, 4);
        var fromIds = model.forward(new GptInput(TokenIds: ids)).HiddenStates;
        var fromEmbeddings = model.forward(new GptInput(Embeddings: model.EmbedTokens(ids))).HiddenStates;
        Assert.True(allclose(fromIds, fromEmbeddings, atol: 1e-6));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PaddedPositionsDoNotChangeRealOnes(bool causal)
    {
        using var scope = NewDisposeScope();
        using var model = new GptModel(Tiny(causal));
        var ids = RandomIds(1, 5, 37, 5);
        var alone = model.forward(new GptInput(TokenIds: ids)).HiddenStates;

        // The same 5 tokens right-padded to 9 with arbitrary ids, batched with a full-length row.
        var padded = cat([ids, RandomIds(1, 4, 37, 6)], 1);
        var batch = cat([padded, RandomIds(1, 9, 37, 7)], 0);
        var mask = tensor(new long[,] { { 1, 1, 1, 1, 1, 0, 0, 0, 0 }, { 1, 1, 1, 1, 1, 1, 1, 1, 1 } });
        var output = model.forward(new GptInput(TokenIds: batch, AttentionMask: mask)).HiddenStates;
        Assert.True(allclose(alone[0], output[0, ..5], atol: 1e-5));
        Assert.False(output.isnan().any().item<bool>());

        // A full mask gives what the unmasked fused path gives.
        var full = model.forward(new GptInput(TokenIds: batch, AttentionMask: ones_like(mask))).HiddenStates;
        var unmasked = model.forward(new GptInput(TokenIds: batch)).HiddenStates;
        Assert.True(allclose(full, unmasked, atol: 1e-5));
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 3)]
    [InlineData(true, 2)]
    public void ReadingOutTheFirstPositionsGivesTheFirstRowsOfTheFullForward(bool causal, int first)
    {
        using var scope = NewDisposeScope();
        using var model = new GptModel(Tiny(causal));
        var ids = RandomIds(4, 9, 37, 5);
        var mask = ones(4, 9, dtype: @bool);
        mask[1, 6..] = false;   // a padded row
        foreach (var padding in new Tensor?[] { null, mask })
        {
            var full = model.forward(new GptInput(TokenIds: ids, AttentionMask: padding));
            var read = model.forward(new GptInput(TokenIds: ids, AttentionMask: padding, FirstPositions: first));
            Assert.Equal(new long[] { 4, first, 16 }, read.HiddenStates.shape);
            Assert.True(read.HiddenStates.allclose(full.HiddenStates.narrow(1, 0, first), rtol: 0, atol: 1e-6));
            Assert.True(read.Logits!.allclose(full.Logits!.narrow(1, 0, first), rtol: 0, atol: 1e-5));
            // The last position is a key of the first ones (bidirectional), so it must still be read.
            if (!causal)
            {
                var changed = ids.clone();
                changed[.., 8] = (changed[.., 8] + 1) % 37;
                var other = model.forward(new GptInput(TokenIds: changed, AttentionMask: padding, FirstPositions: first));
                Assert.False(other.HiddenStates.allclose(read.HiddenStates, rtol: 0, atol: 1e-6));
            }
        }
        Assert.Throws<ArgumentException>(() => model.forward(new GptInput(TokenIds: ids, FirstPositions: 10)));
    }

    [Fact]
    public void SameSeedSameWeightsDifferentSeedDifferentWeights()
    {
        using var a = new GptModel(Tiny(), seed: 7);
        using var b = new GptModel(Tiny(), seed: 7);
        using var c = new GptModel(Tiny(), seed: 8);
        Assert.True(a.TokenEmbeddingWeight.equal(b.TokenEmbeddingWeight).all().item<bool>());
        Assert.False(a.TokenEmbeddingWeight.equal(c.TokenEmbeddingWeight).all().item<bool>());
    }

    [Fact]
    public void RejectsSequencesLongerThanTheBlockAndBadInputs()
    {
        using var scope = NewDisposeScope();
        using var model = new GptModel(Tiny());
        var tooLong = Assert.Throws<ArgumentException>(() => model.forward(RandomIds(1, 17, 37, 1)));
        Assert.Contains("block size 16", tooLong.Message);
        Assert.Throws<ArgumentException>(() => model.forward(new GptInput()));
        Assert.Throws<ArgumentException>(() => model.forward(new GptInput(Embeddings: zeros(1, 4, 8))));
        Assert.Throws<System.ComponentModel.DataAnnotations.ValidationException>(() => new GptModel(new GptConfig { NEmbd = 10, NHead = 4 }));
    }
}
