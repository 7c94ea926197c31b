using RLAgents.Agents.Training;

namespace RLAgents.Agents.Tests.Training;

/// <summary>The one learning test: PPO with the shipped config solves CartPole-v1 within a generous budget.</summary>
public class LearningTests
{
    [Fact]
    public void PpoSolvesCartPole()
    {
        using var dir = new TempDirectory();
        var options = TestPaths.Load("cartpole-ppo.json",
            "training.totalSteps=150000", "training.stopAtMeanReturn=450", "training.evalInterval=0",
            "training.evalEpisodes=10", "training.checkpointInterval=0", "training.logInterval=10000");
        var result = TrainingRunner.Run(options, dir.Combine("run"));
        Assert.NotNull(result.SolvedAtStep);
        Assert.NotNull(result.FinalEvaluation);
        Assert.True(result.FinalEvaluation!.MeanReturn >= 400, $"greedy mean return {result.FinalEvaluation.MeanReturn} after {result.EnvSteps} steps");
    }
}
