using System.ComponentModel.DataAnnotations;

namespace RLAgents.LanguageModel.Lora;

/// <summary>Low-rank adapters (LoRA) on the backbone's projections; saved as <c>adapter_config.json</c>.</summary>
public sealed class LoraOptions
{
    /// <summary>Rank r of each adapter (ΔW = B A with A r×in, B out×r).</summary>
    [Range(1, 4096)] public int Rank { get; set; } = 8;

    /// <summary>Scale numerator: the adapter's output is multiplied by alpha / rank.</summary>
    [Range(1e-6, 1e6)] public double Alpha { get; set; } = 16;

    /// <summary>Dropout on the adapter's input while training.</summary>
    [Range(0.0, 0.99)] public double Dropout { get; set; }

    /// <summary>
    /// Which projections get adapters, matched against the end of each projection's name:
    /// <c>attn.c_attn</c> (fused q/k/v), <c>attn.c_proj</c> (attention output), <c>mlp.c_fc</c>, <c>mlp.c_proj</c>.
    /// GPT backbones and pretrained BERT encoders name their projections the same way.
    /// </summary>
    [Required, MinLength(1)] public string[] TargetModules { get; set; } = ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"];

    /// <summary>Seed of the adapters' A initialisation.</summary>
    public long Seed { get; set; } = 1;

    /// <summary>Validates every field; throws <see cref="ValidationException"/> naming it.</summary>
    public void Validate() => Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);
}
