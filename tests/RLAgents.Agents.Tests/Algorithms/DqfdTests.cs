using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Buffers;
using RLAgents.Agents.Losses;
using RLAgents.Agents.Phases;
using RLAgents.Agents.Tests.Phases;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Policies;
using RLAgents.Policies.Encoding;
using static TorchSharp.torch;

namespace RLAgents.Agents.Tests.Algorithms;

/// <summary>DQfD: demonstrations replayed beside the agent's experience, the large-margin loss, pre-training.</summary>
public sealed class DqfdTests
{
    private static readonly ObservationSpace Space = new(new Modality("x", new BoxSpace(-10, 10, [1])));

    [Fact]
    public void TheLargeMarginLossIsTheMarginByWhichAnotherActionBeatsTheExpertsOnDemonstrationRowsOnly()
    {
        using var scope = NewDisposeScope();
        // Row 0 (demo): Q = [1, 2, 0], expert 0 → max(1 + 0, 2 + 0.8, 0 + 0.8) − 1 = 1.8.
        // Row 1 (demo): Q = [3, 0, 1], expert 0 leads by more than the margin → 0.
        // Row 2 (agent's own): would be 10.8, but it is not a demonstration.
        var q = tensor(new float[] { 1, 2, 0, 3, 0, 1, 0, 10, 0 }).reshape(3, 3);
        var batch = new ReplayBatch(null!, tensor(new long[] { 0, 0, 0 }), zeros(3), tensor(new float[] { 1, 1, 0 }));
        var context = new LossContext(null!, 0) { Replay = batch, QValues = q };
        Assert.Equal((1.8 + 0) / 2, new LargeMarginLoss(0.8).Compute(context).item<float>(), 5);
        Assert.Equal(0.5, context.Metrics["demo_accuracy"], 5); // greedy agrees with the expert on row 1, not on row 0
    }

    [Fact]
    public void ABatchWithoutDemonstrationsHasNoMarginLoss()
    {
        using var scope = NewDisposeScope();
        var q = tensor(new float[] { 1, 2, 0 }).reshape(1, 3).requires_grad_();
        var context = new LossContext(null!, 0) { Replay = new ReplayBatch(null!, tensor(new long[] { 0 }), zeros(1)), QValues = q };
        var loss = new LargeMarginLoss(0.8).Compute(context);
        Assert.Equal(0f, loss.item<float>());
        loss.backward(); // still part of the graph, so a pipeline can sum it
    }

    [Fact]
    public void DemonstrationsBecomeNStepTransitionsEndingInATerminalStep()
    {
        var set = new DemonstrationSet(Space);
        var steps = Enumerable.Range(0, 3).Select(t => { var o = new Observation(Space); o.Floats(0)[0] = t; return o; }).ToArray();
        set.AddEpisode(steps, [2, 1, 0], [0, 0, 1], gamma: 0.9);
        set.AddEpisode(steps[..1], [1], [0.5], gamma: 0.9);
        var replay = new ReplayBuffer(Space, 8);
        set.FillReplay(replay, nStep: 2, gamma: 0.9);
        Assert.Equal(4, replay.Count);
        Assert.Equal([2, 1, 0, 1], replay.Actions[..4].ToArray());
        // t0: r0 + γ r1 = 0, bootstraps from s2 with γ²; t1: r1 + γ r2 = 0.9, terminal; t2: 1, terminal; the one-step episode: 0.5.
        Assert.Equal([0f, 0.9f, 1f, 0.5f], replay.Returns[..4].ToArray(), new FloatTolerance(1e-6f));
        Assert.Equal([0.81f, 0f, 0f, 0f], replay.Discounts[..4].ToArray(), new FloatTolerance(1e-6f));
        Assert.Equal(2f, replay.NextObservations.Floats(0)[0]);
        Assert.Equal([0f, 1f, 2f, 0f], replay.Observations.Floats(0)[..4]);
    }

    private static PhaseOptions Dqfd(int expertEpisodes, int pretrainUpdates, long steps = 64) => new()
    {
        Kind = AlgorithmKind.Dqn,
        Steps = steps,
        Dqn = new DqnOptions
        {
            LearningStarts = 32, TrainFrequency = 32, GradientSteps = 2, BatchSize = 32, BufferSize = 1000, NStep = 3, TargetUpdateInterval = 64,
            LearningRate = 1e-3, Demonstrations = new DqfdOptions { ExpertEpisodes = expertEpisodes, PretrainUpdates = pretrainUpdates, BatchFraction = 0.25 },
        },
    };

    [Fact]
    public void PretrainingOnBotDemonstrationsTeachesTheQNetworkTheExpertsActions()
    {
        var options = PhaseTestKit.Options(PolicyArchitecture.Mlp, Dqfd(expertEpisodes: 40, pretrainUpdates: 300));
        using var env = AgentFactory.MakeEnv(options, 4);
        using var agent = AgentFactory.CreateAgent(options, env);
        using var dqn = (Dqn)AgentFactory.CreateAlgorithm(options, options.Schedule[0], 0, agent, env);
        Assert.Equal(40, dqn.Demonstrations);
        Assert.True(dqn.DemonstrationReplay!.Count > 40);
        var metrics = dqn.Iterate(64);
        // 300 pre-training updates, then this round's 2 once learning started (32 steps collected).
        Assert.Equal(302, dqn.OptimizerSteps);
        Assert.True(metrics["pretrain_demo_accuracy"] > 0.8, $"accuracy on demonstrations after pre-training: {metrics["pretrain_demo_accuracy"]}");
        Assert.True(metrics.ContainsKey("margin_loss"));
        // Later rounds do not pre-train again, and leave no tensors behind.
        dqn.Iterate(64);
        Assert.Equal(304, dqn.OptimizerSteps);
        long warm = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 20; i++) dqn.Iterate(100_000);
        long after = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.True(after <= warm, $"live tensors grew from {warm} to {after} over 20 iterations");
    }

    [Fact]
    public void LearningWaitsForTheFirstNStepTransitionWhenItMayStartEarlier()
    {
        var phase = Dqfd(expertEpisodes: 2, pretrainUpdates: 3);
        phase.Dqn.LearningStarts = 1;
        phase.Dqn.TrainFrequency = 4; // one vector step of 4 envs per round; 3-step transitions need a few rounds
        var options = PhaseTestKit.Options(PolicyArchitecture.Mlp, phase);
        using var env = AgentFactory.MakeEnv(options, 4);
        using var agent = AgentFactory.CreateAgent(options, env);
        using var dqn = (Dqn)AgentFactory.CreateAlgorithm(options, options.Schedule[0], 0, agent, env);
        dqn.Iterate(64);
        Assert.Equal(0, dqn.Replay.Count);
        Assert.Equal(3, dqn.OptimizerSteps); // pre-training only
        for (int round = 0; round < 4 && dqn.Replay.Count == 0; round++)
        {
            dqn.Iterate(64);
            // A round trains (2 gradient steps) exactly when the replay held transitions by its end.
            Assert.Equal(dqn.Replay.Count > 0 ? 5 : 3, dqn.OptimizerSteps);
        }
        Assert.True(dqn.Replay.Count > 0);
    }

    [Fact]
    public void ADqfdRunCountsItsDemonstrationsAndRejectsAMissingFile()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");
        try
        {
            var options = PhaseTestKit.Options(PolicyArchitecture.Mlp, Dqfd(expertEpisodes: 5, pretrainUpdates: 4));
            var result = TrainingRunner.Run(options, run);
            Assert.Equal(5, result.Demonstrations);
            Assert.Equal(5, (long)PhaseTestKit.Rows(run)[^1]["demonstrations"]!);
            options.Phases![0].Dqn.Demonstrations.DemonstrationsFile = Path.Combine(run, "missing.arrows");
            var e = Assert.Throws<ConfigurationException>(options.Validate);
            Assert.StartsWith("phases[0].dqn.demonstrations.demonstrationsFile", e.Message);
        }
        finally
        {
            if (Directory.Exists(run)) Directory.Delete(run, true);
        }
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}
