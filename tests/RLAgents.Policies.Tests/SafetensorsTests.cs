using System.Buffers.Binary;
using System.Text.Json;
using RLAgents.Environments;
using RLAgents.Policies.Serialization;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests;

/// <summary>The safetensors blob format and module weight export / import.</summary>
public class SafetensorsTests
{
    [Fact]
    public void HeaderFollowsTheFormatAndDataRoundTrips()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
        var b = tensor(new long[] { 7, -8 });
        var blob = Safetensors.Serialize([("b", b), ("a", a)], new Dictionary<string, string> { ["k"] = "v" });
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(blob);
        Assert.Equal(0UL, n % 8);
        using var header = JsonDocument.Parse(blob.AsMemory(8, (int)n));
        var entry = header.RootElement.GetProperty("a");
        Assert.Equal("F32", entry.GetProperty("dtype").GetString());
        Assert.Equal(new[] { 2L, 3L }, entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(new[] { 0L, 24L }, entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(1f, BitConverter.ToSingle(blob, 8 + (int)n));
        var (tensors, meta) = Safetensors.Deserialize(blob);
        Assert.Equal("v", meta["k"]);
        Assert.Equal(a.data<float>().ToArray(), tensors["a"].data<float>().ToArray());
        Assert.Equal(new long[] { 7, -8 }, tensors["b"].data<long>().ToArray());
    }

    [Fact]
    public void ModuleWeightsRoundTripIntoAFreshNetwork()
    {
        using var scope = NewDisposeScope();
        var space = ObservationSpace.Single("state", new BoxSpace(-1, 1, [4]));
        var source = new ActorCriticPolicy(space, new DiscreteSpace(2), new PolicyOptions(), new Rng(1UL));
        var target = new ActorCriticPolicy(space, new DiscreteSpace(2), new PolicyOptions(), new Rng(2UL));
        var (tensors, _) = Safetensors.Deserialize(ModuleWeights.Export(source));
        ModuleWeights.Load(target, tensors);
        Assert.Equal(source.parameters().SelectMany(p => p.data<float>().ToArray()), target.parameters().SelectMany(p => p.data<float>().ToArray()));
    }

    [Fact]
    public void MalformedInputsNameTheProblem()
    {
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Deserialize(new byte[] { 200, 0, 0, 0, 0, 0, 0, 0, 1 }, "w.safetensors"));
        Assert.Contains("w.safetensors", e.Message);
        Assert.Contains("header length 200", e.Message);
        using var scope = NewDisposeScope();
        var space = ObservationSpace.Single("state", new BoxSpace(-1, 1, [4]));
        var policy = new ActorCriticPolicy(space, new DiscreteSpace(2), new PolicyOptions(), new Rng(1UL));
        var missing = Assert.Throws<InvalidDataException>(() => ModuleWeights.Load(policy, new Dictionary<string, Tensor>(), "policy.", "ckpt"));
        Assert.Contains("'policy.", missing.Message);
    }
}
