using RLAgents.Environments;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.Policies.Serialization;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests;

/// <summary>Policy weights through the safetensors file format and back into a network.</summary>
public class ModuleWeightsTests
{
    private static readonly ObservationSpace Space = ObservationSpace.Single("state", new BoxSpace(-1, 1, [4]));

    [Fact]
    public void ModuleWeightsRoundTripIntoAFreshNetworkThroughAFile()
    {
        using var scope = NewDisposeScope();
        string path = Path.Combine(Path.GetTempPath(), $"rlagents-weights-{Guid.NewGuid():N}.safetensors");
        try
        {
            var source = new ActorCriticPolicy(Space, new DiscreteSpace(2), new PolicyOptions(), new Rng(1UL));
            var target = new ActorCriticPolicy(Space, new DiscreteSpace(2), new PolicyOptions(), new Rng(2UL));
            Assert.NotEqual(Flat(source), Flat(target));
            Safetensors.Write(path, ModuleWeights.Named(source, "policy."), new Dictionary<string, string> { ["format"] = "test" });
            using var contents = Safetensors.Read(path);
            Assert.Equal("test", contents.Metadata["format"]);
            Assert.All(contents.Tensors.Keys, k => Assert.StartsWith("policy.", k));
            ModuleWeights.Load(target, contents.Tensors, "policy.", path);
            Assert.Equal(Flat(source), Flat(target));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void MissingOrMisshapenTensorsNameTheTensor()
    {
        using var scope = NewDisposeScope();
        var policy = new ActorCriticPolicy(Space, new DiscreteSpace(2), new PolicyOptions(), new Rng(1UL));
        var missing = Assert.Throws<InvalidDataException>(() => ModuleWeights.Load(policy, new Dictionary<string, Tensor>(), "policy.", "ckpt"));
        Assert.Contains("ckpt: tensor 'policy.", missing.Message);
        var wrong = ModuleWeights.Named(policy, "policy.").ToDictionary(p => p.Name, p => p.Tensor);
        string first = wrong.Keys.First();
        wrong[first] = zeros(3, 3);
        var shape = Assert.Throws<InvalidDataException>(() => ModuleWeights.Load(policy, wrong, "policy.", "ckpt"));
        Assert.Contains($"'{first}' has shape [3, 3]", shape.Message);
    }

    private static float[] Flat(nn.Module m) => m.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
}
