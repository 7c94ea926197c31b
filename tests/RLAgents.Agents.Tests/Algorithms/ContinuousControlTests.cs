using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Collection;
using RLAgents.Environments;
using RLAgents.Policies;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Networks;
using RLAgents.Policies.Selection;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Agents.Tests.Algorithms;

/// <summary>SAC and TD3: their update math on tiny cases, determinism, memory, and learning a one-step bandit; PPO with a Gaussian policy.</summary>
public class ContinuousControlTests
{
    private static readonly PolicyOptions Small = new() { HiddenSizes = [16, 16], Activation = Activation.Relu, OrthogonalInit = false };

    private static SacOptions TinySac() => new()
    {
        BufferSize = 1000, LearningStarts = 32, BatchSize = 32, TrainFrequency = 8, GradientSteps = 8,
        ActorLearningRate = 3e-3, CriticLearningRate = 3e-3, EntropyLearningRate = 3e-3, Gamma = 0.9,
    };

    private static Td3Options TinyTd3() => new()
    {
        BufferSize = 1000, LearningStarts = 32, BatchSize = 32, TrainFrequency = 8, GradientSteps = 8,
        ActorLearningRate = 3e-3, CriticLearningRate = 3e-3, Gamma = 0.9,
    };

    private static IAlgorithm Create(string kind, ulong seed, out ContinuousActor actor, bool nanRewards = false)
    {
        var td3 = TinyTd3();
        if (kind == "td3-ou") td3.NoiseProcess = ExplorationNoiseProcess.OrnsteinUhlenbeck;
        var env = TargetEnv.Vector(2, nanRewards);
        actor = new ContinuousActor(env.SingleObservationSpace, env.SingleActionSpace, Small, new Rng(seed));
        var estimators = new MlpStateEstimatorFactory(Small);
        var source = RolloutCollector.Started(env, actor, new Rng(seed + 1), 5);
        return kind == "sac"
            ? new Sac(actor, Small, estimators, source, TinySac(), new Rng(seed + 2), new Rng(seed + 3))
            : new Td3(actor, Small, estimators, source, td3, new Rng(seed + 2), new Rng(seed + 3));
    }

    // Distance of the deterministic action from the bandit's optimum 0.5.
    private static double Error(ContinuousActor actor)
    {
        using var scope = NewDisposeScope();
        var input = new ObservationInput(actor.ObservationSpace, [ones(1, 1)]);
        var result = new ActResult(1, actor.ActionSpace.ActionLayout);
        actor.Act(input, ActionSelection.Greedy, new Rng(1UL), result, withValues: false);
        return Math.Abs(result.ContinuousActions[0] - 0.5);
    }

    [Fact]
    public void SoftTargetSubtractsTheEntropyTermAndStopsAtTermination()
    {
        using var scope = NewDisposeScope();
        var y = Sac.SoftTdTargets(tensor(new[] { 1f, 2f }), tensor(new[] { 0.9f, 0f }), tensor(new[] { 10f, 10f }), tensor(new[] { -1f, -1f }), 0.2);
        // Row 0: 1 + 0.9·(10 − 0.2·(−1)) = 10.18; row 1 terminated: 2.
        Assert.Equal(new[] { 10.18f, 2f }, y.data<float>().ToArray(), new FloatTolerance(1e-5f));
    }

    [Fact]
    public void TemperatureLossRaisesAlphaWhenTheEntropyIsBelowTarget()
    {
        using var scope = NewDisposeScope();
        var logAlpha = zeros(1).requires_grad_();
        // log π = −0.5, so the entropy estimate 0.5 is below the target H̄ = 1.
        var loss = Sac.TemperatureLoss(logAlpha, tensor(new[] { -0.5f, -0.5f }), targetEntropy: 1.0);
        Assert.Equal(-0.0, loss.item<float>(), 6); // log α = 0
        loss.backward();
        // d/d log α of −log α·(log π + H̄) = −(−0.5 + 1) = −0.5: gradient descent increases log α.
        Assert.Equal(-0.5f, logAlpha.grad!.item<float>(), 6);
    }

    [Fact]
    public void TargetSmoothingClipsToTheActionBounds()
    {
        using var scope = NewDisposeScope();
        var a = Td3.SmoothedTargetActions(tensor(new[] { 0.9f, -0.2f, 0f }, [3, 1]), tensor(new[] { 0.3f, -0.1f, -2f }, [3, 1]),
            tensor(new[] { -1f }), tensor(new[] { 1f }));
        Assert.Equal(new[] { 1f, -0.3f, -1f }, a.data<float>().ToArray(), new FloatTolerance(1e-6f));
    }

    [Fact]
    public void TwinCriticTargetsAreTheMinimumAndFollowByPolyakAveraging()
    {
        using var scope = NewDisposeScope();
        var obs = ObservationSpace.Single("state", new BoxSpace(-1, 1, [2]));
        var box = new BoxSpace(-1, 1, [1]);
        using var critics = new TwinCritics(obs, box, Small, new MlpStateEstimatorFactory(Small), 1e-2, new Rng(4UL));
        var s = new ObservationInput(obs, [rand(8, 2, generator: manual_seed(1))]);
        var a = rand(8, 1, generator: manual_seed(2));
        var q1 = critics.Q1.forward(s, a).detach();
        var q2 = critics.Q2.forward(s, a).detach();
        Assert.Equal(minimum(q1, q2).data<float>().ToArray(), critics.TargetMin(s, a).data<float>().ToArray());
        for (int i = 0; i < 5; i++) critics.Update(s, a, ones(8));
        var online = critics.Min(s, a).detach().data<float>().ToArray();
        // Targets stay put while the critics learn, then a hard Polyak step (τ = 1) copies them.
        Assert.Equal(minimum(q1, q2).data<float>().ToArray(), critics.TargetMin(s, a).data<float>().ToArray());
        critics.UpdateTargets(1.0);
        Assert.Equal(online, critics.TargetMin(s, a).data<float>().ToArray());
        Assert.Equal(5, critics.Steps);
    }

    [Theory]
    [InlineData("sac")]
    [InlineData("td3")]
    [InlineData("td3-ou")]
    public void SameSeedGivesIdenticalUpdates(string kind)
    {
        var metrics = new List<IReadOnlyDictionary<string, double>>[2];
        for (int run = 0; run < 2; run++)
        {
            using var algorithm = Create(kind, 3, out _);
            metrics[run] = Enumerable.Range(0, 8).Select(_ => algorithm.Iterate(1000)).ToList();
        }
        Assert.Contains("critic_loss", metrics[0][^1].Keys);
        for (int i = 0; i < 8; i++) Assert.Equal(metrics[0][i].OrderBy(p => p.Key), metrics[1][i].OrderBy(p => p.Key));
    }

    [Fact]
    public void OrnsteinUhlenbeckExplorationActsThroughItsStateAndCheckpointsIt()
    {
        IAlgorithm Run(string kind, out IReadOnlyList<float> replayActions)
        {
            var algorithm = Create(kind, 4, out _);
            for (int i = 0; i < 8; i++) algorithm.Iterate(1000); // 64 env steps: 32 uniform, 32 explored
            replayActions = ((Td3)algorithm).Replay.Buffer.ContinuousActions[..64].ToArray();
            return algorithm;
        }
        using var gaussian = Run("td3", out var gaussianActions);
        using var process = Run("td3-ou", out var processActions);
        Assert.Null(gaussian.SaveState().ExplorationNoise);
        var state = process.SaveState().ExplorationNoise;
        Assert.NotNull(state);
        Assert.Equal(2, state.Length); // 2 envs × 1 action float
        // Every bandit episode is one step long, so each slot's process restarted after its last step.
        Assert.All(state, x => Assert.Equal(0.0, x));
        // The same seeds: identical warm-up, different exploration afterwards.
        Assert.Equal(gaussianActions.Take(32), processActions.Take(32));
        Assert.NotEqual(gaussianActions.Skip(32), processActions.Skip(32));
    }

    [Theory]
    [InlineData("sac")]
    [InlineData("td3")]
    public void NonFiniteTargetsLeaveTheCriticsAsTheyWereAndAreNamed(string kind)
    {
        using var algorithm = Create(kind, 9, out _, nanRewards: true);
        var critics = kind == "sac" ? ((Sac)algorithm).Critics : ((Td3)algorithm).Critics;
        float[] Weights() => critics.Q1.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
        var before = Weights();
        IReadOnlyDictionary<string, double> metrics = new Dictionary<string, double>();
        for (int i = 0; i < 6; i++) metrics = algorithm.Iterate(1000); // 96 env steps: past learningStarts (32)
        Assert.Equal("critic_loss = NaN", algorithm.NonFinite);
        Assert.Equal(TinySac().GradientSteps, metrics["skipped_updates"]);
        Assert.DoesNotContain("critic_loss", metrics.Keys);
        Assert.Equal(before, Weights());
    }

    [Theory]
    [InlineData("sac")]
    [InlineData("td3")]
    public void LiveTensorCountStaysFlat(string kind)
    {
        using var algorithm = Create(kind, 5, out _);
        for (int i = 0; i < 6; i++) algorithm.Iterate(1000);
        long warm = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 30; i++) algorithm.Iterate(1000);
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.True(after <= warm, $"live tensors grew from {warm} to {after} over 30 iterations");
    }

    [Theory]
    [InlineData("sac")]
    [InlineData("td3")]
    [InlineData("td3-ou")]
    public void LearnsTheBestActionOfAOneStepBandit(string kind)
    {
        using var algorithm = Create(kind, 7, out var actor);
        double before = Error(actor);
        for (int i = 0; i < 120; i++) algorithm.Iterate(10_000); // 1920 env steps, 960 gradient steps
        double after = Error(actor);
        Assert.True(after < 0.15 && after < before, $"{kind}: |a − 0.5| went from {before:F3} to {after:F3}");
    }

    // Trains for `iterations` PPO iterations; the mean reward of their rollouts.
    private static double MeanRolloutReward(OnPolicyAlgorithm ppo, int iterations, long totalSteps)
    {
        double sum = 0;
        for (int i = 0; i < iterations; i++)
        {
            ppo.Iterate(totalSteps);
            sum += ppo.Buffer.Rewards.Average(r => (double)r);
        }
        return sum / iterations;
    }

    [Fact]
    public void PpoWithAGaussianPolicyImprovesOnTheBandit()
    {
        var env = TargetEnv.Vector(4);
        var options = new PolicyOptions { HiddenSizes = [16], InitialLogStd = -0.5 };
        var policy = new ActorCriticPolicy(env.SingleObservationSpace, env.SingleActionSpace, options, new Rng(2UL));
        var (settings, loss) = Ppo.Configure(new PpoOptions { RolloutSteps = 16, Epochs = 4, Minibatches = 2, LearningRate = 1e-2, EntropyCoefficient = 0, AnnealLearningRate = false });
        using var ppo = new OnPolicyAlgorithm(policy, env, settings, loss, new Rng(3UL), new Rng(4UL), 5);
        double Mean(int iterations) => MeanRolloutReward(ppo, iterations, 100_000);
        double first = Mean(2);
        Mean(20);
        double last = Mean(3);
        // The initial policy N(~0, 0.6²) earns about −(0.25 + 0.37); a policy near 0.5 with a shrinking σ earns far more.
        Assert.True(last > first + 0.1 && last > -0.2, $"mean reward went from {first:F3} to {last:F3}");
        Assert.All(ppo.Buffer.ContinuousActions, a => Assert.True(float.IsFinite(a)));
    }

    [Fact]
    public void TheMultimodalTransformerWithAGaussianHeadLearnsToFollowATextInstruction()
    {
        // The agent of an experiment with architecture "transformer", as the BabyAI configs build it, on an env whose
        // goal only its text names: the Gaussian head must come to read "left" / "right" through the backbone.
        var env = InstructedReachEnv.Vector(8);
        var experiment = new RLAgents.Agents.Training.ExperimentOptions
        {
            Policy = new PolicyOptions
            {
                Architecture = PolicyArchitecture.Transformer,
                HiddenSizes = [32],
                InitialLogStd = -0.5,
                Multimodal = new Policies.Multimodal.MultimodalOptions
                {
                    Backbone = new Policies.Multimodal.BackboneOptions { NLayer = 1, NHead = 2, NEmbd = 16, BlockSize = 16 },
                    MaxTextTokens = 4,
                },
            },
        };
        using var agent = new RLAgents.Agents.Training.Agent(experiment, env.SingleObservationSpace, env.SingleActionSpace,
            new InstructedReachEnv().TextVocabulary, new Rng(11UL));
        Assert.IsType<Policies.Multimodal.MultimodalStateEstimatorFactory>(agent.Estimators);
        var (settings, loss) = Ppo.Configure(new PpoOptions { RolloutSteps = 16, Epochs = 4, Minibatches = 4, LearningRate = 3e-3, EntropyCoefficient = 0, AnnealLearningRate = false });
        using var ppo = new OnPolicyAlgorithm(Assert.IsType<ActorCriticPolicy>(agent.Policy), env, settings, loss, new Rng(12UL), new Rng(13UL), 5);
        double Mean(int iterations) => MeanRolloutReward(ppo, iterations, 1_000_000);
        double first = Mean(2);
        Mean(30);
        double last = Mean(3);
        // Ignoring the text earns 0 on average; following it with σ ≈ 0.6 earns about 0.5 and more as σ shrinks.
        Assert.True(last > first + 0.3 && last > 0.4, $"mean reward went from {first:F3} to {last:F3}");
    }
}

/// <summary>Element-wise float comparison within an absolute tolerance.</summary>
internal sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
{
    public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

    public int GetHashCode(float obj) => 0;
}
