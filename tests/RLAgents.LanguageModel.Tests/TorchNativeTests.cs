using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Tests;

/// <summary>The native backend loads from the test output (patched libLibTorchSharp) and computes.</summary>
public class TorchNativeTests
{
    [Fact]
    public void MatrixProductRunsOnTheNativeBackend()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new float[] { 1, 2, 3, 4 }, 2, 2);
        var b = tensor(new float[] { 5, 6, 7, 8 }, 2, 2);
        var c = matmul(a, b).data<float>().ToArray();
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c);
    }
}
