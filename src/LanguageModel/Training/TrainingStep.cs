using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Training;

/// <summary>Outcome of one optimisation step.</summary>
/// <param name="Loss">The loss before the update.</param>
/// <param name="GradNorm">Global L2 norm of the gradients before clipping.</param>
public readonly record struct TrainingStepResult(double Loss, double GradNorm);

/// <summary>
/// One optimisation step inside its own dispose scope: zero gradients, loss, backward, then the
/// optimiser's clipped update. Shared by pretraining, fine-tuning and the benchmark.
/// </summary>
public static class TrainingStep
{
    /// <summary>Runs the step with <paramref name="learningRate"/> (clipping per the optimiser's options).</summary>
    public static TrainingStepResult Run(AdamOptimizer optimizer, Func<Tensor> computeLoss, double learningRate)
    {
        using var scope = NewDisposeScope();
        optimizer.ZeroGrad();
        var loss = computeLoss();
        loss.backward();
        optimizer.LearningRate = learningRate;
        double norm = optimizer.Step();
        return new TrainingStepResult(loss.item<float>(), norm);
    }
}
