using System.Reflection;
using RLAgents.Environments;
using RLAgents.LanguageModel.Onnx;
using RLAgents.LanguageModel.Tokenization;
using TorchSharp;

namespace RLAgents.Policies.Export;

/// <summary>Options of an ONNX export.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>
    /// The default-domain opset, <see cref="OnnxGraphBuilder.MinOpset"/> to <see cref="OnnxGraphBuilder.MaxOpset"/> (17,
    /// LayerNormalization as one op). Every policy also exports at 13–16 (LayerNorm written as its definition);
    /// 15 is what Unity's inference engine reads.
    /// </summary>
    public long Opset { get; set; } = OnnxGraphBuilder.MaxOpset;

    /// <summary>The checkpoint id the weights came from, written into the metadata.</summary>
    public string? Checkpoint { get; set; }

    /// <summary>Env steps behind the weights, written into the metadata.</summary>
    public long? Step { get; set; }

    /// <summary>
    /// Base name of the tokenizer folders (beside the model file): <c>&lt;base&gt;.tokenizer</c>, or
    /// <c>&lt;base&gt;.&lt;modality&gt;.tokenizer</c> when text modalities use different tokenizers.
    /// </summary>
    public string TokenizerBaseName { get; set; } = "policy";
}

/// <summary>An exported policy: the model, its metadata, and the tokenizers its text inputs need (by folder name).</summary>
/// <param name="Model">The ONNX model (metadata included).</param>
/// <param name="Info">What the metadata says.</param>
/// <param name="Tokenizers">Folder name (as in <see cref="OnnxTextInput.Tokenizer"/>) → tokenizer.</param>
public sealed record OnnxPolicyExport(OnnxModel Model, OnnxPolicyInfo Info, IReadOnlyDictionary<string, ITokenizer> Tokenizers);

/// <summary>
/// Exports a policy's acting graph to ONNX (TorchSharp has no exporter of its own): one input per
/// observation modality, named as the modality, with a dynamic batch axis; outputs <c>logits</c> and
/// <c>value</c> (actor-critic) or <c>q_values</c> (Q-network); the spaces and text encodings in the
/// metadata (<see cref="OnnxPolicyInfo"/>). Each module writes its own forward pass through
/// <see cref="OnnxGraphBuilder"/>; LoRA adapters are folded into their weights; dropout is the identity.
/// Before anything is written, every module must carry <see cref="IOnnxExportable"/>, and after, every
/// parameter must have reached the graph: a plug-in encoder or a module this exporter does not know
/// fails with one line naming it, never with a silently different graph.
/// </summary>
public static class PolicyOnnxExporter
{
    /// <summary>The exported acting graph of <paramref name="policy"/> (not written anywhere).</summary>
    /// <exception cref="OnnxExportException">A module, text encoding or opset cannot be exported (one line naming it).</exception>
    public static OnnxPolicyExport Export(Policy policy, OnnxExportOptions? options = null)
    {
        options ??= new OnnxExportOptions();
        // Continuous heads (Gaussian mean and log-std) have no exported form yet: refuse before writing anything.
        if (policy.ActionSpace is not DiscreteSpace actionSpace)
            throw new OnnxExportException($"action space {policy.ActionSpace} cannot be exported to ONNX yet: only Discrete action spaces can");
        CheckModules(policy);
        var g = new OnnxGraphBuilder("rlagents_policy", options.Opset);
        var space = policy.ObservationSpace;
        var values = new string[space.Count];
        var encodings = new (int Modality, OnnxTextEncoding Encoding)[space.Count];
        int texts = 0;
        for (int m = 0; m < space.Count; m++)
        {
            var modality = space[m];
            switch (modality.Space)
            {
                case BoxSpace box:
                    var dims = new object[] { "batch" }.Concat(box.ShapeArray().Select(d => (object)(long)d)).ToArray();
                    var input = g.AddInput(modality.Name, box.DType == DType.Float32 ? OnnxDataType.Float : OnnxDataType.UInt8, dims);
                    // [B, …shape] → [B, size], the ObservationInput layout (0 keeps the batch axis, even an empty one).
                    values[m] = box.Shape.Length == 1 ? input : g.Reshape(input, 0, box.Size);
                    break;
                case DiscreteSpace:
                    values[m] = g.AddInput(modality.Name, OnnxDataType.Int64, "batch");
                    break;
                default:
                    var tensorizer = policy.Tensorizer.Text(m)!;
                    var encoding = tensorizer.OnnxEncoding
                        ?? throw new OnnxExportException($"modality '{modality.Name}': its text encoding ({tensorizer.GetType().Name}) has no ONNX form");
                    var ids = g.AddInput(modality.Name, OnnxDataType.Int64, "batch", encoding.Length is int l ? (long)l : $"{modality.Name}_length");
                    using (g.Enter(modality.Name)) values[m] = tensorizer.ExportOnnx(g, ids);
                    encodings[texts++] = (m, encoding);
                    break;
            }
        }
        var outputs = policy.ExportOnnx(g, values);
        CheckParameters(policy, g);
        g.AddOutput(outputs.Preferences, outputs.PreferencesName, OnnxDataType.Float, "batch", (long)actionSpace.N);
        if (outputs.Value is not null) g.AddOutput(outputs.Value, "value", OnnxDataType.Float, "batch");
        int memorySize = (policy as ActorCriticPolicy)?.MemorySize ?? 0;
        if (outputs.Memory is not null) g.AddOutput(outputs.Memory, OnnxPolicyInfo.MemoryOutput, OnnxDataType.Float, "batch", (long)memorySize);

        // One tokenizer folder per distinct tokenizer (usually one, shared by every text modality).
        var groups = encodings.Take(texts).GroupBy(e => e.Encoding.Tokenizer, ReferenceEqualityComparer.Instance).ToList();
        var tokenizers = new Dictionary<string, ITokenizer>(StringComparer.Ordinal);
        var textInputs = new List<OnnxTextInput>();
        foreach (var group in groups)
        {
            var first = group.First();
            string folder = groups.Count == 1 ? $"{options.TokenizerBaseName}.tokenizer" : $"{options.TokenizerBaseName}.{space[first.Modality].Name}.tokenizer";
            tokenizers[folder] = first.Encoding.Tokenizer;
            foreach (var (m, encoding) in group)
                textInputs.Add(new OnnxTextInput(space[m].Name, encoding.Length, encoding.Tokenizer.Special.Pad, encoding.Tokenizer.VocabSize, folder));
        }
        textInputs.Sort((a, b) => space.IndexOf(a.Modality).CompareTo(space.IndexOf(b.Modality)));
        var info = new OnnxPolicyInfo(space, actionSpace, outputs.PreferencesName == "q_values", textInputs, options.Checkpoint, options.Step) { MemorySize = memorySize };
        string version = typeof(PolicyOnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";
        return new OnnxPolicyExport(g.ToModel("RLAgents", version, info.ToMetadata()), info, tokenizers);
    }

    /// <summary>
    /// Exports <paramref name="policy"/> to <paramref name="path"/> (atomically) and its tokenizers into
    /// folders beside it (<see cref="OnnxExportOptions.TokenizerBaseName"/> becomes the file's stem).
    /// Returns the export and the tokenizer folders written.
    /// </summary>
    public static (OnnxPolicyExport Export, IReadOnlyList<string> TokenizerFolders) ExportTo(Policy policy, string path, OnnxExportOptions? options = null)
    {
        options ??= new OnnxExportOptions();
        options.TokenizerBaseName = Path.GetFileNameWithoutExtension(path);
        var export = Export(policy, options);
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var folders = new List<string>();
        foreach (var (folder, tokenizer) in export.Tokenizers)
        {
            string target = Path.Combine(directory, folder);
            Directory.CreateDirectory(target);
            tokenizer.Save(target);
            folders.Add(target);
        }
        export.Model.Save(path);
        return (export, folders);
    }

    private static void CheckModules(Policy policy)
    {
        if (policy is not IOnnxExportable)
            throw new OnnxExportException($"policy ({policy.GetType().FullName}) cannot be exported to ONNX: it has no ONNX export");
        var builtIn = typeof(torch.nn.Module).Assembly;
        foreach (var (name, module) in policy.named_modules())
            if (module is not IOnnxExportable && module.GetType().Assembly != builtIn)
                throw new OnnxExportException($"{name} ({module.GetType().FullName}) cannot be exported to ONNX: it has no ONNX export");
    }

    private static void CheckParameters(Policy policy, OnnxGraphBuilder g)
    {
        foreach (var (name, parameter) in policy.named_parameters())
            if (!g.Uses(name))
                throw new OnnxExportException($"{name}: this parameter does not reach the exported graph; the module holding it has no ONNX export for it");
    }
}
