using RLAgents.Core;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;
using RLAgents.LanguageModel.Checkpoints;

namespace RLAgents.LanguageModel.Model;

/// <summary>Activation inside the Transformer MLP.</summary>
public enum GptActivation
{
    /// <summary>Exact GELU (erf), as in nanoGPT.</summary>
    Gelu,
    /// <summary>GELU with the tanh approximation, as in OpenAI's GPT-2 ("gelu_new").</summary>
    GeluTanh,
}

/// <summary>Size and shape of a <see cref="GptModel"/>; saved as <c>config.json</c> next to the weights.</summary>
public sealed class GptConfig : IValidatableObject
{
    /// <summary>Number of token ids (rows of the embedding table and columns of the logits).</summary>
    [Range(1, int.MaxValue)] public int VocabSize { get; set; } = 512;

    /// <summary>Longest sequence (rows of the learned position table).</summary>
    [Range(1, 1 << 20)] public int BlockSize { get; set; } = 64;

    /// <summary>Number of Transformer blocks.</summary>
    [Range(1, 1024)] public int NLayer { get; set; } = 4;

    /// <summary>Attention heads per block; <see cref="NEmbd"/> must be a multiple of it.</summary>
    [Range(1, 1024)] public int NHead { get; set; } = 4;

    /// <summary>Width of the residual stream (embedding size C).</summary>
    [Range(1, 1 << 16)] public int NEmbd { get; set; } = 128;

    /// <summary>Dropout probability on embeddings, attention weights and residual branches (0 disables it).</summary>
    [Range(0.0, 0.99)] public double Dropout { get; set; }

    /// <summary>Whether Linear and LayerNorm layers carry a bias (GPT-2: true).</summary>
    public bool Bias { get; set; } = true;

    /// <summary>Default attention pattern: causal (decoder, language modelling) or bidirectional (encoder).</summary>
    public bool Causal { get; set; } = true;

    /// <summary>MLP activation.</summary>
    public GptActivation Activation { get; set; } = GptActivation.Gelu;

    /// <summary>LayerNorm epsilon.</summary>
    [Range(0.0, 1.0)] public double LayerNormEpsilon { get; set; } = 1e-5;

    /// <summary>Width of one attention head.</summary>
    [JsonIgnore] public int HeadSize => NEmbd / NHead;

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Checks ranges and cross-field rules; throws <see cref="ValidationException"/> naming the field.</summary>
    public void Validate() => Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (NEmbd % NHead != 0) yield return new ValidationResult($"nEmbd ({NEmbd}) must be a multiple of nHead ({NHead}).", [nameof(NEmbd)]);
    }

    /// <summary>A copy of this configuration.</summary>
    public GptConfig Clone() => (GptConfig)MemberwiseClone();

    /// <summary>Writes this configuration as JSON, atomically.</summary>
    public void Save(string path) => AtomicFile.WriteText(path, JsonSerializer.Serialize(this, Json));

    /// <summary>Reads and validates a configuration written by <see cref="Save"/>.</summary>
    public static GptConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Model configuration not found: {path}", path);
        GptConfig config;
        try
        {
            config = JsonSerializer.Deserialize<GptConfig>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"{path}: empty configuration.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}");
        }
        try { config.Validate(); }
        catch (ValidationException e) { throw new InvalidDataException($"{path}: {e.Message}"); }
        return config;
    }
}
