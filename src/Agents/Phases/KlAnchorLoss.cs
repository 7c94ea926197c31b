using RLAgents.Agents.Losses;
using RLAgents.Policies;
using static TorchSharp.torch;

namespace RLAgents.Agents.Phases;

/// <summary>
/// KL(π_ref ‖ π) (Σ_a π_ref(a|s) (log π_ref(a|s) − log π(a|s)) for categoricals, the closed form for
/// Gaussians; <see cref="Policies.Distributions.ActionDistribution.KlDivergence"/>), averaged over the on-policy minibatch: keeps an RL phase near the policy a supervised phase produced (the reference is a
/// frozen copy). Added to PPO/A2C/REINFORCE as one more loss term. For a recurrent policy the reference replays the
/// minibatch's sequences from the memory the acting policy entered the rollout with (the collector keeps no second
/// memory stream for it): within each episode inside the rollout its memory is its own.
/// </summary>
public sealed class KlAnchorLoss(ActorCriticPolicy reference) : ILossTerm
{
    /// <inheritdoc />
    public string Name => "kl_anchor";

    /// <inheritdoc />
    public Tensor Compute(LossContext context)
    {
        var policy = context.Policy as ActorCriticPolicy ?? throw new InvalidOperationException("The KL anchor needs an actor-critic policy.");
        var observations = context.Batch.Observations;
        Tensor refParameters;
        using (no_grad()) refParameters = reference.Logits(observations); // [B, P]
        return policy.Distribution.KlDivergence(refParameters, policy.Logits(observations)).mean();
    }
}
