using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Serialization;

/// <summary>
/// A module's parameters and buffers as named tensors, and back: what policy checkpoints store
/// (through <see cref="LanguageModel.Checkpoints.Safetensors"/>, the one safetensors implementation).
/// </summary>
public static class ModuleWeights
{
    /// <summary>Named parameters and buffers, prefixed.</summary>
    public static IEnumerable<(string Name, Tensor Tensor)> Named(nn.Module module, string prefix = "") =>
        module.named_parameters().Select(p => (prefix + p.name, (Tensor)p.parameter))
            .Concat(module.named_buffers().Select(b => (prefix + b.name, b.buffer)));

    /// <summary>Copies tensors named <c>prefix + parameter name</c> into <paramref name="module"/>; every parameter must be present with its shape.</summary>
    public static void Load(nn.Module module, IReadOnlyDictionary<string, Tensor> tensors, string prefix = "", string source = "checkpoint")
    {
        using var _ = no_grad();
        foreach (var (name, target) in Named(module))
        {
            if (!tensors.TryGetValue(prefix + name, out var t))
                throw new InvalidDataException($"{source}: tensor '{prefix + name}' is missing.");
            if (!t.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{source}: tensor '{prefix + name}' has shape [{string.Join(", ", t.shape)}], the network needs [{string.Join(", ", target.shape)}].");
            target.copy_(t);
        }
    }
}
