using RLAgents.Core;
using System.Text.Json;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Lora;

/// <summary>
/// Attaches LoRA adapters to the <see cref="AdaptableLinear"/> projections of a model (a
/// <see cref="GptModel"/>, a <see cref="Pretrained.BertEncoder"/>, or any module built from them),
/// freezes everything else, and saves or loads the adapters on their own
/// (<c>adapter_model.safetensors</c> + <c>adapter_config.json</c>).
/// </summary>
public static class LoraAdapters
{
    /// <summary>Adapter tensors file name.</summary>
    public const string WeightsFile = "adapter_model.safetensors";
    /// <summary>Adapter configuration file name.</summary>
    public const string ConfigFile = "adapter_config.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>
    /// Adds an adapter to every projection named by <see cref="LoraOptions.TargetModules"/> and sets
    /// requires_grad false on every other parameter (the base model is frozen). Returns the adapted projections' names.
    /// </summary>
    public static IReadOnlyList<string> Attach(nn.Module model, LoraOptions options)
    {
        options.Validate();
        var projections = AdaptableLinear.FindIn(model).ToList();
        var targets = new List<(string Name, AdaptableLinear Layer)>();
        foreach (string target in options.TargetModules)
        {
            var matched = projections.Where(p => p.Name == target || p.Name.EndsWith("." + target, StringComparison.Ordinal)).ToList();
            if (matched.Count == 0)
                throw new ArgumentException($"targetModules: '{target}' matches no projection (projections end in {string.Join(", ", ProjectionKinds(projections))}).");
            targets.AddRange(matched);
        }
        if (targets.Any(t => t.Layer.HasAdapter)) throw new InvalidOperationException("The model already carries LoRA adapters.");

        using var generator = new Generator(unchecked((ulong)options.Seed));
        var adapted = targets.DistinctBy(t => t.Name).OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        foreach (var (_, layer) in adapted) layer.AddAdapter(options.Rank, options.Alpha, options.Dropout, generator);
        foreach (var (name, parameter) in model.named_parameters())
            parameter.requires_grad = ModelWeights.IsAdapterTensor(name);
        return adapted.Select(t => t.Name).ToList();
    }

    /// <summary>The parameters with requires_grad (after <see cref="Attach"/>: only the adapters), with their names, for the optimiser.</summary>
    public static IEnumerable<(string Name, Parameter Param)> TrainableParameters(nn.Module model) =>
        model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter));

    /// <summary>The distinct last two name segments of the projections (e.g. attn.c_attn), for error messages.</summary>
    private static IEnumerable<string> ProjectionKinds(IEnumerable<(string Name, AdaptableLinear Layer)> projections) =>
        projections.Select(p => string.Join('.', p.Name.Split('.').TakeLast(2))).Distinct();

    /// <summary>Folds every adapter into its base weight (for inference without the adapter's extra matmuls).</summary>
    public static void Merge(nn.Module model)
    {
        foreach (var (_, layer) in AdaptableLinear.FindIn(model)) layer.Merge();
    }

    /// <summary>Takes the adapters back out of the base weights.</summary>
    public static void Unmerge(nn.Module model)
    {
        foreach (var (_, layer) in AdaptableLinear.FindIn(model)) layer.Unmerge();
    }

    /// <summary>Writes the adapters and their options to <paramref name="directory"/> (atomic files). The model must not be merged.</summary>
    public static void Save(nn.Module model, LoraOptions options, string directory)
    {
        if (AdaptableLinear.FindIn(model).Any(p => p.Layer.IsMerged)) throw new InvalidOperationException("Unmerge the adapters before saving them.");
        var tensors = ModelWeights.Collect(model, ModelWeights.IsAdapterTensor);
        if (tensors.Count == 0) throw new InvalidOperationException("The model carries no LoRA adapters.");
        Directory.CreateDirectory(directory);
        Safetensors.Write(Path.Combine(directory, WeightsFile), tensors);
        AtomicFile.WriteText(Path.Combine(directory, ConfigFile), JsonSerializer.Serialize(options, Json));
    }

    /// <summary>Attaches adapters as configured in <paramref name="directory"/> and loads their weights (all-or-nothing). Returns the options.</summary>
    public static LoraOptions Load(nn.Module model, string directory)
    {
        string configPath = Path.Combine(directory, ConfigFile);
        if (!File.Exists(configPath)) throw new CheckpointException($"{configPath}: file not found.");
        LoraOptions options;
        try
        {
            options = JsonSerializer.Deserialize<LoraOptions>(File.ReadAllText(configPath), Json)
                ?? throw new CheckpointException($"{configPath}: empty configuration.");
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{configPath}: {e.Message}");
        }
        string weightsPath = Path.Combine(directory, WeightsFile);
        using var contents = Safetensors.Read(weightsPath);
        // Check the file against the adapters options would create before attaching any, so a bad file leaves the model untouched.
        var expected = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (name, layer) in AdaptableLinear.FindIn(model))
        {
            if (!options.TargetModules.Any(t => name == t || name.EndsWith("." + t, StringComparison.Ordinal))) continue;
            expected[name + ".lora_A"] = [options.Rank, layer.InFeatures];
            expected[name + ".lora_B"] = [layer.OutFeatures, options.Rank];
        }
        foreach (var (name, shape) in expected)
        {
            if (!contents.Tensors.TryGetValue(name, out var value)) throw new CheckpointException($"{weightsPath}: adapter tensor '{name}' is missing.");
            if (!value.shape.SequenceEqual(shape))
                throw new CheckpointException($"{weightsPath}: adapter tensor '{name}' has shape [{string.Join(", ", value.shape)}], expected [{string.Join(", ", shape)}].");
        }
        var unknown = contents.Tensors.Keys.FirstOrDefault(k => !expected.ContainsKey(k));
        if (unknown is not null) throw new CheckpointException($"{weightsPath}: adapter tensor '{unknown}' matches no targeted projection.");
        Attach(model, options);
        ModelWeights.Load(model, contents.Tensors, weightsPath, ModelWeights.IsAdapterTensor);
        return options;
    }
}
