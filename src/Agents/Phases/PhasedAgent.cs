using RLAgents.Environments;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.Policies;
using RLAgents.Policies.Multimodal;
using RLAgents.Policies.Networks;

namespace RLAgents.Agents.Phases;

/// <summary>
/// The one agent a schedule trains: its policy (actor-critic, or a Q-network when the schedule's
/// RL phases are DQN), the default trainable set, and the frozen SFT reference for KL anchors.
/// </summary>
public sealed class PhasedAgent : IDisposable
{
    private readonly HashSet<string> _defaultTrainable;
    private readonly PhasedExperimentOptions _options;
    private readonly IStateEstimatorFactory _factory;

    /// <summary>
    /// Builds the networks for <paramref name="observations"/> and <paramref name="actions"/>; text goes through a
    /// tokenizer over <paramref name="textVocabulary"/> (the env's <see cref="ITextVocabulary"/>, or null for bytes)
    /// unless a pretrained backbone brings its own; weights from <paramref name="rng"/>.
    /// </summary>
    public PhasedAgent(PhasedExperimentOptions options, ObservationSpace observations, DiscreteSpace actions, IReadOnlyList<string>? textVocabulary, Rng rng)
    {
        _options = options;
        var p = options.Policy;
        var tokenizer = TextTokenizers.ForVocabulary(textVocabulary);
        _factory = p.Architecture == PolicyArchitecture.Transformer
            ? new MultimodalStateEstimatorFactory(p.Multimodal, p.Multimodal.Backbone.Checkpoint is null ? tokenizer : null)
            : new TokenizedMlpStateEstimatorFactory(p.Network, tokenizer);
        Policy = options.UsesQNetwork
            ? new QNetworkPolicy(observations, actions, p.Network, _factory, rng)
            : new ActorCriticPolicy(observations, actions, p.Network, _factory, rng);
        _defaultTrainable = ParameterGroups.Trainable(Policy).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The policy being trained.</summary>
    public Policy Policy { get; }

    /// <summary>The frozen copy of the policy after the latest SFT phase (actor-critic agents), or null.</summary>
    public ActorCriticPolicy? Reference { get; private set; }

    /// <summary>Makes exactly the parameters of <paramref name="groups"/> trainable (null: the agent's default set); returns the trainable element count.</summary>
    public long SetTrainable(IReadOnlyCollection<string>? groups)
    {
        if (groups is not null) return ParameterGroups.Apply(Policy, groups);
        long count = 0;
        foreach (var (name, p) in Policy.named_parameters())
        {
            bool on = _defaultTrainable.Contains(name);
            p.requires_grad = on;
            if (!on) p.grad = null;
            if (on) count += p.numel();
        }
        return count;
    }

    /// <summary>Freezes a copy of the current policy as the KL-anchor reference (actor-critic agents).</summary>
    public void SnapshotReference()
    {
        if (Policy is not ActorCriticPolicy ac) return;
        Reference ??= new ActorCriticPolicy(ac.ObservationSpace, ac.ActionSpace, _options.Policy.Network, _factory, new Rng(0UL));
        Reference.CopyFrom(ac);
        foreach (var p in Reference.parameters()) p.requires_grad = false;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Policy.Dispose();
        Reference?.Dispose();
    }
}
