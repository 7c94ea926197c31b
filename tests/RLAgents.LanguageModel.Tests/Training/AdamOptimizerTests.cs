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

    [Theory]
    [InlineData(0.0, 0.5)]
    [InlineData(0.1, 0.0)]
    public void TheHostUpdateEqualsTheTensorUpdate(double weightDecay, double maxGradNorm)
    {
        // Two copies of a 2-layer net with 8 steps of the same gradients: one optimiser on the host, one through libtorch.
        (Dictionary<string, float[]> Weights, double[] Norms, float[] Moments) Run(bool host)
        {
            using var scope = NewDisposeScope();
            manual_seed(11);
            var net = nn.Sequential(nn.Linear(13, 24), nn.Tanh(), nn.Linear(24, 3));
            using var adam = new AdamOptimizer(net.named_parameters().Select(p => (p.name, p.parameter)),
                new AdamOptions { LearningRate = 0.01, WeightDecay = weightDecay, MaxGradNorm = maxGradNorm }) { HostUpdate = host };
            Assert.Equal(host, adam.UpdatesOnHost);
            var norms = new double[8];
            for (int step = 0; step < 8; step++)
            {
                adam.ZeroGrad();
                manual_seed(100 + step);
                net.forward(randn(5, 13)).pow(2).mean().backward();
                norms[step] = adam.Step();
            }
            var moments = adam.StateTensors().SelectMany(t => t.Tensor.data<float>().ToArray()).ToArray();
            return (net.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray()), norms, moments);
        }
        var onHost = Run(host: true);
        var tensor = Run(host: false);
        Assert.Equal(tensor.Norms, onHost.Norms, new NearDouble(1e-5));
        if (maxGradNorm > 0) Assert.Contains(tensor.Norms, n => n > maxGradNorm); // the clip took part
        Assert.Equal(tensor.Moments, onHost.Moments, new Near(1e-6f));
        // Adam normalises each element's step to ≈ lr whatever its gradient's size, so an element whose gradient is
        // rounding noise moves by a step's fraction differently on the two paths: weights agree to 0.1% of lr (1e-5).
        foreach (var (name, expected) in tensor.Weights) Assert.Equal(expected, onHost.Weights[name], new Near(1e-5f));
    }

    [Fact]
    public void OnlySmallNetworksUpdateOnTheHost()
    {
        var small = new Parameter(zeros(AdamOptimizer.HostMaxParameters));
        var large = new Parameter(zeros(AdamOptimizer.HostMaxParameters + 1));
        using var a = new AdamOptimizer([("small", small)], new AdamOptions());
        using var b = new AdamOptimizer([("large", large)], new AdamOptions());
        Assert.True(a.UpdatesOnHost);
        Assert.False(b.UpdatesOnHost); // above the crossover libtorch's update is as fast and uses its threads
    }

    [Fact]
    public void ANonFiniteGradientLeavesTheWeightsAndMomentsOnTheHostPathToo()
    {
        var p = new Parameter(tensor(new float[] { 1f, 2f }));
        using var adam = new AdamOptimizer([("p", p)], new AdamOptions { LearningRate = 0.1 });
        Assert.True(adam.UpdatesOnHost);
        using var scope = NewDisposeScope();
        adam.ZeroGrad();
        p.mul(float.NaN).sum().backward();
        Assert.True(double.IsNaN(adam.Step()));
        Assert.Equal(new[] { 1f, 2f }, p.data<float>().ToArray());
        Assert.Equal(0, adam.StepCount);
        Assert.All(adam.StateTensors(), t => Assert.Equal(0f, t.Tensor.abs().sum().item<float>()));
    }

    private sealed class NearDouble(double eps) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= eps * Math.Max(1, Math.Abs(y));
        public int GetHashCode(double obj) => 0;
    }

    private sealed class Near(float eps) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= eps;
        public int GetHashCode(float obj) => 0;
    }
}
