using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Tests;

/// <summary>MKL computes in its alignment-independent mode, so identical inputs give identical bits.</summary>
public class ReproducibleMathTests
{
    [Fact]
    public void MklRunsInAReproducibleMode()
    {
        var status = ReproducibleMath.Ensure();
        Assert.True(status.Active, status.Description);
        Assert.Same(status.Description, ReproducibleMath.Ensure().Description);
    }

    [Theory]
    [InlineData(1, 7, 4)] // one observation through a 7-wide layer: MKL's small-matrix kernels
    [InlineData(4, 7, 1)]
    [InlineData(16, 33, 64)]
    [InlineData(37, 129, 65)]
    [InlineData(64, 256, 256)] // a DQN minibatch through a 256-wide hidden layer
    public void MatrixProductsDoNotDependOnMemoryAlignment(int batch, int inFeatures, int outFeatures)
    {
        Assert.True(ReproducibleMath.Ensure().Active);
        using var scope = NewDisposeScope();
        var g = new Generator(7);
        var x = randn([batch, inFeatures], generator: g);      // [B, K]
        var w = randn([outFeatures, inFeatures], generator: g); // [N, K], as nn.Linear stores it
        var reference = matmul(x, w.t());                       // [B, N]
        for (int shift = 1; shift < 16; shift++)
        {
            // The same values `shift` floats into larger storages: differently aligned operands.
            var xs = Shifted(x, shift);
            var ws = Shifted(w, shift);
            Assert.Equal(shift, xs.storage_offset());
            Assert.True(reference.eq(matmul(xs, ws.t())).all().item<bool>(), $"product differs with operands at a {shift * 4}-byte offset");
        }
    }

    private static Tensor Shifted(Tensor t, int shift)
    {
        var storage = zeros(shift + t.numel());
        var view = storage.narrow(0, shift, t.numel()).view(t.shape);
        view.copy_(t);
        return view;
    }
}
