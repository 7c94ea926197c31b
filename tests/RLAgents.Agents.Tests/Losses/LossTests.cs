using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Losses;
using RLAgents.Environments;
using RLAgents.Policies;
using RLAgents.Policies.Encoding;
using static TorchSharp.torch;

namespace RLAgents.Agents.Tests.Losses;

/// <summary>Loss terms on worked examples, with the policy's outputs injected.</summary>
public class LossTests
{
    private static readonly ObservationSpace Space = ObservationSpace.Single("state", new BoxSpace(-1, 1, [1]));

    private static LossContext Context(float[] newLogProbs, float[] oldLogProbs, float[] advantages, float[]? values = null, float[]? oldValues = null, float[]? returns = null, double progress = 0)
    {
        int n = newLogProbs.Length;
        var policy = new ActorCriticPolicy(Space, new DiscreteSpace(2), new PolicyOptions { HiddenSizes = [2] }, new Rng(1UL));
        var batch = new OnPolicyBatch(new ObservationInput(Space, [zeros(n, 1)]), zeros(n, dtype: ScalarType.Int64), tensor(oldLogProbs),
            tensor(advantages), tensor(returns ?? new float[n]), tensor(oldValues ?? new float[n]));
        return new LossContext(policy, progress) { OnPolicy = batch, Evaluation = new ActionEvaluation(tensor(newLogProbs), tensor(new float[n]), tensor(values ?? new float[n])) };
    }

    [Fact]
    public void PpoClippedSurrogateOnAWorkedExample()
    {
        using var scope = NewDisposeScope();
        float old = MathF.Log(0.5f);
        // Ratios 0.5, 1.0, 1.5, 1.1 with advantages 1, −1, 2, −2 and ε = 0.2:
        // min(ρA, clip(ρ)A) = min(0.5, 0.8) = 0.5; −1; min(3, 2.4) = 2.4; min(−2.2, −2.2) = −2.2 → mean −0.075.
        var context = Context([MathF.Log(0.25f), old, MathF.Log(0.75f), MathF.Log(0.55f)], [old, old, old, old], [1, -1, 2, -2]);
        double loss = new ClippedSurrogateLoss(0.2).Compute(context).item<float>();
        Assert.Equal(0.075, loss, 5);
        Assert.Equal(0.5, context.Metrics["clip_fraction"], 6);
        // approx KL = mean((ρ − 1) − ln ρ) = (0.193147 + 0 + 0.094535 + 0.004690) / 4.
        Assert.Equal(0.073093, context.Metrics["approx_kl"], 5);
    }

    [Fact]
    public void PpoClipRangeCanAnnealWithProgress()
    {
        using var scope = NewDisposeScope();
        float old = MathF.Log(0.5f);
        var context = Context([MathF.Log(0.75f)], [old], [2], progress: 0.5);
        // ε(0.5) = 0.2 · (1 − 0.5) = 0.1: min(1.5·2, 1.1·2) = 2.2.
        Assert.Equal(-2.2, new ClippedSurrogateLoss(p => 0.2 * (1 - p)).Compute(context).item<float>(), 5);
    }

    [Fact]
    public void ValueLossPlainAndClipped()
    {
        using var scope = NewDisposeScope();
        var context = Context([0, 0], [0, 0], [0, 0], values: [2f, 0.9f], oldValues: [1f, 1f], returns: [3f, 0f]);
        // Plain: ½·mean(1, 0.81) = 0.4525. Clipped (ε = 0.5): max(1, (1.5 − 3)²) = 2.25 and max(0.81, 0.81) → ½·1.53 = 0.765.
        Assert.Equal(0.4525, new ValueLoss().Compute(context).item<float>(), 5);
        Assert.Equal(0.765, new ValueLoss(0.5).Compute(context).item<float>(), 5);
    }

    [Fact]
    public void PolicyGradientAndEntropyTerms()
    {
        using var scope = NewDisposeScope();
        var context = Context([-1f, -2f], [0, 0], [3f, -1f]);
        // −mean(A·log π) = −(−3 + 2)/2 = 0.5.
        Assert.Equal(0.5, new PolicyGradientLoss().Compute(context).item<float>(), 6);
    }

    [Fact]
    public void PipelineWeightsTermsAndAcceptsExtraTermsWithoutSubclassing()
    {
        using var scope = NewDisposeScope();
        var context = Context([-1f, -2f], [0, 0], [3f, -1f]);
        var pipeline = new LossPipeline([(new PolicyGradientLoss(), 2.0)]).With(new ConstantTerm(), 0.5);
        Assert.Equal(2 * 0.5 + 0.5 * 4, pipeline.Total(context).item<float>(), 6);
        Assert.Equal(4.0, context.Metrics["constant"], 6);
    }

    [Fact]
    public void DqnTargetsBootstrapAfterTruncationButNotTermination()
    {
        using var scope = NewDisposeScope();
        // Both transitions: R = 1 and max Q(s') = 10. Terminated: discount 0 → 1. Truncated: γ = 0.99 → 10.9.
        var y = Dqn.TdTargets(tensor(new float[] { 1, 1 }), tensor(new float[] { 0f, 0.99f }), tensor(new float[] { 10, 10 }));
        Assert.Equal(new[] { 1f, 10.9f }, y.data<float>().ToArray());
    }

    [Fact]
    public void TdLossIsHuberOrSquared()
    {
        using var scope = NewDisposeScope();
        var policy = new QNetworkPolicy(Space, new DiscreteSpace(2), new PolicyOptions { HiddenSizes = [2] }, new Rng(1UL));
        LossContext Ctx() => new(policy, 0)
        {
            Replay = new ReplayBatch(new ObservationInput(Space, [zeros(2, 1)]), tensor(new long[] { 0, 1 }), tensor(new float[] { 0.5f, 0f })),
            QValues = tensor(new float[] { 1f, 9f, 9f, 3f }, [2, 2]),
        };
        // Errors: Q(s0, 0) − 0.5 = 0.5 and Q(s1, 1) − 0 = 3. Huber: (½·0.25 + (3 − ½))/2 = 1.3125; MSE: (0.25 + 9)/2 = 4.625.
        Assert.Equal(1.3125, new TdLoss(TdLossKind.Huber).Compute(Ctx()).item<float>(), 5);
        Assert.Equal(4.625, new TdLoss(TdLossKind.Mse).Compute(Ctx()).item<float>(), 5);
    }

    private sealed class ConstantTerm : ILossTerm
    {
        public string Name => "constant";
        public Tensor Compute(LossContext context) => tensor(4f);
    }
}
