using RLAgents.Environments;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.Policies;
using RLAgents.Policies.Multimodal;
using RLAgents.Policies.Networks;

namespace RLAgents.Agents.Training;

/// <summary>
/// The one agent a run trains: its policy (actor-critic, or a Q-network when the schedule's RL
/// phases are DQN) on the state estimator <see cref="PolicyOptions.Architecture"/> names, the
/// default trainable set, and the frozen SFT reference for KL anchors.
/// </summary>
public sealed class Agent : IDisposable
{
    private readonly HashSet<string> _defaultTrainable;
    private readonly PolicyOptions _options;

    /// <summary>
    /// Builds the networks of <paramref name="experiment"/> for <paramref name="observations"/> and
    /// <paramref name="actions"/>; text goes through a tokenizer over <paramref name="textVocabulary"/>
    /// (the env's <see cref="ITextVocabulary"/>, or null for bytes) unless a pretrained backbone brings its
    /// own; weights from <paramref name="rng"/>.
    /// </summary>
    public Agent(ExperimentOptions experiment, ObservationSpace observations, Space actions, IReadOnlyList<string>? textVocabulary, Rng rng)
    {
        _options = experiment.Policy;
        var tokenizer = TextTokenizers.ForVocabulary(textVocabulary);
        Estimators = _options.Architecture == PolicyArchitecture.Transformer
            ? new MultimodalStateEstimatorFactory(_options.Multimodal, _options.Multimodal.Backbone.Checkpoint is null ? tokenizer : null)
            : new MlpStateEstimatorFactory(_options, tokenizer);
        Policy = experiment.AgentKind switch
        {
            AgentKind.QNetwork => new QNetworkPolicy(observations, actions, _options, Estimators, rng),
            AgentKind.ContinuousActor => new ContinuousActor(observations, actions, _options, Estimators, rng),
            _ => new ActorCriticPolicy(observations, actions, _options, Estimators, rng),
        };
        _defaultTrainable = ParameterGroups.Trainable(Policy).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The policy being trained.</summary>
    public Policy Policy { get; }

    /// <summary>The state-estimator factory the policy's networks come from.</summary>
    public IStateEstimatorFactory Estimators { get; }

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
            if (on) count += p.numel();
        }
        return count;
    }

    /// <summary>Freezes a copy of the current policy as the KL-anchor reference (actor-critic agents).</summary>
    public void SnapshotReference()
    {
        if (Policy is not ActorCriticPolicy ac) return;
        Reference ??= new ActorCriticPolicy(ac.ObservationSpace, ac.ActionSpace, _options, Estimators, new Rng(0UL));
        Reference.CopyFrom(ac);
        foreach (var p in Reference.parameters()) p.requires_grad = false;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Policy.Dispose();
        Reference?.Dispose();
        (Estimators as IDisposable)?.Dispose();
    }
}
