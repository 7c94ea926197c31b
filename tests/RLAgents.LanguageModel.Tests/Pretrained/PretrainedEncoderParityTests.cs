using RLAgents.LanguageModel.Onnx;
using RLAgents.LanguageModel.Pretrained;
using RLAgents.LanguageModel.Tests.Onnx;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Tests.Pretrained;

/// <summary>
/// The TorchSharp BERT loaded from the NuGet package against ONNX Runtime running the package's own
/// model.onnx, unoptimised (the literal graph), on the same token ids.
/// <para>
/// Real tokens must agree within 1e-4 (measured: about 4e-6). Padded positions are compared too, to
/// check that padding is handled as BERT does (padded queries attend the real keys), but within 1e-3:
/// their states are ill-conditioned in float32 (for a 3-token text padded to 70, ONNX Runtime and
/// this encoder each differ from a float64 evaluation of the same weights by 7–8e-5, and from each
/// other by 1.5e-4). They carry no information and every consumer masks them.
/// </para>
/// </summary>
[Collection(MiniLmCollection.Name)]
public class PretrainedEncoderParityTests(MiniLmFixture fixture)
{
    internal readonly record struct Parity(double MaxAbsReal, double MaxAbsPadded, double MinCosine);

    /// <summary>Both forwards on one padded batch: max |Δ| over real and over padded positions, and the lowest cosine of the mean-pooled rows.</summary>
    internal static Parity Compare(PretrainedTextEncoder encoder, InferenceSession session, IReadOnlyList<string> texts)
    {
        using var scope = NewDisposeScope();
        using var batch = encoder.Tokenizer.EncodeBatch(texts);
        long b = batch.Ids.shape[0], t = batch.Ids.shape[1];
        var inputs = new Dictionary<string, (Array, long[])>
        {
            ["input_ids"] = (batch.Ids.data<long>().ToArray(), [b, t]),
            ["attention_mask"] = (batch.Mask.data<long>().ToArray(), [b, t]),
            ["token_type_ids"] = (new long[b * t], [b, t]),
        };
        var (reference, shape) = OrtReference.Run(session, inputs, "last_hidden_state");
        Assert.Equal(new[] { b, t, encoder.Width }, shape);
        var expected = tensor(reference, shape);
        Tensor actual;
        using (no_grad()) actual = encoder.Encoder.forward(new BertInput(TokenIds: batch.Ids, AttentionMask: batch.Mask));
        var error = (actual - expected).abs().amax([2]);  // (B, T)
        var real = batch.Mask.to(@bool);
        double maxReal = error.masked_select(real).max().item<float>();
        double maxPadded = real.all().item<bool>() ? 0 : error.masked_select(real.logical_not()).max().item<float>();
        var cosine = nn.functional.cosine_similarity(
            BertEncoder.Pool(actual.to(float64), batch.Mask, TextPooling.Mean), BertEncoder.Pool(expected.to(float64), batch.Mask, TextPooling.Mean), dim: 1);
        return new Parity(maxReal, maxPadded, cosine.min().item<double>());
    }

    private static void AssertParity(Parity parity, string what)
    {
        Assert.True(parity.MaxAbsReal <= 1e-4, $"{what}: max |Δ| of last_hidden_state over real tokens = {parity.MaxAbsReal:E2}");
        Assert.True(parity.MaxAbsPadded <= 1e-3, $"{what}: max |Δ| over padded positions = {parity.MaxAbsPadded:E2}");
        Assert.True(parity.MinCosine >= 0.99999, $"{what}: lowest cosine of mean-pooled embeddings = {parity.MinCosine:F7}");
    }

    [Fact]
    public void LoadedModelMatchesOnnxRuntimeOnFiftyVariedTextsInPaddedBatches()
    {
        // The 256-token text alone (it would pad every other text to 256 and make the test slow).
        var longest = fixture.Texts.MaxBy(t => fixture.Encoder.Tokenizer.Encode(t).Length)!;
        Assert.Equal(256, fixture.Encoder.Tokenizer.Encode(longest).Length);
        var others = fixture.Texts.Where(t => t != longest).ToList();
        Assert.True(others.Count >= 50);
        // Two padded batches by length (up to 20 tokens, and longer) keep the padding real but the test quick.
        var (shorter, longer) = (others.Where(t => fixture.Encoder.Tokenizer.Encode(t).Length <= 20).ToList(), others.Where(t => fixture.Encoder.Tokenizer.Encode(t).Length > 20).ToList());
        Assert.True(shorter.Count > 1 && longer.Count > 1);
        AssertParity(Compare(fixture.Encoder, fixture.Session, shorter), $"{shorter.Count} texts padded together");
        AssertParity(Compare(fixture.Encoder, fixture.Session, longer), $"{longer.Count} longer texts padded together");
        AssertParity(Compare(fixture.Encoder, fixture.Session, [longest]), "the 256-token text");
    }

    [Fact]
    public void EachTextAloneMatchesOnnxRuntimeWithoutPadding()
    {
        foreach (var text in new[] { "go to the red ball", "Pick up the GREY key, then open the door!", "", "xylophonist zorbing quokkas" })
        {
            AssertParity(Compare(fixture.Encoder, fixture.Session, [text]), $"'{text}'");
        }
    }

    [Fact]
    public void PaddingLeavesTheRealTokensStatesUnchanged()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        const string text = "put the green box next to the purple ball";
        using var alone = fixture.Encoder.Encode([text]);
        using var padded = fixture.Encoder.Encode([text, "a much longer text that forces padding onto the first one, with many more tokens"]);
        long n = alone.Hidden.shape[1];
        Assert.True(padded.Hidden.shape[1] > n);
        Assert.True(allclose(alone.Hidden[0], padded.Hidden[0, ..(int)n], rtol: 0, atol: 1e-5));
        Assert.False(padded.Mask[0, (int)n].item<bool>());
    }

    [Fact]
    public void ConfigurationIsReadFromTheGraph()
    {
        var config = fixture.Encoder.Encoder.Config;
        Assert.Equal(6, config.Layers);
        Assert.Equal(384, config.Width);
        Assert.Equal(12, config.Heads);
        Assert.Equal(1536, config.MlpWidth);
        Assert.Equal(30522, config.VocabSize);
        Assert.Equal(512, config.MaxPositions);
        Assert.Equal(2, config.TypeVocabSize);
        Assert.Equal(1e-12, config.LayerNormEpsilon, 1e-15);
        // 22.7 M parameters as published: the encoder without the pooler (384² + 384) and position_ids buffer.
        Assert.Equal(22_565_376, fixture.Encoder.Encoder.ParameterCount);
    }

    [Fact]
    public void WeightsHashFollowsItsDocumentedFormatAndStaysPinned()
    {
        // The documented format, written out independently: per initializer in ordinal name order,
        // name length + name, data type, rank, dims, byte count, bytes (all little-endian).
        var graph = OnnxModel.Parse(fixture.ModelBytes, "model.onnx").Graph!;
        using var sha = System.Security.Cryptography.SHA256.Create();
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
            foreach (var t in graph.Initializers.OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                var name = System.Text.Encoding.UTF8.GetBytes(t.Name!);
                w.Write(name.Length);
                w.Write(name);
                w.Write((int)t.DataType!.Value);
                w.Write(t.Dims.Count);
                foreach (long d in t.Dims) w.Write(d);
                w.Write((long)t.RawData!.Value.Length);
                w.Write(t.RawData.Value.Span);
            }
        buffer.Position = 0;
        string expected = Convert.ToHexStringLower(sha.ComputeHash(buffer));
        Assert.Equal(expected, fixture.Encoder.WeightsSha256);
        // Agent checkpoints store this value; a change of format or package must show up here first.
        Assert.Equal("1f31d166b69302e75c3e277b3f9f2b69eaeb5fbf09dc1cd1365239a301ffc24b", fixture.Encoder.WeightsSha256);

        fixture.Encoder.VerifyWeights(expected.ToUpperInvariant());
        var error = Assert.Throws<PretrainedModelException>(() => fixture.Encoder.VerifyWeights(new string('0', 64)));
        Assert.Contains($"base weights hash to {expected}, the checkpoint expects {new string('0', 64)}", error.Message);
    }

    [Fact]
    public void ArcticEmbedXsLoadsAsTheSameArchitectureAndMatchesOnnxRuntime()
    {
        using var arctic = PretrainedTextEncoders.Load(PretrainedTextEncoders.ArcticEmbedXs);
        arctic.Encoder.eval();
        var config = arctic.Encoder.Config;
        Assert.Equal((6, 384, 12, 1536, 30522, 512), (config.Layers, config.Width, config.Heads, config.MlpWidth, config.VocabSize, config.MaxPositions));
        Assert.NotEqual(fixture.Encoder.WeightsSha256, arctic.WeightsSha256);
        var info = PretrainedTextEncoders.Find(PretrainedTextEncoders.ArcticEmbedXs);
        byte[] model;
        using (var stream = AssemblyResources.Open(PretrainedTextEncoders.AssemblyPath(info), info.ModelResource))
        {
            model = new byte[stream.Length];
            stream.ReadExactly(model);
        }
        using var session = OrtReference.Session(model);
        AssertParity(Compare(arctic, session, fixture.Texts.Take(12).ToList()), "arctic-embed-xs");
    }
}
