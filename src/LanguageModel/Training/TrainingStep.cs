using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Training;

/// <summary>Outcome of one optimisation step.</summary>
/// <param name="Loss">The loss before the update.</param>
/// <param name="GradNorm">Global L2 norm of the gradients before clipping (NaN when clipping is off).</param>
public readonly record struct TrainingStepResult(double Loss, double GradNorm);

/// <summary>
/// One optimisation step inside its own dispose scope: zero gradients, loss, backward, global-norm
/// clipping, AdamW update. Shared by pretraining, fine-tuning and the benchmark.
/// </summary>
public static class TrainingStep
{
    /// <summary>Runs the step with <paramref name="learningRate"/>; <paramref name="gradClip"/> ≤ 0 disables clipping.</summary>
    public static TrainingStepResult Run(AdamWOptimizer optimizer, Func<Tensor> computeLoss, double learningRate, double gradClip)
    {
        using var scope = NewDisposeScope();
        optimizer.ZeroGrad();
        var loss = computeLoss();
        loss.backward();
        double norm = gradClip > 0 ? nn.utils.clip_grad_norm_(optimizer.Parameters.Where(p => p.grad is not null), gradClip) : double.NaN;
        optimizer.LearningRate = learningRate;
        optimizer.Step();
        return new TrainingStepResult(loss.item<float>(), norm);
    }
}
