using System.ComponentModel.DataAnnotations;
using RLAgents.LanguageModel.Lora;

namespace RLAgents.LanguageModel.FineTuning;

/// <summary>Supervised fine-tuning on (prompt, target) pairs.</summary>
public sealed class SftOptions
{
    /// <summary>Peak learning rate.</summary>
    [Range(1e-8, 1.0)] public double LearningRate { get; set; } = 1e-3;

    /// <summary>Learning rate at the end of the cosine decay.</summary>
    [Range(0.0, 1.0)] public double MinLearningRate { get; set; } = 1e-4;

    /// <summary>Linear warmup steps.</summary>
    [Range(0, int.MaxValue)] public int WarmupSteps { get; set; }

    /// <summary>Updates made by <see cref="SftTrainer.Train"/>.</summary>
    [Range(1, int.MaxValue)] public int Steps { get; set; } = 200;

    /// <summary>Examples per update.</summary>
    [Range(1, 1 << 16)] public int BatchSize { get; set; } = 16;

    /// <summary>AdamW weight decay (matrices only).</summary>
    [Range(0.0, 1.0)] public double WeightDecay { get; set; }

    /// <summary>Global gradient-norm clip; 0 disables clipping.</summary>
    [Range(0.0, 1e6)] public double GradClip { get; set; } = 1.0;

    /// <summary>LoRA adapters to train instead of the full model; null = full fine-tuning.</summary>
    public LoraOptions? Lora { get; set; }

    /// <summary>Seed for minibatch sampling.</summary>
    public long Seed { get; set; } = 1;

    /// <summary>Validates every field; throws <see cref="ValidationException"/> naming it.</summary>
    public void Validate()
    {
        Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);
        if (MinLearningRate > LearningRate) throw new ValidationException($"minLearningRate ({MinLearningRate}) must not exceed learningRate ({LearningRate}).");
        if (WarmupSteps > Steps) throw new ValidationException($"warmupSteps ({WarmupSteps}) must not exceed steps ({Steps}).");
        Lora?.Validate();
    }
}

/// <summary>One supervised example: the model reads <paramref name="Prompt"/> and learns to continue with <paramref name="Target"/>.</summary>
public sealed record SftExample(string Prompt, string Target);
