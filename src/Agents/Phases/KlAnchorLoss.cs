using RLAgents.Agents.Losses;
using RLAgents.Policies;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RLAgents.Agents.Phases;

/// <summary>
/// KL(π_ref ‖ π) = Σ_a π_ref(a|s) (log π_ref(a|s) − log π(a|s)), averaged over the on-policy
/// minibatch: keeps an RL phase near the policy a supervised phase produced (the reference is a
/// frozen copy). Added to PPO/A2C/REINFORCE as one more loss term.
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
        Tensor refLogProbs;
        using (no_grad()) refLogProbs = F.log_softmax(reference.Logits(observations), -1); // [B, K]
        var logProbs = F.log_softmax(policy.Logits(observations), -1);                      // [B, K]
        return refLogProbs.exp().mul(refLogProbs.sub(logProbs)).sum(-1).mean();
    }
}
