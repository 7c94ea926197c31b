using RLAgents.Agents.Evaluation;
using RLAgents.Agents.Training;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Agents.Tests.Training;

/// <summary>The action and normalisation wrappers of <c>env</c>: reached from config, checked, and their statistics checkpointed.</summary>
public class NormalizationStatisticsTests
{
    private static readonly string[] Tiny =
    [
        "env.numEnvs=2", "env.vectorization=sync", "algorithm.ppo.rolloutSteps=32", "algorithm.ppo.epochs=1", "algorithm.ppo.minibatches=2",
        "training.totalSteps=448", "training.logInterval=0", "training.evalInterval=0", "training.evalEpisodes=1", "training.checkpointInterval=0",
    ];

    [Fact]
    public void ConfiguredWrappersWrapEveryEnvInTheirOrder()
    {
        var options = TestPaths.Load("pendulum-ppo.json", [.. Tiny, "env.clipAction=true", "env.rescaleAction={\"min\":-1,\"max\":1}", "env.normalizeObservation={\"clip\":5}", "env.normalizeReward={}"]);
        options.Validate();
        using var env = AgentFactory.MakeEnv(options, 2);
        // Agent-facing action bounds are the rescaled ones; observations are bounded by the clip.
        Assert.Equal("Box(float32, [1], -1, 1)", env.SingleActionSpace.ToString());
        Assert.Equal(2, VectorEnvs.FindAll<NormalizeObservation>(env).Count);
        Assert.Equal(2, VectorEnvs.FindAll<ClipAction>(env).Count);
        Assert.Equal(2, VectorEnvs.FindAll<NormalizeReward>(env).Count);
        using var evaluation = AgentFactory.MakeEnv(options, 2, evaluation: true);
        Assert.Empty(VectorEnvs.FindAll<NormalizeReward>(evaluation));
    }

    [Theory]
    [InlineData("cartpole-ppo.json", "env.clipAction=true", "env.clipAction: ClipAction needs")]
    [InlineData("pendulum-ppo.json", "env.rescaleAction={\"min\":1,\"max\":1}", "env.rescaleAction: min 1 and max 1 must be finite with min < max")]
    [InlineData("pendulum-ppo.json", "env.normalizeObservation={\"clip\":0}", "env.normalizeObservation.clip")]
    [InlineData("pendulum-ppo.json", "env.normalizeReward={\"gamma\":1.5}", "env.normalizeReward.gamma")]
    public void BadWrapperSettingsAreOneLineConfigurationErrors(string config, string setting, string expected)
    {
        var error = Assert.Throws<ConfigurationException>(() =>
        {
            var options = TestPaths.Load(config, [.. Tiny, setting]);
            options.Validate();
            using var env = AgentFactory.MakeEnv(options, 1);
        });
        Assert.StartsWith(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void BatchedEnvsCannotTakePerEnvWrappers()
    {
        var options = TestPaths.Load("pendulum-ppo.json", [.. Tiny, "env.vectorization=batched", "env.normalizeObservation={}"]);
        var error = Assert.Throws<ConfigurationException>(options.Validate);
        Assert.StartsWith("env.vectorization: action and normalisation wrappers", error.Message);
    }

    [Fact]
    public void CheckpointsHoldTheStatisticsAndEvaluationUsesThemFrozen()
    {
        using var dir = new TempDirectory();
        var options = TestPaths.Load("pendulum-ppo.json", [.. Tiny, "env.normalizeObservation={}", "env.normalizeReward={}"]);
        var result = TrainingRunner.Run(options, dir.Combine("run"));
        var checkpoint = Checkpoint.Load(result.RunDirectory);
        checkpoint.DisposeTensors();
        var saved = Assert.IsType<NormalizationStatistics>(checkpoint.State.Normalization);
        // Two envs, one float modality each: every observation counted (224 steps each, the first reset and the autoreset after step 200).
        Assert.Equal(2, saved.Observations.Length);
        Assert.Equal(224 + 2, saved.Observations[0][0]!.Count);
        Assert.Equal(2, saved.Rewards.Length);
        Assert.Equal(224, saved.Rewards[0].Returns.Count);
        // Training returns are the environment's (a barely trained policy loses hundreds per 200-step episode), not sums of
        // the scaled rewards (tens); evaluations run without the reward wrapper.
        Assert.Equal(2, checkpoint.State.Runner.RecentReturns.Length);
        Assert.All(checkpoint.State.Runner.RecentReturns, r => Assert.InRange(r, -3300, -300));
        Assert.InRange(result.FinalEvaluation!.MeanReturn, -3300, -300);

        options.Env.NumEnvs = 3;
        using var env = AgentFactory.MakeEnv(options, 3, evaluation: true);
        saved.ApplyFrozen(env);
        var wrappers = VectorEnvs.FindAll<NormalizeObservation>(env);
        Assert.All(wrappers, w => Assert.True(w.Frozen));
        Assert.All(wrappers, w => Assert.Equal(saved.Observations.Sum(o => o[0]!.Count), w.Statistics(0)!.Count));
        env.Reset(3);
        Assert.All(wrappers, w => Assert.Equal(saved.Observations.Sum(o => o[0]!.Count), w.Statistics(0)!.Count));

        var report = Evaluator.Evaluate(result.RunDirectory, episodes: 1);
        Assert.InRange(report.Summary.Mean.Value, -3300, -300);
    }
}
