using System.Text.Json;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Model;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RLAgents.LanguageModel.Tests.Checkpoints;

public class HuggingFaceGpt2Tests
{
    private const int V = 29, T = 12, C = 16, L = 2, H = 4;

    /// <summary>Writes a tiny GPT-2 folder in Hugging Face's layout from random tensors and returns them.</summary>
    private static Dictionary<string, Tensor> WriteTinyGpt2(string folder, bool lmHeadPrefix, bool transposeConv1D = true)
    {
        File.WriteAllText(Path.Combine(folder, "config.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model_type"] = "gpt2", ["vocab_size"] = V, ["n_positions"] = T, ["n_ctx"] = T, ["n_embd"] = C,
            ["n_layer"] = L, ["n_head"] = H, ["layer_norm_epsilon"] = 1e-5, ["activation_function"] = "gelu_new",
        }));
        using var g = new Generator(11);
        Tensor R(params long[] shape) => randn(shape, generator: g) * 0.3;
        var hf = new Dictionary<string, Tensor> { ["wte.weight"] = R(V, C), ["wpe.weight"] = R(T, C), ["ln_f.weight"] = 1 + R(C), ["ln_f.bias"] = R(C) };
        for (int i = 0; i < L; i++)
        {
            string p = $"h.{i}.";
            hf[p + "ln_1.weight"] = 1 + R(C); hf[p + "ln_1.bias"] = R(C);
            hf[p + "ln_2.weight"] = 1 + R(C); hf[p + "ln_2.bias"] = R(C);
            // Conv1D layout: weight [in, out].
            hf[p + "attn.c_attn.weight"] = R(C, 3 * C); hf[p + "attn.c_attn.bias"] = R(3 * C);
            hf[p + "attn.c_proj.weight"] = R(C, C); hf[p + "attn.c_proj.bias"] = R(C);
            hf[p + "mlp.c_fc.weight"] = R(C, 4 * C); hf[p + "mlp.c_fc.bias"] = R(4 * C);
            hf[p + "mlp.c_proj.weight"] = R(4 * C, C); hf[p + "mlp.c_proj.bias"] = R(C);
        }
        var file = hf.ToDictionary(kv => (lmHeadPrefix ? "transformer." : "") + kv.Key, kv => kv.Value);
        if (!transposeConv1D) file[(lmHeadPrefix ? "transformer." : "") + "h.1.mlp.c_fc.weight"] = hf["h.1.mlp.c_fc.weight"].t().contiguous();
        if (lmHeadPrefix) file["lm_head.weight"] = hf["wte.weight"];
        for (int i = 0; i < L; i++) file[(lmHeadPrefix ? "transformer." : "") + $"h.{i}.attn.bias"] = ones(1, 1, T, T).tril();
        Safetensors.Write(Path.Combine(folder, "model.safetensors"), file);
        return hf;
    }

    /// <summary>GPT-2's forward written directly on the Hugging Face tensors (Conv1D: x W + b), as an independent reference.</summary>
    private static Tensor ReferenceLogits(Dictionary<string, Tensor> w, Tensor ids)
    {
        long b = ids.shape[0], t = ids.shape[1], hs = C / H;
        Tensor Ln(Tensor x, string p) => F.layer_norm(x, [C], w[p + ".weight"], w[p + ".bias"], 1e-5);
        Tensor Conv1D(Tensor x, string p) => addmm(w[p + ".bias"], x.reshape(-1, x.shape[^1]), w[p + ".weight"], 1, 1).reshape(b, t, -1);
        var x = w["wte.weight"].index_select(0, ids.flatten()).reshape(b, t, C) + w["wpe.weight"][..(int)t];
        var future = ones(t, t).triu(1).to(@bool);
        for (int i = 0; i < L; i++)
        {
            var qkv = Conv1D(Ln(x, $"h.{i}.ln_1"), $"h.{i}.attn.c_attn").split(C, 2);
            Tensor Heads(Tensor z) => z.reshape(b, t, H, hs).permute(0, 2, 1, 3);
            var scores = matmul(Heads(qkv[0]), Heads(qkv[1]).transpose(-1, -2)) / Math.Sqrt(hs);
            var attended = matmul(scores.masked_fill(future, double.NegativeInfinity).softmax(-1), Heads(qkv[2]));
            x = x + Conv1D(attended.permute(0, 2, 1, 3).reshape(b, t, C), $"h.{i}.attn.c_proj");
            var hidden = F.gelu(Conv1D(Ln(x, $"h.{i}.ln_2"), $"h.{i}.mlp.c_fc"), TorchSharp.Modules.GELU.Approximate.tanh);
            x = x + Conv1D(hidden, $"h.{i}.mlp.c_proj");
        }
        return matmul(Ln(x, "ln_f"), w["wte.weight"].t());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LoadedModelMatchesTheReferenceForward(bool lmHeadPrefix)
    {
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        var hf = WriteTinyGpt2(dir.Path, lmHeadPrefix);
        using var model = HuggingFaceGpt2.Load(dir.Path);
        Assert.Equal(GptActivation.GeluTanh, model.Config.Activation);
        Assert.Equal(T, model.Config.BlockSize);
        model.eval();
        var ids = tensor(new long[,] { { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8 }, { 0, 28, 7, 7, 1, 2, 3, 4, 5, 6, 7, 8 } });
        var expected = ReferenceLogits(hf, ids);
        var actual = model.forward(ids);
        Assert.True(allclose(expected, actual, rtol: 1e-4, atol: 1e-4), $"max diff {(expected - actual).abs().max().item<float>()}");
    }

    [Fact]
    public void AWeightInTheWrongLayoutIsNamedAndNothingLoads()
    {
        using var dir = new TempDirectory();
        WriteTinyGpt2(dir.Path, lmHeadPrefix: true, transposeConv1D: false);
        var error = Assert.Throws<CheckpointException>(() => HuggingFaceGpt2.Load(dir.Path));
        Assert.Contains("h.1.mlp.c_fc.weight", error.Message);
        Assert.Contains("shape", error.Message);
    }

    [Fact]
    public void MissingConfigKeyIsNamed()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(Path.Combine(dir.Path, "config.json"), """{"vocab_size": 10, "n_positions": 8, "n_embd": 8, "n_layer": 1}""");
        Assert.Contains("'n_head'", Assert.Throws<CheckpointException>(() => HuggingFaceGpt2.ReadConfig(dir.Path)).Message);
    }

    [Fact]
    public void ImportExportImportKeepsEveryWeightAndTheHuggingFaceLayout()
    {
        using var source = new TempDirectory();
        using var exported = new TempDirectory();
        using var scope = NewDisposeScope();
        WriteTinyGpt2(source.Path, lmHeadPrefix: true);
        using var imported = HuggingFaceGpt2.Load(source.Path);
        var tokenizer = RLAgents.LanguageModel.Tokenization.ByteLevelBpeTokenizer.Train(["the red ball", "the blue key"], vocabSize: 270);
        HuggingFaceGpt2.Save(imported, exported.Path, tokenizer);
        using var again = HuggingFaceGpt2.Load(exported.Path);

        // Weights survive the round trip bit for bit.
        var first = imported.state_dict();
        var second = again.state_dict();
        Assert.Equal(first.Keys.Order(), second.Keys.Order());
        foreach (var (name, value) in first) Assert.True(Same(value, second[name]), name);

        // The file holds GPT2LMHeadModel's names and Conv1D layout: each tensor equals the source file's.
        using var original = Safetensors.Read(Path.Combine(source.Path, "model.safetensors"));
        using var written = Safetensors.Read(Path.Combine(exported.Path, "model.safetensors"));
        var expectedNames = original.Tensors.Keys.Where(n => n != "lm_head.weight" && !n.EndsWith(".attn.bias", StringComparison.Ordinal)).Order();
        Assert.Equal(expectedNames, written.Tensors.Keys.Order());
        foreach (var (name, value) in written.Tensors) Assert.True(Same(value, original.Tensors[name]), name);
        Assert.Equal("pt", written.Metadata["format"]);

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(exported.Path, "config.json")));
        var c = config.RootElement;
        Assert.Equal("gpt2", c.GetProperty("model_type").GetString());
        Assert.Equal("GPT2LMHeadModel", c.GetProperty("architectures")[0].GetString());
        Assert.Equal((V, T, C, L, H), (c.GetProperty("vocab_size").GetInt32(), c.GetProperty("n_positions").GetInt32(), c.GetProperty("n_embd").GetInt32(),
            c.GetProperty("n_layer").GetInt32(), c.GetProperty("n_head").GetInt32()));
        Assert.Equal("gelu_new", c.GetProperty("activation_function").GetString());
        Assert.Equal(tokenizer.Special.Eos, c.GetProperty("eos_token_id").GetInt32());
        Assert.True(File.Exists(Path.Combine(exported.Path, "tokenizer.json")));
        Assert.True(File.Exists(Path.Combine(exported.Path, "merges.txt")));
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && equal(a, b).all().item<bool>();

    [Fact]
    public void AModelGptTwoCannotExpressIsRefusedWithTheReason()
    {
        using var dir = new TempDirectory();
        using var noBias = new GptModel(new GptConfig { VocabSize = 8, BlockSize = 4, NEmbd = 8, NLayer = 1, NHead = 2, Bias = false });
        Assert.Contains("bias", Assert.Throws<CheckpointException>(() => HuggingFaceGpt2.Save(noBias, dir.Path)).Message);
        using var encoder = new GptModel(new GptConfig { VocabSize = 8, BlockSize = 4, NEmbd = 8, NLayer = 1, NHead = 2, Causal = false });
        Assert.Contains("causal", Assert.Throws<CheckpointException>(() => HuggingFaceGpt2.Save(encoder, dir.Path)).Message);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
