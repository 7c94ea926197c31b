using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Checkpoints;

/// <summary>
/// Saves a module's tensors to safetensors and loads them back all-or-nothing: every name, shape and
/// dtype is checked against the module before the first value is copied, so a bad file leaves the
/// module exactly as it was.
/// </summary>
public static class ModelWeights
{
    /// <summary>True for LoRA adapter tensors, which are saved apart from the base weights.</summary>
    public static bool IsAdapterTensor(string name) => name.Contains(".lora_", StringComparison.Ordinal);

    /// <summary>
    /// The module's parameters and buffers by qualified name, filtered by <paramref name="include"/>; tensors that
    /// submodules restore from elsewhere (<see cref="IExternalWeights"/>) are never among them.
    /// </summary>
    public static Dictionary<string, Tensor> Collect(nn.Module module, Func<string, bool>? include = null)
    {
        var external = ExternalNames(module);
        return module.state_dict().Where(kv => !external.Contains(kv.Key) && (include?.Invoke(kv.Key) ?? true)).ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    /// <summary>
    /// Every parameter and buffer of the module (LoRA adapters included) except those restored from elsewhere
    /// (<see cref="IExternalWeights"/>), named <c>prefix + qualified name</c>: what agent checkpoints store.
    /// </summary>
    public static IEnumerable<(string Name, Tensor Tensor)> Named(nn.Module module, string prefix = "")
    {
        var external = ExternalNames(module);
        return module.state_dict().Where(kv => !external.Contains(kv.Key)).Select(kv => (prefix + kv.Key, kv.Value));
    }

    /// <summary>Qualified names of the tensors that <paramref name="module"/> and its submodules restore from elsewhere (<see cref="IExternalWeights"/>).</summary>
    public static HashSet<string> ExternalNames(nn.Module module)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, owner) in ExternalOwners(module))
            foreach (var name in owner.ExternalTensors) names.Add(path.Length == 0 ? name : path + "." + name);
        return names;
    }

    private static IEnumerable<(string Path, IExternalWeights Owner)> ExternalOwners(nn.Module module)
    {
        if (module is IExternalWeights self) yield return ("", self);
        foreach (var (path, sub) in module.named_modules())
            if (sub is IExternalWeights owner) yield return (path, owner);
    }

    /// <summary>Writes the module's tensors (by default all except LoRA adapters) to <paramref name="path"/> atomically.</summary>
    public static void Save(nn.Module module, string path, Func<string, bool>? include = null, IReadOnlyDictionary<string, string>? metadata = null) =>
        Safetensors.Write(path, Collect(module, include ?? (n => !IsAdapterTensor(n))), metadata);

    /// <summary>Reads <paramref name="path"/> and loads it with <see cref="Load(nn.Module, IReadOnlyDictionary{string, Tensor}, string, Func{string, bool}?, string)"/>.</summary>
    public static void Load(nn.Module module, string path, Func<string, bool>? include = null)
    {
        using var contents = Safetensors.Read(path);
        Load(module, contents.Tensors, path, include);
    }

    /// <summary>
    /// Copies <paramref name="tensors"/> into the module's tensors selected by <paramref name="include"/>
    /// (by default all except LoRA adapters). With a <paramref name="prefix"/>, tensor <c>prefix + name</c>
    /// goes to the module's <c>name</c> and names without the prefix belong to something else (a
    /// checkpoint holding several modules). The tensors under the prefix must be exactly the selected
    /// names (never those restored from elsewhere, see <see cref="IExternalWeights"/>, whose owners first check
    /// the file was written on the same external weights), with the same shapes and compatible dtypes; otherwise
    /// a <see cref="CheckpointException"/> names the first offending tensor and nothing is copied.
    /// </summary>
    public static void Load(nn.Module module, IReadOnlyDictionary<string, Tensor> tensors, string source, Func<string, bool>? include = null, string prefix = "")
    {
        if (prefix.Length > 0)
            tensors = tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
        var targets = Collect(module, include ?? (n => !IsAdapterTensor(n)));
        var unknown = tensors.Keys.Where(k => !targets.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            throw new CheckpointException($"{source}: tensor '{prefix}{unknown[0]}' does not exist in the model{More(unknown)}.");
        var missing = targets.Keys.Where(k => !tensors.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
            throw new CheckpointException($"{source}: tensor '{prefix}{missing[0]}' is missing from the file{More(missing)}.");
        foreach (var (name, target) in targets)
        {
            var value = tensors[name];
            if (!value.shape.SequenceEqual(target.shape))
                throw new CheckpointException($"{source}: tensor '{prefix}{name}' has shape [{string.Join(", ", value.shape)}], the model expects [{string.Join(", ", target.shape)}].");
            if (value.is_floating_point() != target.is_floating_point())
                throw new CheckpointException($"{source}: tensor '{prefix}{name}' has dtype {value.dtype}, the model expects {target.dtype}.");
        }
        foreach (var (path, owner) in ExternalOwners(module))
        {
            string under = path.Length == 0 ? "" : path + ".";
            owner.CheckSource(tensors.Where(kv => kv.Key.StartsWith(under, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[under.Length..], kv => kv.Value), source);
        }
        using (no_grad())
            foreach (var (name, target) in targets)
                target.copy_(tensors[name]);
    }

    private static string More(List<string> names) => names.Count > 1 ? $" (and {names.Count - 1} more: {string.Join(", ", names.Skip(1).Take(4))}{(names.Count > 5 ? ", …" : "")})" : "";
}
