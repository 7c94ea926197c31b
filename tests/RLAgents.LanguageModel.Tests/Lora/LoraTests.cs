using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Lora;
using RLAgents.LanguageModel.Model;
using RLAgents.LanguageModel.Tests.Model;
using RLAgents.LanguageModel.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Tests.Lora;

public class LoraTests
{
    private static readonly LoraOptions Options = new() { Rank = 4, Alpha = 8, Seed = 3 };

    private static Tensor Ids(long seed)
    {
        using var g = new Generator((ulong)seed);
        return randint(37, [2, 9], dtype: int64, generator: g);
    }

    /// <summary>A few AdamW steps on adapters only, so B is no longer zero.</summary>
    private static void TrainAdapters(GptModel model, int steps = 5)
    {
        using var optimizer = new AdamOptimizer(LoraAdapters.TrainableParameters(model), new AdamOptions { Beta2 = 0.95, MaxGradNorm = 1.0 });
        for (int i = 0; i < steps; i++)
        {
            var ids = Ids(100 + i);
            TrainingStep.Run(optimizer, () => CausalLanguageModeling.Loss(model, ids[.., ..8], ids[.., 1..]), 1e-2);
        }
    }

    [Fact]
    public void OnlyAdaptersReceiveGradients()
    {
        using var scope = NewDisposeScope();
        using var model = new GptModel(GptModelTests.Tiny());
        var adapted = LoraAdapters.Attach(model, Options);
        Assert.Equal(2 * 4, adapted.Count);  // 2 blocks × 4 projections
        Assert.Contains("h.1.mlp.c_fc", adapted);

        var ids = Ids(1);
        CausalLanguageModeling.Loss(model, ids[.., ..8], ids[.., 1..]).backward();
        foreach (var (name, p) in model.named_parameters())
        {
            if (ModelWeights.IsAdapterTensor(name)) Assert.NotNull(p.grad);
            else Assert.Null(p.grad);
        }
        // B starts at zero, so only B has a nonzero gradient on the first step.
        var bGrad = model.named_parameters().First(p => p.name == "h.0.attn.c_attn.lora_B").parameter.grad!;
        Assert.True(bGrad.abs().sum().item<float>() > 0);
        Assert.Equal(2 * 2 * 4, LoraAdapters.TrainableParameters(model).Count());
    }

    [Fact]
    public void TrainingMovesAdaptersAndLeavesBaseWeightsAlone()
    {
        using var scope = NewDisposeScope();
        using var model = new GptModel(GptModelTests.Tiny());
        var baseBefore = ModelWeights.Collect(model).ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var ids = Ids(2);
        var before = model.forward(ids);
        LoraAdapters.Attach(model, Options);
        // B = 0: attaching changes nothing.
        Assert.True(allclose(before, model.forward(ids), atol: 1e-6));
        TrainAdapters(model);
        Assert.False(allclose(before, model.forward(ids), atol: 1e-4));
        foreach (var (name, t) in ModelWeights.Collect(model, n => !ModelWeights.IsAdapterTensor(n))) Assert.True(t.equal(baseBefore[name]).all().item<bool>(), name);
    }

    [Fact]
    public void MergedOutputEqualsUnmergedAndUnmergeRestoresTheBase()
    {
        using var scope = NewDisposeScope();
        using var model = new GptModel(GptModelTests.Tiny());
        var baseWeight = model.named_parameters().First(p => p.name == "h.0.mlp.c_fc.weight").parameter.clone();
        LoraAdapters.Attach(model, Options);
        TrainAdapters(model);
        model.eval();
        var ids = Ids(3);
        var unmerged = model.forward(ids);
        LoraAdapters.Merge(model);
        var fcWeight = model.named_parameters().First(p => p.name == "h.0.mlp.c_fc.weight").parameter;
        Assert.False(allclose(fcWeight, baseWeight, atol: 1e-6));
        Assert.True(allclose(unmerged, model.forward(ids), rtol: 1e-4, atol: 1e-5));
        LoraAdapters.Unmerge(model);
        Assert.True(allclose(fcWeight, baseWeight, atol: 1e-6));
        Assert.True(allclose(unmerged, model.forward(ids), rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void AdaptersSaveAndLoadSeparately()
    {
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        using var trained = new GptModel(GptModelTests.Tiny(), seed: 9);
        LoraAdapters.Attach(trained, Options);
        TrainAdapters(trained);
        LoraAdapters.Save(trained, Options, dir.Path);
        ModelWeights.Save(trained, Path.Combine(dir.Path, "base.safetensors"));
        using (var file = Safetensors.Read(Path.Combine(dir.Path, LoraAdapters.WeightsFile)))
            Assert.All(file.Tensors.Keys, k => Assert.Contains(".lora_", k));

        using var fresh = new GptModel(GptModelTests.Tiny(), seed: 9);  // same base weights
        var loaded = LoraAdapters.Load(fresh, dir.Path);
        Assert.Equal(Options.Rank, loaded.Rank);
        var ids = Ids(4);
        Assert.True(trained.forward(ids).equal(fresh.forward(ids)).all().item<bool>());
        Assert.Equal(LoraAdapters.TrainableParameters(trained).Count(), LoraAdapters.TrainableParameters(fresh).Count());
    }

    [Fact]
    public void BadAdapterFilesAndTargetsAreNamed()
    {
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        using var model = new GptModel(GptModelTests.Tiny());
        Assert.Contains("'attn.q_proj'", Assert.Throws<ArgumentException>(() => LoraAdapters.Attach(model, new LoraOptions { TargetModules = ["attn.q_proj"] })).Message);

        LoraAdapters.Attach(model, Options);
        LoraAdapters.Save(model, Options, dir.Path);
        var wider = GptModelTests.Tiny();
        wider.NEmbd = 32;
        using var other = new GptModel(wider);
        var error = Assert.Throws<CheckpointException>(() => LoraAdapters.Load(other, dir.Path));
        Assert.Contains("lora_A", error.Message);
        Assert.DoesNotContain(other.Projections(), p => p.Layer.HasAdapter);
    }
}
