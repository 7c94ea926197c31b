using RLAgents.LanguageModel.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Tests.Training;

public class OptimizationTests
{
    [Fact]
    public void WarmupCosineScheduleHitsItsAnchors()
    {
        Assert.Equal(0.1, LearningRateSchedule.WarmupCosine(0, 1.0, 0.1, 10, 110), 12);   // (0+1)/10 of the peak
        Assert.Equal(1.0, LearningRateSchedule.WarmupCosine(9, 1.0, 0.1, 10, 110), 12);
        Assert.Equal(1.0, LearningRateSchedule.WarmupCosine(10, 1.0, 0.1, 10, 110), 12);   // cosine starts at the peak
        Assert.Equal(0.55, LearningRateSchedule.WarmupCosine(60, 1.0, 0.1, 10, 110), 12);  // half way: the mean
        Assert.Equal(0.1, LearningRateSchedule.WarmupCosine(110, 1.0, 0.1, 10, 110), 12);
        Assert.Equal(0.1, LearningRateSchedule.WarmupCosine(500, 1.0, 0.1, 10, 110), 12);
    }

    [Fact]
    public void FirstAdamWStepMovesEachWeightByTheLearningRateAndDecaysOnlyMatrices()
    {
        using var scope = NewDisposeScope();
        var matrix = new Parameter(tensor(new float[,] { { 2f, -4f } }));
        var vector = new Parameter(tensor(new float[] { 3f }));
        // The vector comes first: the optimiser must still decay only the matrix.
        using var opt = new AdamOptimizer([("v", vector), ("m", matrix)], new AdamOptions { WeightDecay = 0.5, Beta1 = 0.9, Beta2 = 0.99, Epsilon = 1e-12, LearningRate = 0.1 });
        // Gradients g (written into the optimiser's gradient views): the first bias-corrected step is m̂/√v̂ = g/|g| = sign(g).
        using (no_grad())
        {
            matrix.grad!.copy_(tensor(new float[,] { { 0.3f, -7f } }));
            vector.grad!.copy_(tensor(new float[] { -0.01f }));
        }
        opt.Step();
        // Matrix: decay first, θ(1 − lr·λ) = θ·0.95, then −lr·sign(g).
        Assert.Equal(new[] { 2f * 0.95f - 0.1f, -4f * 0.95f + 0.1f }, matrix.data<float>().ToArray(), new FloatComparer(1e-6f));
        Assert.Equal(3f + 0.1f, vector.data<float>()[0], 5);
        Assert.Equal(1, opt.StepCount);
    }

    [Fact]
    public void SavedOptimizerStateContinuesIdentically()
    {
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        Parameter Make() => new(tensor(new float[,] { { 1f, 2f }, { 3f, 4f } }));
        var p1 = Make();
        var p2 = Make();
        using var a = new AdamOptimizer([("w", p1)], new AdamOptions { LearningRate = 0.01, Beta2 = 0.95, WeightDecay = 0.1 });
        using var b = new AdamOptimizer([("w", p2)], new AdamOptions { LearningRate = 0.01, Beta2 = 0.95, WeightDecay = 0.1 });
        var grads = new[] { tensor(new float[,] { { 1f, -1f }, { 0.5f, 2f } }), tensor(new float[,] { { -3f, 1f }, { 0.1f, 0f } }) };
        using (no_grad()) p1.grad!.copy_(grads[0]);
        a.Step();
        a.Save(Path.Combine(dir.Path, "opt.safetensors"));
        using (no_grad())
        {
            p2.copy_(p1);
            p1.grad!.copy_(grads[1]);
            p2.grad!.copy_(grads[1]);
        }
        b.Load(Path.Combine(dir.Path, "opt.safetensors"));
        a.Step();
        b.Step();
        Assert.Equal(2, b.StepCount);
        Assert.True(p1.equal(p2).all().item<bool>());
    }

    private sealed class FloatComparer(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(float obj) => 0;
    }
}
