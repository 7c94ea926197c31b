using System.ComponentModel.DataAnnotations;
using RLAgents.LanguageModel.Lora;

namespace RLAgents.LanguageModel.Pretrained;

/// <summary>
/// A pretrained text encoder and how it trains, as a component's configuration binds it (for example
/// an agent's <c>policy.multimodal.backbone.pretrained</c> section). <see cref="PretrainedTextEncoders.Load(PretrainedTextEncoderOptions, string?)"/> applies it.
/// </summary>
public sealed class PretrainedTextEncoderOptions : IValidatableObject
{
    /// <summary>Catalog name (<see cref="PretrainedTextEncoders.Known"/>): <c>all-MiniLM-L6-v2</c> or <c>arctic-embed-xs</c>.</summary>
    [Required] public string Name { get; set; } = PretrainedTextEncoders.MiniLM;

    /// <summary>Which parameters train. <see cref="TextEncoderFineTuning.Frozen"/> allows caching encodings per text.</summary>
    public TextEncoderFineTuning FineTune { get; set; } = TextEncoderFineTuning.Frozen;

    /// <summary>Layers that train, counted from the top (with <see cref="TextEncoderFineTuning.TopLayers"/>).</summary>
    [Range(1, 1024)] public int TopLayers { get; set; } = 2;

    /// <summary>Adapters (with <see cref="TextEncoderFineTuning.Lora"/>); targets are named as for the GPT backbone.</summary>
    public LoraOptions Lora { get; set; } = new();

    /// <summary>
    /// With <see cref="TextEncoderFineTuning.Lora"/>: adapters on the top N layers only; null = every layer. The layers
    /// below then never change, so an agent caches their states per text and trains through the top N alone.
    /// </summary>
    [Range(1, 1024)] public int? LoraLayers { get; set; }

    /// <summary>Longest tokenized text, [CLS] and [SEP] included; longer texts are cut. Null = the model's own limit.</summary>
    [Range(2, 4096)] public int? MaxTokens { get; set; }

    /// <summary>Dropout while training (0 = off; the models were pretrained with 0.1).</summary>
    [Range(0.0, 0.99)] public double Dropout { get; set; }

    /// <summary>Texts kept by <see cref="CachedTextEncoder"/> (frozen encoders only).</summary>
    [Range(1, 1 << 24)] public int CacheCapacity { get; set; } = CachedTextEncoder.DefaultCapacity;

    /// <summary>Checks every field; throws <see cref="ValidationException"/> naming the first bad one.</summary>
    public void Validate()
    {
        Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);
        if (FineTune == TextEncoderFineTuning.Lora) Lora.Validate();
    }

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!PretrainedTextEncoders.Known.Any(k => string.Equals(k.Name, Name, StringComparison.OrdinalIgnoreCase)))
            yield return new ValidationResult(
                $"name '{Name}' is not a known pretrained text encoder (known: {string.Join(", ", PretrainedTextEncoders.Known.Select(k => k.Name))}).", [nameof(Name)]);
    }
}
