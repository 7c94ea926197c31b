using System.ComponentModel.DataAnnotations;
using RLAgents.LanguageModel.Lora;

namespace RLAgents.LanguageModel.FineTuning;

/// <summary>
/// The optimisation every supervised fine-tuning run shares: text SFT of the language model
/// (<see cref="TextSftOptions"/>) and behaviour cloning of agents, which extend it with their data.
/// </summary>
public class SupervisedOptions
{
    /// <summary>Gradient updates (minibatches drawn with replacement).</summary>
    [Range(1, 100_000_000)] public int Updates { get; set; } = 500;

    /// <summary>Examples (or transitions) per minibatch.</summary>
    [Range(1, 1_000_000)] public int BatchSize { get; set; } = 256;

    /// <summary>Adam learning rate (the peak one, under a schedule).</summary>
    [Range(1e-8, 1.0)] public double LearningRate { get; set; } = 1e-3;

    /// <summary>Global gradient-norm clip; 0 disables clipping.</summary>
    [Range(0.0, 1e6)] public double MaxGradNorm { get; set; } = 1.0;
}

/// <summary>Supervised fine-tuning of the language model on (prompt, target) pairs.</summary>
public sealed class TextSftOptions : SupervisedOptions, IValidatableObject
{
    /// <summary>Creates the options with text SFT's defaults (200 updates of 16 examples).</summary>
    public TextSftOptions()
    {
        Updates = 200;
        BatchSize = 16;
    }

    /// <summary>Learning rate at the end of the cosine decay.</summary>
    [Range(0.0, 1.0)] public double MinLearningRate { get; set; } = 1e-4;

    /// <summary>Linear warmup steps.</summary>
    [Range(0, int.MaxValue)] public int WarmupSteps { get; set; }

    /// <summary>AdamW weight decay (matrices only).</summary>
    [Range(0.0, 1.0)] public double WeightDecay { get; set; }

    /// <summary>LoRA adapters to train instead of the full model; null = full fine-tuning.</summary>
    public LoraOptions? Lora { get; set; }

    /// <summary>Seed for minibatch sampling.</summary>
    public long Seed { get; set; } = 1;

    /// <summary>Validates every field; throws <see cref="ValidationException"/> naming it.</summary>
    public void Validate()
    {
        Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);
        Lora?.Validate();
    }

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MinLearningRate > LearningRate)
            yield return new ValidationResult($"minLearningRate ({MinLearningRate}) must not exceed learningRate ({LearningRate}).", [nameof(MinLearningRate)]);
        if (WarmupSteps > Updates)
            yield return new ValidationResult($"warmupSteps ({WarmupSteps}) must not exceed updates ({Updates}).", [nameof(WarmupSteps)]);
    }
}

/// <summary>One supervised example: the model reads <paramref name="Prompt"/> and learns to continue with <paramref name="Target"/>.</summary>
public sealed record SftExample(string Prompt, string Target);
