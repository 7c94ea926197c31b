using System.Text.Json;
using System.Text.Json.Nodes;
using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Evaluation;
using RLAgents.Agents.Training;
using RLAgents.Environments.Configuration;

namespace RLAgents.Agents.Tests.Training;

/// <summary>The training runner end to end on tiny budgets: files, determinism, resume, evaluation.</summary>
public class RunnerTests
{
    /// <summary>cartpole-ppo.json on a 1,024-step budget (also the source run of <see cref="InitFromTests"/>).</summary>
    internal static readonly string[] TinyPpo =
    [
        "env.numEnvs=4", "algorithm.ppo.rolloutSteps=16", "algorithm.ppo.epochs=2", "algorithm.ppo.minibatches=2",
        "training.totalSteps=1024", "training.logInterval=128", "training.evalInterval=512", "training.evalEpisodes=2",
        "training.checkpointInterval=512",
    ];

    private static readonly string[] TinyDqn =
    [
        "algorithm.dqn.learningStarts=64", "algorithm.dqn.trainFrequency=32", "algorithm.dqn.gradientSteps=4",
        "algorithm.dqn.bufferSize=500", "algorithm.dqn.nStep=3", "training.totalSteps=480", "training.logInterval=64",
        "training.evalInterval=240", "training.evalEpisodes=2", "training.checkpointInterval=0",
    ];

    /// <summary>metrics.jsonl rows without their wall-clock fields.</summary>
    private static List<string> Rows(string runDir) => File.ReadLines(Path.Combine(runDir, TrainingRunner.MetricsFile))
        .Select(line => { var o = JsonNode.Parse(line)!.AsObject(); o.Remove("wall"); return o.ToJsonString(); }).ToList();

    [Theory]
    [InlineData("cartpole-ppo.json", false)]
    [InlineData("cartpole-dqn.json", true)]
    public void SameConfigAndSeedGiveIdenticalMetrics(string config, bool dqn)
    {
        using var dir = new TempDirectory();
        var tiny = dqn ? TinyDqn : TinyPpo;
        var a = TrainingRunner.Run(TestPaths.Load(config, tiny), dir.Combine("a"));
        var b = TrainingRunner.Run(TestPaths.Load(config, tiny), dir.Combine("b"));
        var c = TrainingRunner.Run(TestPaths.Load(config, [.. tiny, "seed=2"]), dir.Combine("c"));
        var rowsA = Rows(a.RunDirectory);
        Assert.True(rowsA.Count >= 4);
        var rowsB = Rows(b.RunDirectory);
        Assert.Equal(rowsA.Count, rowsB.Count);
        for (int i = 0; i < rowsA.Count; i++) Assert.True(rowsA[i] == rowsB[i], $"metrics row {i} differs:\n{rowsA[i]}\n{rowsB[i]}");
        Assert.NotEqual(rowsA, Rows(c.RunDirectory));
        Assert.Contains(dqn ? "\"td_loss\"" : "\"policy_loss\"", rowsA[^1]);
        Assert.Contains("\"eval_return_mean\"", rowsA[^1]);
        Assert.True(File.ReadLines(Path.Combine(a.RunDirectory, TrainingRunner.MetricsFile)).All(l => l.Contains("\"sps\"")));
    }

    [Fact]
    public void DqnAnnealsItsLearningRateToZeroOverThePhaseWhenAsked()
    {
        using var dir = new TempDirectory();
        static double[] Rates(string runDir) => File.ReadLines(Path.Combine(runDir, TrainingRunner.MetricsFile))
            .Select(l => JsonNode.Parse(l)!["learning_rate"]).Where(v => v is not null).Select(v => (double)v!).ToArray();
        var constant = Rates(TrainingRunner.Run(TestPaths.Load("cartpole-dqn.json", TinyDqn), dir.Combine("a")).RunDirectory);
        var annealed = Rates(TrainingRunner.Run(TestPaths.Load("cartpole-dqn.json", [.. TinyDqn, "algorithm.dqn.annealLearningRate=true"]), dir.Combine("b")).RunDirectory);
        Assert.True(constant.Length >= 3);
        Assert.All(constant, r => Assert.Equal(7e-4, r, 12));
        Assert.Equal(constant.Length, annealed.Length);
        for (int i = 1; i < annealed.Length; i++) Assert.True(annealed[i] < annealed[i - 1], $"row {i}: {annealed[i]} after {annealed[i - 1]}");
        Assert.InRange(annealed[^1], 0, 7e-4 * 0.2); // the last round of 480 steps runs at progress ≥ 0.8
    }

    [Fact]
    public void RunDirectoryHoldsResolvedConfigRunInfoAndCheckpoints()
    {
        using var dir = new TempDirectory();
        var result = TrainingRunner.Run(TestPaths.Load("cartpole-ppo.json", TinyPpo), dir.Combine("run"));
        Assert.Equal(1024, result.EnvSteps);
        var config = TrainingRunner.LoadRunConfig(result.RunDirectory);
        Assert.Equal(16, config.Algorithm!.Ppo.RolloutSteps);
        using var run = JsonDocument.Parse(File.ReadAllText(Path.Combine(result.RunDirectory, "run.json")));
        Assert.Equal(1, run.RootElement.GetProperty("seed").GetInt64());
        Assert.True(run.RootElement.GetProperty("versions").TryGetProperty("torchsharp", out _));
        Assert.True(run.RootElement.GetProperty("reproducibleMath").GetBoolean(), "MKL is not in its reproducible mode");
        Assert.Equal(2, run.RootElement.GetProperty("format").GetInt32());
        Assert.True(run.RootElement.GetProperty("machine").GetProperty("cores").GetInt32() >= 1);
        Assert.True(File.Exists(Path.Combine(result.RunDirectory, "checkpoints", "phase-000-step-0000000512.safetensors")));
        Assert.EndsWith("phase-000-step-0000001024.safetensors", result.FinalCheckpoint);
        Assert.Empty(Directory.GetFiles(Path.Combine(result.RunDirectory, "checkpoints"), "*.tmp-*"));
        var again = Assert.Throws<InvalidOperationException>(() => TrainingRunner.Run(TestPaths.Load("cartpole-ppo.json", TinyPpo), dir.Combine("run")));
        Assert.Contains("already holds a run", again.Message);
    }

    [Fact]
    public void ResumeContinuesStepCountOptimiserAndGeneratorStates()
    {
        using var dir = new TempDirectory();
        string[] cfg = [.. TinyPpo, "training.checkpointInterval=256", "training.evalInterval=0"];
        var full = TrainingRunner.Run(TestPaths.Load("cartpole-ppo.json", cfg), dir.Combine("full"));

        // Interrupted at 512 steps (a cancellation writes a checkpoint), then resumed to the end.
        using var cancel = new CancellationTokenSource();
        var part = TrainingRunner.Run(TestPaths.Load("cartpole-ppo.json", cfg), dir.Combine("part"), progress: p => { if (p.EnvSteps >= 512) cancel.Cancel(); }, cancellation: cancel.Token);
        Assert.Equal(512, part.EnvSteps);
        Assert.True(part.Interrupted);
        var interrupted = Checkpoint.Load(part.FinalCheckpoint!);
        var stopped = interrupted.State.Algorithm!;
        interrupted.DisposeTensors();
        var rowsBefore = Rows(part.RunDirectory);
        var resumed = TrainingRunner.Run(TrainingRunner.LoadRunConfig(part.RunDirectory), part.RunDirectory, resume: true);
        Assert.Equal(1024, resumed.EnvSteps);
        Assert.Equal(512, resumed.ProcessEnvSteps);

        var a = Checkpoint.Load(full.FinalCheckpoint!);
        var b = Checkpoint.Load(resumed.FinalCheckpoint!);
        // The same run state as the uninterrupted run: steps, updates, and the final weights' layout.
        Assert.Equal(a.State.Runner.Updates, b.State.Runner.Updates);
        Assert.Equal(a.Tensors.Keys.Order(), b.Tensors.Keys.Order());
        a.DisposeTensors();
        b.DisposeTensors();
        // The interruption's mid-phase checkpoint: 8 iterations of 2 epochs × 2 minibatches.
        Assert.Equal(512, stopped.Steps);
        Assert.Equal(8 * 2 * 2, stopped.OptimizerSteps);
        // After the resume, the next mid-phase checkpoint matches the uninterrupted run's: same optimiser step count and the same generator streams.
        string at768 = Path.Combine("checkpoints", "phase-000-step-0000000768.safetensors");
        var c = Checkpoint.Load(Path.Combine(full.RunDirectory, at768));
        var d = Checkpoint.Load(Path.Combine(resumed.RunDirectory, at768));
        Assert.Equal(c.State.Algorithm!.OptimizerSteps, d.State.Algorithm!.OptimizerSteps);
        Assert.Equal(c.State.Algorithm.Iterations, d.State.Algorithm.Iterations);
        Assert.Equal(c.State.Algorithm.LearnerRng, d.State.Algorithm.LearnerRng);
        Assert.Equal(c.State.Algorithm.CollectorRng, d.State.Algorithm.CollectorRng);
        Assert.Equal(c.State.Algorithm.LearningRate, d.State.Algorithm.LearningRate, 12);
        c.DisposeTensors();
        d.DisposeTensors();
        // The rows written before the interruption are kept; the rest continue the step count.
        var rowsAfter = Rows(resumed.RunDirectory);
        Assert.Equal(rowsBefore, rowsAfter.Take(rowsBefore.Count));
        var steps = rowsAfter.Select(r => JsonNode.Parse(r)!["step"]!.GetValue<long>()).ToList();
        Assert.Equal(steps.Order(), steps);
        Assert.Equal(1024, steps[^1]);
        // Before the interruption both runs are identical.
        Assert.Equal(Rows(full.RunDirectory).Take(rowsBefore.Count - 1), rowsBefore.Take(rowsBefore.Count - 1));
    }

    [Fact]
    public void EvaluatorLoadsACheckpointAndReportsStatistics()
    {
        using var dir = new TempDirectory();
        var result = TrainingRunner.Run(TestPaths.Load("cartpole-ppo.json", TinyPpo), dir.Combine("run"));
        var report = Evaluator.Evaluate(result.RunDirectory, episodes: 6, seed: 3);
        Assert.Equal(6, report.Outcomes.Returns.Length);
        Assert.Equal(1024, report.Step);
        Assert.Equal(report.Outcomes.Returns.Average(), report.Summary.Mean.Value, 9);
        Assert.True(report.Summary.Mean.Lower <= report.Summary.Mean.Value && report.Summary.Mean.Value <= report.Summary.Mean.Upper);
        Assert.All(report.Outcomes.Lengths, l => Assert.InRange(l, 1, 500));
        Assert.Null(report.SuccessRate); // CartPole does not report success
        var again = Evaluator.Evaluate(result.FinalCheckpoint!, episodes: 6, seed: 3);
        Assert.Equal(report.Outcomes.Returns, again.Outcomes.Returns);
    }

    [Theory]
    [InlineData("cartpole-a2c.json", AlgorithmKind.A2c)]
    [InlineData("cartpole-reinforce.json", AlgorithmKind.Reinforce)]
    public void EveryConfigTrainsABriefRun(string config, AlgorithmKind kind)
    {
        using var dir = new TempDirectory();
        var options = TestPaths.Load(config, "training.totalSteps=4000", "training.evalInterval=0", "training.evalEpisodes=2", "training.checkpointInterval=0");
        Assert.Equal(kind, options.Algorithm!.Kind);
        var result = TrainingRunner.Run(options, dir.Combine("run"));
        Assert.True(result.EnvSteps >= 4000);
        var last = JsonNode.Parse(File.ReadLines(Path.Combine(result.RunDirectory, TrainingRunner.MetricsFile)).Last())!;
        Assert.True(double.IsFinite(last["policy_loss"]!.GetValue<double>()));
        Assert.True(double.IsFinite(last["value_loss"]!.GetValue<double>()));
    }

    [Fact]
    public void ConfigsBindStrictlyAndErrorsNameTheKey()
    {
        Assert.Equal(AlgorithmKind.Ppo, TestPaths.Load("cartpole-ppo.json").Algorithm!.Kind);
        Assert.Equal(AlgorithmKind.Dqn, TestPaths.Load("cartpole-dqn.json").Algorithm!.Kind);
        var unknown = Assert.Throws<ConfigurationException>(() => TestPaths.Load("cartpole-ppo.json", "algorithm.ppo.learningRat=0.1"));
        Assert.Contains("algorithm.ppo.learningRat", unknown.Message);
        var range = Assert.Throws<ConfigurationException>(() => TestPaths.Load("cartpole-ppo.json", "algorithm.ppo.gamma=1.5"));
        Assert.Contains("algorithm.ppo.gamma", range.Message);
        var code = new ExperimentOptions();
        code.Training.Threads = 0;
        var invalid = Assert.Throws<ConfigurationException>(() => code.Validate());
        Assert.Contains("training.threads", invalid.Message);
        var envOptions = TestPaths.Load("cartpole-ppo.json", "env.options={\"gravity\": 1}");
        using var dir = new TempDirectory();
        var bad = Assert.Throws<ConfigurationException>(() => TrainingRunner.Run(envOptions, dir.Combine("run")));
        Assert.Contains("env.options.gravity", bad.Message);
    }
}
