using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Losses;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Policies;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Agents.Tests.Algorithms;

/// <summary>
/// PPO's host training step (issue 16): a discrete actor-critic of separate small MLPs trains through <c>HostMlp</c>'s
/// forward and backward and a hand-derived PPO loss instead of libtorch calls; the weights it reaches equal the tensor
/// path's to float rounding, with and without value clipping, an entropy bonus, minibatches or one full batch, and the
/// host path is the one the shipped CartPole configs take.
/// </summary>
public sealed class PpoHostTrainingTests
{
    private static ExperimentOptions CartPole(int minibatches, bool clipValue, double entropy, Activation activation, bool shared = false, int envs = 4) => new()
    {
        Name = "ppo-host",
        Seed = 7,
        Env = new EnvironmentOptions { Id = "CartPole-v1", NumEnvs = envs },
        Policy = new PolicyOptions { HiddenSizes = [64, 32], Activation = activation, ShareStateEstimator = shared },
        Algorithm = new AlgorithmOptions
        {
            Kind = AlgorithmKind.Ppo,
            Ppo = new PpoOptions
            {
                RolloutSteps = 32, Epochs = 2, Minibatches = minibatches, ClipValueLoss = clipValue, EntropyCoefficient = entropy,
                LearningRate = 3e-3, AnnealClipRange = true, ClipRange = 0.2, MaxGradNorm = 0.5,
            },
        },
    };

    /// <summary>Runs 3 iterations and returns the weights, the last iteration's metrics and the host minibatches.</summary>
    private static (Dictionary<string, float[]> Weights, IReadOnlyDictionary<string, double> Metrics, long HostSteps) Train(ExperimentOptions options, bool host)
    {
        using var env = AgentFactory.MakeEnv(options, options.Env.NumEnvs);
        using var agent = AgentFactory.CreateAgent(options, env);
        using var ppo = (OnPolicyAlgorithm)AgentFactory.CreateAlgorithm(options, options.Schedule[0], 0, agent, env);
        ppo.HostTraining = host;
        IReadOnlyDictionary<string, double> metrics = new Dictionary<string, double>();
        for (int i = 0; i < 3; i++) metrics = ppo.Iterate(totalSteps: 2000);
        var weights = ppo.Policy.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());
        return (weights, metrics, ppo.HostSteps);
    }

    [Theory]
    [InlineData(4, true, 0.01, Activation.Tanh)]
    [InlineData(1, false, 0.0, Activation.Relu)]
    [InlineData(2, true, 0.05, Activation.Relu)]
    public void TheHostStepReachesTheTensorStepsWeights(int minibatches, bool clipValue, double entropy, Activation activation)
    {
        using var scope = NewDisposeScope();
        var options = CartPole(minibatches, clipValue, entropy, activation);
        var (hostWeights, hostMetrics, hostSteps) = Train(options, host: true);
        var (tensorWeights, tensorMetrics, tensorSteps) = Train(options, host: false);
        Assert.Equal(0, tensorSteps);
        Assert.Equal(3 * 2 * minibatches, hostSteps);
        // As for DQN's host step: Adam moves every element by ≈ lr whatever its gradient's size, so float rounding (a
        // different summation order, the host tanh) moves elements whose gradient is near zero by part of a step
        // differently. 6 to 24 steps of lr 3e-3 agree to 2% of one step.
        double worst = 0;
        foreach (var (name, expected) in tensorWeights)
        {
            var actual = hostWeights[name];
            for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
        }
        double lr = options.Algorithm!.Ppo!.LearningRate;
        Assert.True(worst <= 0.02 * lr, $"the host and tensor weights differ by up to {worst}");
        // The comparison means something only if training moved the weights away from their initial values.
        var initial = InitialWeights(options);
        double moved = 0;
        foreach (var (name, w) in tensorWeights) moved += w.Zip(initial[name], (a, b) => Math.Abs(a - b)).Max();
        Assert.True(moved > 1e-2, $"training moved the weights by only {moved}");
        Assert.Equal(tensorMetrics.Keys.Order(), hostMetrics.Keys.Order());
        foreach (var key in new[] { "policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction", "grad_norm" })
            Assert.True(Math.Abs(tensorMetrics[key] - hostMetrics[key]) <= 1e-4 * Math.Max(1, Math.Abs(tensorMetrics[key])),
                $"{key}: host {hostMetrics[key]}, tensor {tensorMetrics[key]}");
    }

    private static Dictionary<string, float[]> InitialWeights(ExperimentOptions options)
    {
        using var env = AgentFactory.MakeEnv(options, options.Env.NumEnvs);
        using var agent = AgentFactory.CreateAgent(options, env);
        return agent.Policy.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());
    }

    [Fact]
    public void ASharedStateEstimatorOrAnExtraLossTermKeepsTheTensorPath()
    {
        using var scope = NewDisposeScope();
        var shared = CartPole(2, true, 0.01, Activation.Tanh, shared: true);
        Assert.Equal(0, Train(shared, host: true).HostSteps);
        // A KL anchor (or any term the host step does not compute) sends every minibatch through the loss pipeline.
        var options = CartPole(2, true, 0.01, Activation.Tanh);
        using var env = AgentFactory.MakeEnv(options, options.Env.NumEnvs);
        using var agent = AgentFactory.CreateAgent(options, env);
        var (settings, loss) = Ppo.Configure(options.Algorithm!.Ppo!, [(new PolicyGradientLoss(), 0.1)]);
        using var ppo = new OnPolicyAlgorithm((ActorCriticPolicy)agent.Policy, env, settings, loss, new Rng(1), new Rng(2), 3);
        ppo.Iterate(2000);
        Assert.True(ppo.OptimizerSteps > 0);
        Assert.Equal(0, ppo.HostSteps);
    }

    [Fact]
    public void TwoThreadsTrainActorAndCriticToTheBitsOfOne()
    {
        using var scope = NewDisposeScope();
        // 16 envs × 32 steps, one minibatch of 512 rows: 1.2M multiply-adds per network, past HostMlp.ParallelMultiplyAdds
        // (2^18), so with two libtorch threads actor and critic run their forwards and backwards on two threads.
        var options = CartPole(1, true, 0.01, Activation.Tanh, envs: 16);
        int threads = torch.get_num_threads();
        try
        {
            torch.set_num_threads(1);
            var one = Train(options, host: true);
            torch.set_num_threads(2);
            var two = Train(options, host: true);
            Assert.Equal(one.HostSteps, two.HostSteps);
            foreach (var (name, w) in one.Weights) Assert.Equal(w, two.Weights[name]);
            Assert.Equal(one.Metrics, two.Metrics);
        }
        finally
        {
            torch.set_num_threads(threads);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void HostIterationsKeepTheLiveTensorCountFlat(int threads)
    {
        var options = CartPole(2, true, 0.01, Activation.Tanh, envs: 16);
        int before = torch.get_num_threads();
        try
        {
            torch.set_num_threads(threads);
            using var env = AgentFactory.MakeEnv(options, options.Env.NumEnvs);
            using var agent = AgentFactory.CreateAgent(options, env);
            using var ppo = (OnPolicyAlgorithm)AgentFactory.CreateAlgorithm(options, options.Schedule[0], 0, agent, env);
            for (int i = 0; i < 3; i++) ppo.Iterate(10_000);
            long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            for (int i = 0; i < 5; i++) ppo.Iterate(10_000);
            Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            Assert.Equal(8 * 2 * 2, ppo.HostSteps);
        }
        finally
        {
            torch.set_num_threads(before);
        }
    }

    [Theory]
    [InlineData("cartpole-ppo.json", "training.threads=1")]
    [InlineData("cartpole-ppo-large.json", "env.numEnvs=64")] // 64 of its 1,024 envs: the same networks and loss, a smaller rollout
    public void TheShippedCartPoleConfigsTrainOnTheHost(string config, string smaller)
    {
        using var scope = NewDisposeScope();
        var options = TestPaths.Load(config, smaller);
        using var env = AgentFactory.MakeEnv(options, options.Env.NumEnvs);
        using var agent = AgentFactory.CreateAgent(options, env);
        using var ppo = (OnPolicyAlgorithm)AgentFactory.CreateAlgorithm(options, options.Schedule[0], 0, agent, env);
        ppo.Iterate(100_000);
        Assert.True(ppo.HostSteps > 0);
        Assert.Equal(ppo.OptimizerSteps, ppo.HostSteps);
    }
}
