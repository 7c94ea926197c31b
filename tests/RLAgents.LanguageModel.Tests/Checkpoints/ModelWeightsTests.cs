using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Model;
using RLAgents.LanguageModel.Tests.Model;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Tests.Checkpoints;

public class ModelWeightsTests
{
    private static Dictionary<string, Tensor> Snapshot(GptModel model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    private static bool Same(GptModel model, Dictionary<string, Tensor> snapshot) =>
        model.state_dict().All(kv => kv.Value.equal(snapshot[kv.Key]).all().item<bool>());

    [Fact]
    public void SaveThenLoadGivesIdenticalOutputs()
    {
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir.Path, "model.safetensors");
        using var source = new GptModel(GptModelTests.Tiny(), seed: 1);
        using var target = new GptModel(GptModelTests.Tiny(), seed: 2);
        var ids = tensor(new long[,] { { 1, 5, 9, 2 } });
        Assert.False(allclose(source.forward(ids), target.forward(ids)));

        ModelWeights.Save(source, path);
        ModelWeights.Load(target, path);
        Assert.True(source.forward(ids).equal(target.forward(ids)).all().item<bool>());
    }

    [Fact]
    public void WrongShapeNamesTheTensorAndLeavesTheModelUntouched()
    {
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir.Path, "model.safetensors");
        var wider = GptModelTests.Tiny();
        wider.VocabSize = 40;
        using (var other = new GptModel(wider)) ModelWeights.Save(other, path);
        using var model = new GptModel(GptModelTests.Tiny());
        var before = Snapshot(model);
        var error = Assert.Throws<CheckpointException>(() => ModelWeights.Load(model, path));
        Assert.Contains("'wte.weight'", error.Message);
        Assert.Contains("[40, 16]", error.Message);
        Assert.True(Same(model, before));
    }

    [Fact]
    public void UnknownMissingAndWrongDtypeTensorsAreErrors()
    {
        using var scope = NewDisposeScope();
        using var model = new GptModel(GptModelTests.Tiny());
        var before = Snapshot(model);
        var good = Snapshot(model);

        var extra = new Dictionary<string, Tensor>(good) { ["h.9.attn.c_attn.weight"] = zeros(1) };
        Assert.Contains("'h.9.attn.c_attn.weight' does not exist", Assert.Throws<CheckpointException>(() => ModelWeights.Load(model, extra, "f")).Message);

        var missing = new Dictionary<string, Tensor>(good);
        missing.Remove("ln_f.bias");
        Assert.Contains("'ln_f.bias' is missing", Assert.Throws<CheckpointException>(() => ModelWeights.Load(model, missing, "f")).Message);

        var wrongType = new Dictionary<string, Tensor>(good) { ["ln_f.bias"] = zeros(16, dtype: int64) };
        Assert.Contains("'ln_f.bias' has dtype", Assert.Throws<CheckpointException>(() => ModelWeights.Load(model, wrongType, "f")).Message);

        // Perturb every tensor but one: the failing load must not have copied any of them.
        var partial = good.ToDictionary(kv => kv.Key, kv => kv.Value + 1);
        partial["wpe.weight"] = zeros(3, 3);
        Assert.Throws<CheckpointException>(() => ModelWeights.Load(model, partial, "f"));
        Assert.True(Same(model, before));
    }
}
