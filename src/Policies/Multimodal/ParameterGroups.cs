using RLAgents.LanguageModel.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Multimodal;

/// <summary>
/// Named groups of a policy's parameters, for trainable sets: <c>all</c>, <c>backbone</c> (the GPT's
/// base weights), <c>adapters</c> (LoRA A and B), <c>encoders</c> (modality encoders, [CLS],
/// type embeddings, fusion layers — everything in a state estimator outside the backbone) and
/// <c>heads</c> (policy, value and Q heads). Any other entry is matched as a substring of the
/// parameter's qualified name (e.g. <c>backbone.h.1.</c>).
/// </summary>
public static class ParameterGroups
{
    /// <summary>The group names.</summary>
    public static IReadOnlyList<string> Names { get; } = ["all", "backbone", "adapters", "encoders", "heads"];

    /// <summary>True when parameter <paramref name="name"/> belongs to <paramref name="group"/>.</summary>
    public static bool Contains(string group, string name)
    {
        bool adapter = name.Contains(".lora_", StringComparison.Ordinal);
        bool backbone = !adapter && (name.StartsWith("backbone.", StringComparison.Ordinal) || name.Contains(".backbone.", StringComparison.Ordinal));
        bool head = name.StartsWith("policy_head.", StringComparison.Ordinal) || name.StartsWith("value_head.", StringComparison.Ordinal)
            || name.StartsWith("qHead.", StringComparison.Ordinal) || name.StartsWith("q_head.", StringComparison.Ordinal) || name == "log_std";
        return group switch
        {
            "all" => true,
            "backbone" => backbone,
            "adapters" => adapter,
            "heads" => head,
            "encoders" => !adapter && !backbone && !head,
            _ => name.Contains(group, StringComparison.Ordinal),
        };
    }

    /// <summary>
    /// Sets <c>requires_grad</c> on every parameter of <paramref name="module"/>: true exactly for those in
    /// one of <paramref name="groups"/>, except base weights restored from a package (<see cref="IExternalWeights"/>:
    /// checkpoints do not hold them, so they never train). Gradients of the frozen ones are dropped, so no optimiser
    /// moves them. Returns the number of trainable parameters (elements).
    /// </summary>
    public static long Apply(nn.Module module, IReadOnlyCollection<string> groups)
    {
        long trainable = 0;
        var external = ModelWeights.ExternalNames(module);
        foreach (var (name, p) in module.named_parameters())
        {
            bool on = !external.Contains(name) && groups.Any(g => Contains(g, name));
            p.requires_grad = on;
            if (!on && p.grad is not null) p.grad = null;
            if (on) trainable += p.numel();
        }
        return trainable;
    }

    /// <summary>The names of the trainable parameters of <paramref name="module"/>.</summary>
    public static IEnumerable<string> Trainable(nn.Module module) =>
        module.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name);
}
