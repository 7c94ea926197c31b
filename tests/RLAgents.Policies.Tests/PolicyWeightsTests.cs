using RLAgents.Environments;
using RLAgents.LanguageModel.Checkpoints;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests;

/// <summary>Policy weights through the safetensors file format and back into a network.</summary>
public class PolicyWeightsTests
{
    private static readonly ObservationSpace Space = ObservationSpace.Single("state", new BoxSpace(-1, 1, [4]));

    [Fact]
    public void PolicyWeightsRoundTripIntoAFreshNetworkThroughAFile()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        string path = dir.Combine("policy.safetensors");
        var source = new ActorCriticPolicy(Space, new DiscreteSpace(2), new PolicyOptions(), new Rng(1UL));
        var target = new ActorCriticPolicy(Space, new DiscreteSpace(2), new PolicyOptions(), new Rng(2UL));
        Assert.NotEqual(Flat(source), Flat(target));
        Safetensors.Write(path, ModelWeights.Named(source, "policy."), new Dictionary<string, string> { ["format"] = "test" });
        using var contents = Safetensors.Read(path);
        Assert.Equal("test", contents.Metadata["format"]);
        Assert.All(contents.Tensors.Keys, k => Assert.StartsWith("policy.", k));
        ModelWeights.Load(target, contents.Tensors, path, _ => true, "policy.");
        Assert.Equal(Flat(source), Flat(target));
    }

    [Fact]
    public void MissingOrMisshapenTensorsNameTheTensor()
    {
        using var scope = NewDisposeScope();
        var policy = new ActorCriticPolicy(Space, new DiscreteSpace(2), new PolicyOptions(), new Rng(1UL));
        var missing = Assert.Throws<CheckpointException>(() => ModelWeights.Load(policy, new Dictionary<string, Tensor>(), "ckpt", _ => true, "policy."));
        Assert.Contains("ckpt: tensor 'policy.", missing.Message);
        Assert.Contains("is missing from the file", missing.Message);
        var wrong = ModelWeights.Named(policy, "policy.").ToDictionary(p => p.Name, p => p.Tensor);
        string first = wrong.Keys.First();
        wrong[first] = zeros(3, 3);
        var shape = Assert.Throws<CheckpointException>(() => ModelWeights.Load(policy, wrong, "ckpt", _ => true, "policy."));
        Assert.Contains($"'{first}' has shape [3, 3]", shape.Message);
    }

    private static float[] Flat(nn.Module m) => m.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
}
