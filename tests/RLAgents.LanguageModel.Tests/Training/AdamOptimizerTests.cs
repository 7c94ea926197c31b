using RLAgents.LanguageModel.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Tests.Training;

/// <summary>The fused Adam against hand-computed steps.</summary>
public class AdamOptimizerTests
{
    [Fact]
    public void FirstStepsMatchAdamsUpdateRuleAndClipTheGlobalNorm()
    {
        var a = new Parameter(tensor(new float[] { 1f, -2f }));
        var b = new Parameter(tensor(new float[] { 3f }));
        using var adam = new AdamOptimizer([("a", a), ("b", b)], new AdamOptions { LearningRate = 0.1, Epsilon = 1e-8, MaxGradNorm = 1 });
        // Step 1: g = (2a, 2b) = (2, −4, 6), ‖g‖ = √56; clipped to norm 1. Adam's first step is −lr·sign(g).
        using (var scope = NewDisposeScope())
        {
            adam.ZeroGrad();
            a.pow(2).sum().add(b.pow(2).sum()).backward();
            Assert.Equal(Math.Sqrt(56), adam.Step(), 4);
        }
        Assert.Equal(new[] { 0.9f, -1.9f }, a.data<float>().ToArray(), new Near(1e-5f));
        Assert.Equal(2.9f, b.data<float>()[0], 5);
        // Step 2 by hand for a[0]: clipped g1 = 2/√56, g2 = 1.8/‖g2‖ with ‖g2‖ = √(1.8² + 3.8² + 5.8²);
        // m = 0.9·0.1·g1 + 0.1·g2 (bias-corrected by 1 − 0.9²), v likewise with 0.999.
        double g1 = 2 / Math.Sqrt(56), n2 = Math.Sqrt(1.8 * 1.8 + 3.8 * 3.8 + 5.8 * 5.8), g2 = 1.8 / n2;
        double m = 0.9 * 0.1 * g1 + 0.1 * g2, v = 0.999 * 0.001 * g1 * g1 + 0.001 * g2 * g2;
        double expected = 0.9 - 0.1 * (m / (1 - 0.81)) / (Math.Sqrt(v / (1 - 0.999 * 0.999)) + 1e-8);
        using (var scope = NewDisposeScope())
        {
            adam.ZeroGrad();
            a.pow(2).sum().add(b.pow(2).sum()).backward();
            adam.Step();
        }
        Assert.Equal(expected, a.data<float>()[0], 5);
        Assert.Equal(2, adam.StepCount);
    }

    [Fact]
    public void GradientsAccumulateIntoTheFlatBufferAcrossModules()
    {
        var layer = nn.Linear(3, 2);
        using var adam = new AdamOptimizer(layer.named_parameters().Select(p => (p.name, p.parameter)), new AdamOptions { MaxGradNorm = 0 });
        using var scope = NewDisposeScope();
        adam.ZeroGrad();
        layer.forward(ones(4, 3)).sum().backward();
        // d/dbias of Σ over 4 rows = 4 for each output; the flat buffer is what Step reads.
        Assert.Equal(new[] { 4f, 4f }, layer.bias!.grad!.data<float>().ToArray());
        adam.ZeroGrad();
        Assert.Equal(0f, layer.bias!.grad!.abs().sum().item<float>());
    }

    private sealed class Near(float eps) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= eps;
        public int GetHashCode(float obj) => 0;
    }
}
