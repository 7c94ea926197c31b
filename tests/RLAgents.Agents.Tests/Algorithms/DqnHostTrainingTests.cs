using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Losses;
using RLAgents.Agents.Phases;
using RLAgents.Agents.Tests.Phases;
using RLAgents.Agents.Training;
using RLAgents.Environments.Configuration;
using RLAgents.Policies;
using static TorchSharp.torch;

namespace RLAgents.Agents.Tests.Algorithms;

/// <summary>
/// DQN's host training step (issue 16): a small MLP Q-network trains through <c>HostMlp</c>'s forward and backward
/// instead of libtorch calls; the weights it reaches equal the tensor path's to float rounding, for both TD losses,
/// with and without Double DQN, and the host path is the one a CartPole config takes.
/// </summary>
public sealed class DqnHostTrainingTests
{
    private static ExperimentOptions CartPole(TdLossKind loss, bool doubleDqn, Activation activation) => new()
    {
        Name = "dqn-host",
        Seed = 3,
        Env = new EnvironmentOptions { Id = "CartPole-v1", NumEnvs = 4 },
        Policy = new PolicyOptions { HiddenSizes = [64, 32], Activation = activation },
        Algorithm = new AlgorithmOptions
        {
            Kind = AlgorithmKind.Dqn,
            Dqn = new DqnOptions
            {
                LearningStarts = 64, TrainFrequency = 32, GradientSteps = 8, BatchSize = 37, BufferSize = 2000, NStep = 3,
                TargetUpdateInterval = 96, LearningRate = 3e-3, MaxGradNorm = 0.5, Loss = loss, DoubleDqn = doubleDqn,
            },
        },
    };

    /// <summary>Runs 12 rounds (a target copy every 3) and returns the online weights, the last round's metrics and the host steps.</summary>
    private static (Dictionary<string, float[]> Weights, IReadOnlyDictionary<string, double> Metrics, long HostSteps) Train(ExperimentOptions options, bool host)
    {
        using var env = AgentFactory.MakeEnv(options, options.Env.NumEnvs);
        using var agent = AgentFactory.CreateAgent(options, env);
        using var dqn = (Dqn)AgentFactory.CreateAlgorithm(options, options.Schedule[0], 0, agent, env);
        dqn.HostTraining = host;
        IReadOnlyDictionary<string, double> metrics = new Dictionary<string, double>();
        for (int i = 0; i < 12; i++) metrics = dqn.Iterate(totalSteps: 4000);
        var weights = dqn.Policy.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());
        return (weights, metrics, dqn.HostSteps);
    }

    [Theory]
    [InlineData(TdLossKind.Huber, true, Activation.Relu)]
    [InlineData(TdLossKind.Mse, false, Activation.Relu)]
    [InlineData(TdLossKind.Huber, false, Activation.Tanh)]
    public void TheHostStepReachesTheTensorStepsWeights(TdLossKind loss, bool doubleDqn, Activation activation)
    {
        using var scope = NewDisposeScope();
        var options = CartPole(loss, doubleDqn, activation);
        var (hostWeights, hostMetrics, hostSteps) = Train(options, host: true);
        var (tensorWeights, tensorMetrics, tensorSteps) = Train(options, host: false);
        Assert.Equal(0, tensorSteps);
        Assert.Equal((12 * 32 - 64) / 32 * 8 + 8, hostSteps); // every round from learningStarts on: 8 steps each
        // Adam steps every element by ≈ lr whatever its gradient's size, so float rounding (libtorch's tanh against the
        // host's, a different summation order) moves elements whose gradient is near zero by a fraction of a step
        // differently: after 72 steps of lr 3e-3 they agree to 2% of one step (6e-5), not to float epsilon (measured:
        // ReLU 2e-7; tanh, whose host form 1 − 2/(e^{2x} + 1) is less exact near 0, 2.7e-5).
        double worst = 0;
        foreach (var (name, expected) in tensorWeights)
        {
            var actual = hostWeights[name];
            for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
        }
        Assert.True(worst <= 0.02 * options.Algorithm!.Dqn!.LearningRate, $"the host and tensor weights differ by up to {worst}");
        // The comparison means something only if training moved the weights away from their initial values.
        var initial = InitialWeights(options);
        double moved = 0;
        foreach (var (name, w) in tensorWeights) moved += w.Zip(initial[name], (a, b) => Math.Abs(a - b)).Max();
        Assert.True(moved > 1e-2, $"training moved the weights by only {moved}");
        foreach (var key in new[] { "td_loss", "q_mean", "grad_norm" })
            Assert.Equal(tensorMetrics[key], hostMetrics[key], 4);
    }

    private static Dictionary<string, float[]> InitialWeights(ExperimentOptions options)
    {
        using var env = AgentFactory.MakeEnv(options, options.Env.NumEnvs);
        using var agent = AgentFactory.CreateAgent(options, env);
        using var dqn = (Dqn)AgentFactory.CreateAlgorithm(options, options.Schedule[0], 0, agent, env);
        return dqn.Policy.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());
    }

    [Fact]
    public void AQNetworkOnTwoModalitiesOrWithDemonstrationsKeepsTheTensorPath()
    {
        // DQfD's margin term is not computed on the host: the step must go through the loss pipeline.
        using var scope = NewDisposeScope();
        var options = PhaseTestKit.Options(PolicyArchitecture.Mlp, new PhaseOptions
        {
            Kind = AlgorithmKind.Dqn, Steps = 256,
            Dqn = new DqnOptions { LearningStarts = 32, TrainFrequency = 32, GradientSteps = 2, BatchSize = 16, BufferSize = 500, Demonstrations = new DqfdOptions { ExpertEpisodes = 4 } },
        });
        using var env = AgentFactory.MakeEnv(options, 4);
        using var agent = AgentFactory.CreateAgent(options, env);
        using var dqn = (Dqn)AgentFactory.CreateAlgorithm(options, options.Schedule[0], 0, agent, env);
        for (int i = 0; i < 3; i++) dqn.Iterate(256);
        Assert.True(dqn.OptimizerSteps > 0);
        Assert.Equal(0, dqn.HostSteps);
    }
}
