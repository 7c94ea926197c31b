using RLAgents.Environments;
using RLAgents.Policies.Distributions;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Networks;
using RLAgents.Policies.Selection;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests.Distributions;

/// <summary>The diagonal Gaussian (plain and tanh-squashed) and products of parts, against closed forms.</summary>
public class ActionDistributionTests
{
    private static readonly BoxSpace Box2 = new(-2, 2, [2]);

    // log N(x; μ, σ) summed over elements, in double precision.
    private static double GaussianLogPdf(double[] x, double[] mean, double[] std) =>
        x.Select((v, j) => -0.5 * Math.Pow((v - mean[j]) / std[j], 2) - Math.Log(std[j]) - 0.5 * Math.Log(2 * Math.PI)).Sum();

    [Fact]
    public void GaussianLogProbAndEntropyMatchClosedForms()
    {
        using var scope = NewDisposeScope();
        var dist = new ActionDistribution(Box2.ActionLayout);
        Assert.Equal(4, dist.ParameterSize);
        Assert.Equal(2, dist.HeadSize(stateDependentStd: false));
        // Parameters [μ0, μ1, log σ0, log σ1] per row.
        var parameters = tensor(new float[] { 0.5f, -1f, 0f, MathF.Log(0.5f), 0f, 0f, 1f, -2f }, [2, 4]);
        var actions = tensor(new float[] { 1f, 0f, -0.3f, 0.7f }, [2, 2]);
        var logp = dist.LogProb(parameters, new ActionTensors(null, actions)).data<float>().ToArray();
        Assert.Equal(GaussianLogPdf([1, 0], [0.5, -1], [1, 0.5]), logp[0], 4);
        Assert.Equal(GaussianLogPdf([-0.3, 0.7], [0, 0], [Math.E, Math.Exp(-2)]), logp[1], 4);
        var h = dist.Entropy(parameters).data<float>().ToArray();
        double c = 0.5 + 0.5 * Math.Log(2 * Math.PI);
        Assert.Equal(2 * c + Math.Log(0.5), h[0], 5);
        Assert.Equal(2 * c + 1 - 2, h[1], 5);
    }

    [Fact]
    public void StateIndependentLogStdIsBroadcastOverTheBatch()
    {
        using var scope = NewDisposeScope();
        var dist = new ActionDistribution(Box2.ActionLayout);
        var head = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [3, 2]);
        var p = dist.Parameters(head, tensor(new float[] { -1, 0.5f }));
        Assert.Equal([3L, 4L], p.shape);
        Assert.Equal(new float[] { 5, 6, -1, 0.5f }, p[2].data<float>().ToArray());
    }

    [Fact]
    public void TanhSquashedLogProbIsTheGaussianDensityCorrectedByTheJacobian()
    {
        using var scope = NewDisposeScope();
        var dist = new ActionDistribution(Box2.ActionLayout, squashed: true);
        var parameters = tensor(new float[] { 0.3f, -0.8f, MathF.Log(0.7f), MathF.Log(1.3f) }, [1, 4]);
        var noise = tensor(new float[] { 0.4f, -1.1f }, [1, 2]);
        var (actions, logProbs) = dist.RSample(parameters, noise);
        double[] u = [0.3 + 0.7 * 0.4, -0.8 + 1.3 * -1.1];
        var a = actions.data<float>().ToArray();
        // a = 2·tanh(u) in [−2, 2]; log p(a) = log N(u) − Σ log(2·(1 − tanh²u)).
        for (int j = 0; j < 2; j++) Assert.Equal(2 * Math.Tanh(u[j]), a[j], 5);
        double expected = GaussianLogPdf(u, [0.3, -0.8], [0.7, 1.3]) - u.Sum(v => Math.Log(2 * (1 - Math.Tanh(v) * Math.Tanh(v))));
        Assert.Equal(expected, logProbs.item<float>(), 4);
        // Evaluating the sampled action recovers u through atanh and gives the same density.
        Assert.Equal(expected, dist.LogProb(parameters, new ActionTensors(null, actions)).item<float>(), 3);
    }

    [Fact]
    public void RSampleIsDifferentiableInTheParameters()
    {
        using var scope = NewDisposeScope();
        var dist = new ActionDistribution(Box2.ActionLayout, squashed: true);
        var parameters = tensor(new float[] { 0.1f, 0.2f, -0.5f, -0.5f }, [1, 4]).requires_grad_();
        var (actions, logProbs) = dist.RSample(parameters, tensor(new float[] { 1f, -1f }, [1, 2]));
        actions.sum().add(logProbs.sum()).backward();
        var g = parameters.grad!.data<float>().ToArray();
        Assert.All(g, v => Assert.True(float.IsFinite(v) && v != 0));
    }

    [Fact]
    public void SelectMatchesTheTensorLogProbAndGreedyTakesTheMode()
    {
        using var scope = NewDisposeScope();
        foreach (bool squashed in new[] { false, true })
        {
            var dist = new ActionDistribution(Box2.ActionLayout, squashed);
            float[] row = [0.4f, -0.2f, -1f, 0.3f];
            var rng = new Rng(7UL);
            var continuous = new float[2];
            var description = new float[dist.DescriptionSize];
            double lp = dist.Select(row, ActionSelection.Sample, rng, [], continuous, description);
            var parameters = tensor(row, [1, 4]);
            double tensorLp = dist.LogProb(parameters, new ActionTensors(null, tensor(continuous, [1, 2]))).item<float>();
            Assert.Equal(tensorLp, lp, 3);
            Assert.Equal(new float[] { 0.4f, -0.2f, MathF.Exp(-1f), MathF.Exp(0.3f) }, description);
            dist.Select(row, ActionSelection.Greedy, rng, [], continuous, default);
            Assert.Equal(squashed ? 2 * Math.Tanh(0.4) : 0.4, continuous[0], 5);
        }
    }

    [Fact]
    public void GaussianSamplesHaveTheRequestedMomentsAndReplayFromTheSeed()
    {
        var dist = new ActionDistribution(new BoxSpace(-10, 10, [1]).ActionLayout);
        float[] row = [1.5f, MathF.Log(0.5f)];
        double[] Draw(ulong seed)
        {
            var rng = new Rng(seed);
            var a = new float[1];
            return Enumerable.Range(0, 4000).Select(_ => { dist.Select(row, ActionSelection.Sample, rng, [], a, default); return (double)a[0]; }).ToArray();
        }
        var x = Draw(3);
        double mean = x.Average(), std = Math.Sqrt(x.Select(v => (v - mean) * (v - mean)).Average());
        // Standard errors: 0.5/√4000 ≈ 0.008 for the mean, ≈ 0.006 for the std.
        Assert.InRange(mean, 1.47, 1.53);
        Assert.InRange(std, 0.48, 0.52);
        Assert.Equal(x, Draw(3));
    }

    [Fact]
    public void NoisyGreedyStaysInBoundsAndUniformCoversTheBox()
    {
        var dist = new ActionDistribution(new BoxSpace(-1, 1, [1]).ActionLayout, squashed: true);
        var rng = new Rng(1UL);
        var a = new float[1];
        var noisy = Enumerable.Range(0, 500).Select(_ => { dist.Select([3f, 0f], ActionSelection.NoisyGreedy(0.5), rng, [], a, default); return a[0]; }).ToArray();
        Assert.All(noisy, v => Assert.InRange(v, -1f, 1f));
        Assert.Contains(noisy, v => v < 0.9f);
        var uniform = Enumerable.Range(0, 500).Select(_ => { dist.Select([3f, 0f], ActionSelection.Uniform, rng, [], a, default); return a[0]; }).ToArray();
        Assert.InRange(uniform.Average(), -0.1, 0.1);
        Assert.Throws<ArgumentException>(() => dist.Select([0f, 0f], ActionSelection.EpsilonGreedy(0.1), rng, [], a, default));
    }

    [Fact]
    public void DictActionsAreTheProductOfACategoricalAndAGaussian()
    {
        using var scope = NewDisposeScope();
        var space = new DictSpace(("move", new DiscreteSpace(3)), ("force", new BoxSpace(-1, 1, [1])));
        var dist = new ActionDistribution(space.ActionLayout);
        Assert.Equal(3 + 2, dist.ParameterSize);
        // logits (0, ln 2, 0) → p = (1/4, 1/2, 1/4); Gaussian μ = 0.2, σ = 1.
        var parameters = tensor(new float[] { 0, MathF.Log(2), 0, 0.2f, 0 }, [1, 5]);
        var actions = new ActionTensors(tensor(new long[] { 1 }, [1, 1]), tensor(new float[] { -0.3f }, [1, 1]));
        double expected = Math.Log(0.5) + GaussianLogPdf([-0.3], [0.2], [1]);
        Assert.Equal(expected, dist.LogProb(parameters, actions).item<float>(), 5);
        double h = -(0.5 * Math.Log(0.5) + 0.5 * Math.Log(0.25)) + 0.5 + 0.5 * Math.Log(2 * Math.PI);
        Assert.Equal(h, dist.Entropy(parameters).item<float>(), 5);
    }

    [Fact]
    public void GaussianKlDivergenceMatchesTheClosedForm()
    {
        using var scope = NewDisposeScope();
        var dist = new ActionDistribution(new BoxSpace(-1, 1, [1]).ActionLayout);
        var p = tensor(new float[] { 0.5f, MathF.Log(0.8f) }, [1, 2]);
        var q = tensor(new float[] { -0.1f, MathF.Log(1.5f) }, [1, 2]);
        double expected = Math.Log(1.5 / 0.8) + (0.64 + 0.36) / (2 * 2.25) - 0.5;
        Assert.Equal(expected, dist.KlDivergence(p, q).item<float>(), 5);
        Assert.Equal(0, dist.KlDivergence(p, p).item<float>(), 6);
    }

    [Fact]
    public void ActorCriticPolicyWithABoxActsAndEvaluatesItsOwnActions()
    {
        using var scope = NewDisposeScope();
        var obs = ObservationSpace.Single("state", new BoxSpace(-1, 1, [3]));
        var policy = new ActorCriticPolicy(obs, Box2, new PolicyOptions { HiddenSizes = [16], InitialLogStd = -0.5 }, new Rng(2UL));
        var input = new ObservationInput(obs, [rand(5, 3, generator: manual_seed(4))]);
        var result = new ActResult(5, Box2.ActionLayout);
        policy.Act(input, ActionSelection.Sample, new Rng(9UL), result);
        var eval = policy.EvaluateActions(input, new ActionTensors(null, tensor(result.ContinuousActions, [5, 2])));
        var logp = eval.LogProbs.data<float>().ToArray();
        for (int i = 0; i < 5; i++) Assert.Equal(result.LogProbs[i], logp[i], 4);
        // Entropy of a 2-D Gaussian with log σ = −0.5 in both elements.
        Assert.Equal(2 * (0.5 + 0.5 * Math.Log(2 * Math.PI) - 0.5), eval.Entropy[0].item<float>(), 5);
        Assert.Contains(policy.named_parameters(), p => p.name == "log_std");
    }

    [Fact]
    public void ContinuousActorActsInsideTheBoxAndItsCriticReadsTheAction()
    {
        using var scope = NewDisposeScope();
        var obs = ObservationSpace.Single("state", new BoxSpace(-1, 1, [3]));
        var options = new PolicyOptions { HiddenSizes = [16], Activation = Activation.Relu, OrthogonalInit = false };
        var actor = new ContinuousActor(obs, Box2, options, new Rng(2UL));
        var input = new ObservationInput(obs, [rand(64, 3, generator: manual_seed(4)).mul(2).sub(1)]);
        var result = new ActResult(64, Box2.ActionLayout);
        actor.Act(input, ActionSelection.Sample, new Rng(1UL), result);
        Assert.All(result.ContinuousActions, v => Assert.InRange(v, -2f, 2f));
        var critic = new ContinuousQNetwork(obs, Box2, options, new MlpStateEstimatorFactory(options), new Rng(3UL));
        var actions = tensor(result.ContinuousActions, [64, 2]);
        var q = critic.forward(input, actions);
        Assert.Equal([64L], q.shape);
        Assert.NotEqual(q.data<float>().ToArray(), critic.forward(input, actions.neg()).data<float>().ToArray());
        Assert.Throws<NotSupportedException>(() => new ContinuousActor(obs, new DiscreteSpace(3), options, new Rng(1UL)));
    }
}
