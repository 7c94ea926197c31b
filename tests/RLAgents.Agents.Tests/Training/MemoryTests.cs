using RLAgents.Agents.Training;
using TorchSharp;

namespace RLAgents.Agents.Tests.Training;

/// <summary>Dispose scopes at every step and minibatch keep the number of live tensors flat.</summary>
public class MemoryTests
{
    [Theory]
    [InlineData("cartpole-ppo.json", "algorithm.ppo.epochs=2")]
    [InlineData("cartpole-dqn.json", "algorithm.dqn.learningStarts=0")]
    [InlineData("cartpole-a2c.json", "algorithm.a2c.rolloutSteps=5")]
    [InlineData("cartpole-ppo.json", "policy.recurrent=true")]
    public void LiveTensorCountStaysFlatOverManyIterations(string config, string setting)
    {
        // A recurrent memory needs one state estimator (CartPole's PPO config gives the critic its own).
        string[] settings = setting == "policy.recurrent=true" ? [setting, "policy.shareStateEstimator=true"] : [setting];
        var options = TestPaths.Load(config, [.. settings, "algorithm.ppo.rolloutSteps=16", "algorithm.ppo.minibatches=2", "algorithm.dqn.trainFrequency=16", "algorithm.dqn.gradientSteps=2", "training.totalSteps=100000"]);
        var env = AgentFactory.MakeEnv(options, options.Env.NumEnvs);
        using var agent = AgentFactory.CreateAgent(options, env);
        var phase = options.Schedule[0];
        using var algorithm = AgentFactory.CreateAlgorithm(options, phase, 0, agent, env);
        for (int i = 0; i < 5; i++) algorithm.Iterate(phase.Steps);
        long warm = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 60; i++) algorithm.Iterate(phase.Steps);
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.True(after <= warm, $"live tensors grew from {warm} to {after} over 60 iterations");
    }
}
