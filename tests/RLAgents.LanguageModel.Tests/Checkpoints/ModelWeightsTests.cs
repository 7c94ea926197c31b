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

/// <summary>A module whose <c>base</c> layer comes from elsewhere and whose <c>stamp</c> buffer says which base it was trained on.</summary>
internal sealed class WithExternalBase : nn.Module<Tensor, Tensor>, IExternalWeights
{
    private readonly TorchSharp.Modules.Linear @base;
    private readonly TorchSharp.Modules.Linear head;
    private readonly Tensor stamp;

    public WithExternalBase(float baseValue, long stampValue) : base(nameof(WithExternalBase))
    {
        @base = nn.Linear(3, 4);
        head = nn.Linear(4, 2);
        using (no_grad())
        {
            @base.weight!.fill_(baseValue);
            @base.bias!.fill_(baseValue);
        }
        stamp = tensor(new[] { stampValue });
        RegisterComponents();
    }

    public IReadOnlyCollection<string> ExternalTensors => ["base.weight", "base.bias"];

    public List<string> Checked { get; } = [];

    public void CheckSource(IReadOnlyDictionary<string, Tensor> tensors, string source)
    {
        Checked.Add(string.Join(",", tensors.Keys.Order(StringComparer.Ordinal)));
        if (tensors["stamp"].item<long>() != stamp.item<long>()) throw new CheckpointException($"{source}: trained on base {tensors["stamp"].item<long>()}, this is {stamp.item<long>()}");
    }

    public override Tensor forward(Tensor x) => head.forward(@base.forward(x));
}

public class ExternalWeightsTests
{
    [Fact]
    public void TensorsRestoredElsewhereAreNeitherSavedNorLoadedAndTheirSourceIsCheckedFirst()
    {
        using var trained = new WithExternalBase(0.5f, 7);
        using var outer = nn.Sequential(("inner", trained));
        var named = ModelWeights.Named(outer, "policy.").Select(t => t.Name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["policy.inner.head.bias", "policy.inner.head.weight", "policy.inner.stamp"], named);
        Assert.Equal(["inner.base.bias", "inner.base.weight"], ModelWeights.ExternalNames(outer).Order(StringComparer.Ordinal));

        // A fresh module with the same base loads what trained; its own base stays.
        using var fresh = new WithExternalBase(0.5f, 7);
        using var freshOuter = nn.Sequential(("inner", fresh));
        using (var scope = NewDisposeScope())
        {
            var tensors = ModelWeights.Named(outer, "policy.").ToDictionary(t => t.Name, t => t.Tensor);
            ModelWeights.Load(freshOuter, tensors, "run.safetensors", _ => true, "policy.");
            Assert.Equal(["head.bias,head.weight,stamp"], fresh.Checked);
            var x = ones(1, 3);
            Assert.True(trained.forward(x).equal(fresh.forward(x)).all().item<bool>());
        }

        // Another base: one line, before anything is copied.
        using var other = new WithExternalBase(0.25f, 8);
        using var otherOuter = nn.Sequential(("inner", other));
        using (var scope = NewDisposeScope())
        {
            var before = other.forward(ones(1, 3)).clone();
            var tensors = ModelWeights.Named(outer, "policy.").ToDictionary(t => t.Name, t => t.Tensor);
            var error = Assert.Throws<CheckpointException>(() => ModelWeights.Load(otherOuter, tensors, "run.safetensors", _ => true, "policy."));
            Assert.Equal("run.safetensors: trained on base 7, this is 8", error.Message);
            Assert.True(before.equal(other.forward(ones(1, 3))).all().item<bool>());
        }
    }
}
