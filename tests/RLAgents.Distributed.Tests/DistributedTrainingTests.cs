using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Phases;
using RLAgents.Agents.Training;
using RLAgents.Policies;

namespace RLAgents.Distributed.Tests;

/// <summary>
/// Whole distributed runs in one process: the learner silo and rollout-worker hosts (Orleans clients) on loopback,
/// the runner fed by the learner. Each test uses its own ports so test classes may run side by side, all below
/// Linux's ephemeral range (32768–60999) so an earlier test's outgoing connection can never hold one.
/// </summary>
public class DistributedTrainingTests
{
    internal static ExperimentOptions CartPole(AlgorithmKind kind, int port, int workers = 2, int numEnvs = 4, long steps = 640) => new()
    {
        Name = $"cartpole-{kind.ToString().ToLowerInvariant()}-distributed",
        Seed = 3,
        Env = new EnvironmentOptions { Id = "CartPole-v1", NumEnvs = numEnvs },
        Policy = new PolicyOptions { HiddenSizes = [32, 32] },
        Algorithm = new AlgorithmOptions
        {
            Kind = kind,
            Ppo = new PpoOptions { RolloutSteps = 16, Epochs = 2, Minibatches = 2 },
            A2c = new A2cOptions { RolloutSteps = 8 },
            Reinforce = new ReinforceOptions { RolloutSteps = 32 },
            Dqn = new DqnOptions { BufferSize = 2000, LearningStarts = 64, BatchSize = 16, TrainFrequency = 8, GradientSteps = 1, TargetUpdateInterval = 64 },
        },
        Training = new TrainingOptions { TotalSteps = steps, EvalInterval = 0, EvalEpisodes = 2, CheckpointInterval = steps / 2, LogInterval = 64 },
        Distributed = new DistributedOptions { Workers = workers, SiloPort = port, GatewayPort = port + 1, WorkerTimeoutSeconds = 3 },
    };

    /// <summary>A rollout worker host in this process, as <c>rlagents worker</c> builds it.</summary>
    internal static IHost StartWorker(DistributedOptions d, int? id = null, string? configJson = null, TextWriter? log = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(new WorkerSettings { Learner = $"{d.Host}:{d.GatewayPort}", WorkerId = id, ConfigJson = configJson, Log = log ?? TextWriter.Null });
        builder.Services.AddSingleton<RolloutWorkerService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RolloutWorkerService>());
        var host = builder.Build();
        host.Start();
        return host;
    }

    private static (RunResult Result, LearnerCounters Counters, List<IHost> Workers) Train(ExperimentOptions options, string dir, int workers)
    {
        var hosts = new List<IHost>();
        Learner? learner = null;
        var result = DistributedTraining.Run(options, dir, resume: false, progress: null, CancellationToken.None, workers: null, started: l =>
        {
            learner = l;
            for (int k = 0; k < workers; k++) hosts.Add(StartWorker(options.Distributed!, k));
        });
        return (result, learner!.Counters, hosts);
    }

    private static async Task ExitAll(List<IHost> workers)
    {
        // Told the run is over, every worker stops its host by itself.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        foreach (var w in workers)
        {
            await w.WaitForShutdownAsync(timeout.Token);
            w.Dispose();
        }
    }

    private static void AssertExactAccounting(RunResult result, LearnerCounters c, long budget, int leftInQueue = 0)
    {
        Assert.Equal(budget, result.EnvSteps);
        Assert.Equal(result.EnvSteps, c.ConsumedSteps);
        Assert.Equal(c.Consumed.Count, c.Consumed.Distinct().Count());
        // Accepted batches are all learned from, but for those still queued when the run ended (DQN).
        Assert.InRange(c.Accepted - c.Consumed.Count, 0, leftInQueue);
    }

    [Fact]
    public async Task PpoLearnsFromTwoWorkersWithExactEnvStepAccountingAndTheLocalRunDirectory()
    {
        using var temp = new TempDirectory();
        string dir = temp.Combine("run");
        var options = CartPole(AlgorithmKind.Ppo, 21100);
        var (result, counters, workers) = Train(options, dir, 2);
        await ExitAll(workers);
        AssertExactAccounting(result, counters, 640);
        // Every round is 2 shards of 2 envs × 16 steps; both workers delivered.
        Assert.Equal(10 * 2, counters.Consumed.Count);
        Assert.Equal(2, counters.Consumed.Select(b => b.Worker).Distinct().Count());
        Assert.True(result.Phases.Single().Evaluation is not null);
        Assert.True(File.Exists(Path.Combine(dir, TrainingRunner.ConfigFile)));
        Assert.True(File.Exists(Path.Combine(dir, DistributedTraining.AccountingFile)));
        var rows = File.ReadAllLines(Path.Combine(dir, TrainingRunner.MetricsFile)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(640, rows[^1].GetProperty("step").GetInt64());
        // 10 updates × 2 epochs × 2 minibatches.
        Assert.Equal(40, rows[^1].GetProperty("update").GetInt64());
        Assert.Contains(rows, r => r.TryGetProperty("episode_return_mean", out _));
        Assert.True(Checkpoint.Exists(dir));
    }

    [Fact]
    public async Task DqnLearnsFromWorkersWithReplayAtTheLearner()
    {
        using var temp = new TempDirectory();
        string dir = temp.Combine("run");
        var options = CartPole(AlgorithmKind.Dqn, 21200, workers: 2, numEnvs: 2, steps: 240);
        var (result, counters, workers) = Train(options, dir, 2);
        await ExitAll(workers);
        AssertExactAccounting(result, counters, 240, leftInQueue: options.Distributed!.QueueCapacity);
        // One transition batch (trainFrequency 8 env steps of a 1-env shard) per iteration.
        Assert.Equal(30, counters.Consumed.Count);
        var rows = File.ReadAllLines(Path.Combine(dir, TrainingRunner.MetricsFile)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.True(rows[^1].GetProperty("update").GetInt64() > 0);
        Assert.Contains(rows, r => r.TryGetProperty("replay_size", out var size) && size.GetDouble() > 150);
    }

    [Theory]
    [InlineData(AlgorithmKind.A2c, "Pendulum-v1", 21300)]
    [InlineData(AlgorithmKind.Reinforce, "CartPole-v1", 21400)]
    public async Task OtherOnPolicyAlgorithmsRunDistributedWithIntegerOrFloatActions(AlgorithmKind kind, string env, int port)
    {
        using var temp = new TempDirectory();
        string dir = temp.Combine("run");
        var options = CartPole(kind, port, steps: 512);
        // Pendulum's Box action: a Gaussian policy, so the rollout batches carry float actions.
        options.Env.Id = env;
        var (result, counters, workers) = Train(options, dir, 2);
        await ExitAll(workers);
        AssertExactAccounting(result, counters, 512);
        Assert.True(result.Phases.Single().Evaluation is not null);
        var rows = File.ReadAllLines(Path.Combine(dir, TrainingRunner.MetricsFile)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.True(rows[^1].GetProperty("update").GetInt64() > 0);
    }

    [Fact]
    public async Task ARecurrentPolicyTrainsFromWorkersThatKeepEachEnvsMemoryAcrossBatches()
    {
        using var temp = new TempDirectory();
        string dir = temp.Combine("run");
        var options = CartPole(AlgorithmKind.Ppo, 22100, steps: 640);
        options.Policy.Recurrent = true;
        options.Policy.ShareStateEstimator = true;
        options.Validate();
        var (result, counters, workers) = Train(options, dir, 2);
        await ExitAll(workers);
        AssertExactAccounting(result, counters, 640);
        Assert.Equal(2, counters.Consumed.Select(b => b.Worker).Distinct().Count());
        var rows = File.ReadAllLines(Path.Combine(dir, TrainingRunner.MetricsFile)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(40, rows[^1].GetProperty("update").GetInt64());
        Assert.True(result.Phases.Single().Evaluation is not null);
    }

    private static T Tiny<T>(T options) where T : ContinuousControlOptions
    {
        options.LearningStarts = 48;
        options.BatchSize = 32;
        options.TrainFrequency = 8;
        options.BufferSize = 1000;
        return options;
    }

    [Fact]
    public async Task SacAndTd3LearnFromWorkersTransitionsWithFloatActions()
    {
        using var temp = new TempDirectory();
        string dir = temp.Combine("run");
        var options = new ExperimentOptions
        {
            Name = "pendulum-sac-td3-distributed",
            Seed = 7,
            Env = new EnvironmentOptions { Id = "Pendulum-v1", NumEnvs = 2 },
            Policy = new PolicyOptions { HiddenSizes = [32, 32] },
            Phases =
            [
                new PhaseOptions
                {
                    Name = "sac", Kind = AlgorithmKind.Sac, Steps = 192,
                    Sac = Tiny(new SacOptions()),
                },
                new PhaseOptions
                {
                    Name = "td3", Kind = AlgorithmKind.Td3, Steps = 192,
                    Td3 = Tiny(new Td3Options()),
                },
            ],
            Training = new TrainingOptions { EvalInterval = 0, EvalEpisodes = 1, CheckpointInterval = 0, LogInterval = 64 },
            Distributed = new DistributedOptions { Workers = 2, SiloPort = 21900, GatewayPort = 21901, WorkerTimeoutSeconds = 3 },
        };
        var (result, counters, workers) = Train(options, dir, 2);
        await ExitAll(workers);
        Assert.Equal([192L, 192L], result.Phases.Select(p => p.EnvSteps));
        Assert.Equal(384, counters.ConsumedSteps);
        Assert.Equal(counters.Consumed.Count, counters.Consumed.Distinct().Count());
        // One batch per iteration: trainFrequency 8 env steps of a 1-env shard.
        Assert.Equal(384 / 8, counters.Consumed.Count);
        var rows = File.ReadAllLines(Path.Combine(dir, TrainingRunner.MetricsFile)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        // Both phases made gradient steps from the workers' transitions after their random warm-up.
        foreach (string phase in new[] { "sac", "td3" })
        {
            var last = rows.Last(r => r.TryGetProperty("phase", out var p) && p.GetString() == phase && r.TryGetProperty("replay_size", out _));
            // The row's mean over its iterations: the phase's own replay, grown to 192 by its end.
            Assert.InRange(last.GetProperty("replay_size").GetDouble(), 100, 192);
            Assert.True(last.TryGetProperty("critic_loss", out var loss) && double.IsFinite(loss.GetDouble()), last.ToString());
        }
    }

    [Fact]
    public async Task AWorkersEnvFaultStopsTheRunNamingTheEnvAndTheWorker()
    {
        using var temp = new TempDirectory();
        string dir = temp.Combine("run");
        var options = CartPole(AlgorithmKind.Ppo, 22000, steps: 6400);
        options.Env = new EnvironmentOptions
        {
            Id = "Faulty-v0", NumEnvs = 4,
            Plugin = Path.Combine(AppContext.BaseDirectory, "RLAgents.TestPlugin.dll") + ":RLAgents.TestPlugin.Faulty",
            Options = JsonDocument.Parse("""{"fault":"nanReward","after":40}""").RootElement,
        };
        var hosts = new List<IHost>();
        // training.checkEnvSteps (on by default) applies where the envs run: the worker's check stops the learner's run.
        var fault = Assert.Throws<TrainingFaultException>(() => DistributedTraining.Run(options, dir, resume: false, progress: null, CancellationToken.None, workers: null,
            started: _ => hosts.AddRange(Enumerable.Range(0, 2).Select(k => StartWorker(options.Distributed!, k)))));
        await ExitAll(hosts);
        Assert.DoesNotContain('\n', fault.Message);
        Assert.Contains("Faulty-v0 (env ", fault.Message);
        Assert.Contains("Step returned reward NaN", fault.Message);
        Assert.Matches(@"on worker [01]", fault.Message);
    }

    [Fact]
    public async Task PhasedSftAndPpoScheduleRunsWithTextObservationsFromWorkers()
    {
        using var temp = new TempDirectory();
        string dir = temp.Combine("run");
        var options = new ExperimentOptions
        {
            Name = "gridworld-sft-ppo-distributed",
            Seed = 5,
            Env = new EnvironmentOptions { Id = "BabyAI-GoToRedBallGrey-v0", NumEnvs = 4 },
            Policy = new PolicyOptions { HiddenSizes = [32] },
            Phases =
            [
                new PhaseOptions { Name = "sft", Kind = AlgorithmKind.Sft, Sft = new() { ExpertEpisodes = 8, Updates = 5, BatchSize = 32 } },
                new PhaseOptions { Name = "ppo", Kind = AlgorithmKind.Ppo, Steps = 256, Ppo = new PpoOptions { RolloutSteps = 32, Epochs = 1, Minibatches = 2 } },
            ],
            Repeat = 2,
            Training = new TrainingOptions { EvalInterval = 0, EvalEpisodes = 2, CheckpointInterval = 0, LogInterval = 128, GreedyEvaluation = false },
            Distributed = new DistributedOptions { Workers = 2, SiloPort = 21500, GatewayPort = 21501, WorkerTimeoutSeconds = 3 },
        };
        var (result, counters, workers) = Train(options, dir, 2);
        await ExitAll(workers);
        Assert.Equal(4, result.Phases.Count);
        Assert.Equal([0L, 256L, 0L, 256L], result.Phases.Select(p => p.EnvSteps));
        Assert.Equal(512, counters.ConsumedSteps);
        Assert.Equal(counters.Consumed.Count, counters.Consumed.Distinct().Count());
    }
}
