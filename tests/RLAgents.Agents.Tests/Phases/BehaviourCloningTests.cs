using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Losses;
using RLAgents.Agents.Phases;
using RLAgents.Environments;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.Policies;
using RLAgents.Policies.Networks;
using static TorchSharp.torch;

namespace RLAgents.Agents.Tests.Phases;

public sealed class BehaviourCloningTests
{
    private static readonly ObservationSpace Space = GridWorldEnv.CreateObservationSpace(includeDescription: false);

    private static ActorCriticPolicy Policy(ulong seed) => new(Space, new DiscreteSpace(7), new PolicyOptions { HiddenSizes = [64], ShareStateEstimator = true },
        new MlpStateEstimatorFactory(new PolicyOptions { HiddenSizes = [64] }, TextTokenizers.ForVocabulary(GridWorldVocabulary.Words)), new Rng(seed));

    [Fact]
    public void BotDemonstrationsAreSuccessfulEpisodesWithDiscountedReturns()
    {
        var (set, attempts) = DemonstrationSet.FromExpert(() => BabyAILevels.Make(PhaseTestKit.Level, new GridWorldOptions { IncludeDescription = false }), Space, 5, 11, gamma: 0.9);
        Assert.Equal(5, set.Episodes);
        Assert.True(attempts >= 5);
        // The last step of each episode carries the whole (positive) success reward; earlier steps are discounted copies.
        Assert.All(set.Returns, g => Assert.True(g > 0));
        int checkedSteps = 0;
        for (int i = 0; i + 1 < set.Count; i++)
        {
            if (set.Returns[i + 1] < set.Returns[i]) continue; // a new episode starts at i + 1
            Assert.Equal(0.9f * set.Returns[i + 1], set.Returns[i], 4); // no reward before success: G_t = γ G_{t+1}
            checkedSteps++;
        }
        Assert.True(checkedSteps >= set.Count - 2 * set.Episodes);
        Assert.All(set.Actions, a => Assert.InRange(a, 0, 6));
    }

    [Fact]
    public void CloningTheBotLowersTheLossAndRaisesAccuracy()
    {
        var (set, _) = DemonstrationSet.FromExpert(() => BabyAILevels.Make(PhaseTestKit.Level, new GridWorldOptions { IncludeDescription = false }), Space, 40, 3, gamma: 0.99);
        using var policy = Policy(1);
        var first = BehaviourCloning.Train(policy, set, new SftOptions { Updates = 1, BatchSize = 128 }, new Rng(1));
        var last = BehaviourCloning.Train(policy, set, new SftOptions { Updates = 150, BatchSize = 128, LearningRate = 3e-3 }, new Rng(2));
        Assert.True(last["bc_loss"] < 0.6 * first["bc_loss"], $"bc loss {first["bc_loss"]} → {last["bc_loss"]}");
        Assert.True(last["accuracy"] > 0.7, $"accuracy {last["accuracy"]}");
    }

    [Fact]
    public void AnnealingDecaysTheLearningRateLinearlyToZeroAndTheLastUpdatesMoveTheWeightsLess()
    {
        var (set, _) = DemonstrationSet.FromExpert(() => BabyAILevels.Make(PhaseTestKit.Level, new GridWorldOptions { IncludeDescription = false }), Space, 10, 7, gamma: 0.99);
        const int updates = 20;
        const double lr = 2e-3;
        var annealedRates = new List<double>();
        var constantRates = new List<double>();
        using var annealed = Policy(1);
        using var constant = Policy(1);
        // Weight change of the last update, measured by snapshotting before it (update U − 1 logs, then U runs).
        float[] Weights(Policy p) => p.parameters().SelectMany(t => t.data<float>().ToArray()).ToArray();
        float[]? beforeLastAnnealed = null, beforeLastConstant = null;
        BehaviourCloning.Train(annealed, set, new SftOptions { Updates = updates, BatchSize = 64, LearningRate = lr, AnnealLearningRate = true }, new Rng(3),
            logEvery: 1, (u, m) => { annealedRates.Add(m["learning_rate"]); if (u == updates - 1) beforeLastAnnealed = Weights(annealed); });
        BehaviourCloning.Train(constant, set, new SftOptions { Updates = updates, BatchSize = 64, LearningRate = lr }, new Rng(3),
            logEvery: 1, (u, m) => { constantRates.Add(m["learning_rate"]); if (u == updates - 1) beforeLastConstant = Weights(constant); });
        Assert.Equal(updates, annealedRates.Count);
        for (int u = 1; u <= updates; u++) Assert.Equal(lr * (1 - (u - 1) / (double)updates), annealedRates[u - 1], 12);
        Assert.All(constantRates, r => Assert.Equal(lr, r, 12));
        static double Step(float[] before, float[] after) => before.Zip(after, (a, b) => Math.Abs((double)a - b)).Sum();
        // Adam's step scales with the learning rate: the annealed last update (lr/U) moves far less than the constant one.
        double annealedStep = Step(beforeLastAnnealed!, Weights(annealed)), constantStep = Step(beforeLastConstant!, Weights(constant));
        Assert.True(annealedStep < 0.5 * constantStep, $"last-update weight change {annealedStep} (annealed) vs {constantStep} (constant)");
    }

    [Fact]
    public void LiveTensorsDoNotGrowWithTheNumberOfUpdates()
    {
        var (set, _) = DemonstrationSet.FromExpert(() => BabyAILevels.Make(PhaseTestKit.Level, new GridWorldOptions { IncludeDescription = false }), Space, 3, 5, gamma: 0.99);
        using var policy = Policy(1);
        static long Live() => TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        BehaviourCloning.Train(policy, set, new SftOptions { Updates = 3, BatchSize = 16 }, new Rng(1));
        long c1 = Live();
        BehaviourCloning.Train(policy, set, new SftOptions { Updates = 3, BatchSize = 16 }, new Rng(2));
        long c2 = Live();
        BehaviourCloning.Train(policy, set, new SftOptions { Updates = 30, BatchSize = 16 }, new Rng(3));
        long c3 = Live();
        // Each call's optimiser re-seats the parameters (a fixed number of handles per call); updates add nothing.
        Assert.Equal(c2 - c1, c3 - c2);
    }

    [Fact]
    public void TheKlAnchorIsZeroAtTheReferenceAndPositiveAwayFromIt()
    {
        var (set, _) = DemonstrationSet.FromExpert(() => BabyAILevels.Make(PhaseTestKit.Level, new GridWorldOptions { IncludeDescription = false }), Space, 3, 4, gamma: 0.99);
        using var policy = Policy(1);
        using var reference = Policy(2);
        reference.CopyFrom(policy);
        using var scope = NewDisposeScope();
        var observations = policy.Tensorizer.ToInput(set.ToBatch());
        var n = observations.Count;
        var batch = new OnPolicyBatch(observations, zeros(n, dtype: int64), zeros(n), zeros(n), zeros(n), zeros(n));
        var term = new KlAnchorLoss(reference);
        Assert.Equal(0, term.Compute(new LossContext(policy, 0) { OnPolicy = batch }).item<float>(), 6);
        using var other = Policy(3);
        other.CopyFrom(policy);
        using (no_grad()) other.named_parameters().Single(p => p.name == "policy_head.weight").parameter.mul_(100);
        var kl = term.Compute(new LossContext(other, 0) { OnPolicy = batch }).item<float>();
        Assert.True(kl > 1e-4, $"KL {kl}");
    }
}
