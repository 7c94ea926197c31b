using System.Text.Json;

namespace RLAgents.Experiments.Tests.Cli;

/// <summary>End-to-end runs of <c>rlagents run</c> / <c>eval</c> on tiny budgets.</summary>
public class RunVerbTests
{
    private static string Config(string name) => Path.Combine(CliRunner.RepoRoot, "experiments", "configs", name);

    private static readonly string[] Tiny =
    [
        "--set", "training.totalSteps=1024", "--set", "training.evalInterval=512", "--set", "training.evalEpisodes=2",
        "--set", "training.checkpointInterval=512", "--set", "training.logInterval=256",
    ];

    [Fact]
    public void APlugInRunOnAShippedBatchedConfigNamesThePlugInAndFallsBackToSync()
    {
        // The README's own example: a shipped config (batched CartPole) with env.plugin set and env.id left as it is.
        using var temp = new TempDirectory();
        string output = temp.Path;
        string plugin = Path.Combine(AppContext.BaseDirectory, "RLAgents.TestPlugin.dll") + ":RLAgents.TestPlugin.Corridor";
        var run = CliRunner.Run(["run", Config("cartpole-dqn.json"), "--output", output, "--set", $"env.plugin={plugin}",
            "--set", "algorithm.dqn.learningStarts=64", "--set", "algorithm.dqn.gradientSteps=2", .. Tiny]);

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("Corridor-v0 (plug-in ", run.Out.Split('\n')[0]);
        Assert.DoesNotContain("CartPole", run.Out);
        Assert.Contains("warning: env.vectorization: Corridor-v0 has no batched implementation; stepping its envs with sync vectorization", run.Error);
        string runDir = Assert.Single(Directory.GetDirectories(output));
        using var info = JsonDocument.Parse(File.ReadAllText(Path.Combine(runDir, "run.json")));
        Assert.Contains("Corridor-v0", info.RootElement.ToString());
        Assert.DoesNotContain("CartPole", info.RootElement.ToString());
    }

    [Fact]
    public void RunTrainsIntoARunDirectoryThatEvalReads()
    {
        using var temp = new TempDirectory();
        string output = temp.Path;
        var run = CliRunner.Run(["run", Config("cartpole-ppo.json"), "--output", output, .. Tiny]);
        Assert.True(run.ExitCode == 0, run.Error);
        string runDir = Assert.Single(Directory.GetDirectories(output));
        Assert.True(File.Exists(Path.Combine(runDir, "config.json")));
        var rows = File.ReadAllLines(Path.Combine(runDir, "metrics.jsonl"));
        Assert.NotEmpty(rows);
        long lastStep = JsonDocument.Parse(rows[^1]).RootElement.GetProperty("step").GetInt64();
        Assert.True(lastStep >= 1024, $"last logged step {lastStep}");
        Assert.Contains("checkpoint:", run.Out);

        string log = Path.Combine(output, "eval.arrows");
        var eval = CliRunner.Run("eval", runDir, "--episodes", "3", "--record", log);
        Assert.True(eval.ExitCode == 0, eval.Error);
        Assert.Contains("3 episodes", eval.Out);
        Assert.Contains("IQM", eval.Out);

        // The recorded evaluation episodes replay exactly and are tagged as evaluation.
        var replay = CliRunner.Run("replay", log, "--verify");
        Assert.True(replay.ExitCode == 0, replay.Out + replay.Error);
        Assert.Contains("3 matched exactly", replay.Out);
        var stats = CliRunner.Run("episodes", "stats", log);
        Assert.Contains("eval", stats.Out);

        // A damaged checkpoint is one line naming the file, exit code 2, no stack trace.
        string weights = Directory.GetFiles(Path.Combine(runDir, "checkpoints"), "*.safetensors").Max()!;
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);
        var damaged = CliRunner.Run("eval", weights);
        Assert.Equal(2, damaged.ExitCode);
        Assert.Contains(Path.GetFileName(weights), Assert.Single(damaged.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.DoesNotContain("   at ", damaged.Error);
    }

    [Theory]
    [InlineData("training.totalStep=5", "error: training.totalStep: unknown key; did you mean 'totalSteps'?")]
    [InlineData("env.numEnvs=0", "error: env.numEnvs: 0 is out of range")]
    [InlineData("seed=\"abc\"", "error: seed: expected a number, got the string")]
    [InlineData("algorithm.kind=sarsa", "error: algorithm.kind: 'sarsa' is not one of")]
    public void ABadConfigPrintsOneLineAndExitsWith2(string assignment, string expectedStart)
    {
        using var temp = new TempDirectory();
        string output = temp.Path;
        var r = CliRunner.Run("run", Config("cartpole-ppo.json"), "--set", assignment, "--output", output);
        Assert.Equal(2, r.ExitCode);
        var lines = r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith(expectedStart, lines[0]);
        Assert.Empty(Directory.GetDirectories(output));
    }

    [Fact]
    public void MissingFilesAreUsageErrors()
    {
        Assert.Equal(2, CliRunner.Run("run", "/nonexistent/experiment.json").ExitCode);
        Assert.Equal(2, CliRunner.Run("run", "--resume", "/nonexistent/run").ExitCode);
        Assert.Equal(2, CliRunner.Run("eval", "/nonexistent/ckpt.safetensors").ExitCode);
    }

    [Theory]
    [InlineData("cartpole-ppo.json")]
    [InlineData("cartpole-dqn.json")]
    [InlineData("cartpole-a2c.json")]
    [InlineData("cartpole-reinforce.json")]
    public void ShippedConfigsBindAndTrainBriefly(string config)
    {
        using var temp = new TempDirectory();
        string output = temp.Path;
        var r = CliRunner.Run(["run", Config(config), "--output", output, .. Tiny]);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("done:", r.Out);
    }

    [Fact]
    public void APlainBabyAiExperimentTrainsAndEvaluates()
    {
        // One RL phase on a GridWorld level with the MLP: text goes through the env's vocabulary (this crashed with exit 134 before).
        using var temp = new TempDirectory();
        string output = temp.Path;
        var run = CliRunner.Run(["run", Config("cartpole-ppo.json"), "--output", output, .. Tiny,
            "--set", "env.id=BabyAI-GoToRedBallGrey-v0", "--set", "env.vectorization=sync", "--set", "env.numEnvs=4"]);
        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        string runDir = Assert.Single(Directory.GetDirectories(output));
        var last = JsonDocument.Parse(File.ReadAllLines(Path.Combine(runDir, "metrics.jsonl"))[^1]).RootElement;
        double success = last.GetProperty("eval_success").GetDouble();
        Assert.InRange(success, 0, 1);
        Assert.Contains(", success ", run.Out);
        var eval = CliRunner.Run("eval", runDir, "--episodes", "4");
        Assert.True(eval.ExitCode == 0, eval.Error);
        Assert.Matches(@"success [01]\.\d{3}", eval.Out);
    }

    [Fact]
    public void EveryKindOfRunWritesOneKeyConventionAndNoStepTwice()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path;
        // A plain CartPole run, a schedule on BabyAI, and LM pretraining.
        var cartpole = CliRunner.Run(["run", Config("cartpole-ppo.json"), "--output", Path.Combine(dir, "cartpole"), .. Tiny]);
        Assert.True(cartpole.ExitCode == 0, cartpole.Error);
        File.WriteAllText(Path.Combine(dir, "schedule.json"), ScheduleRunVerbTests.Tiny);
        var schedule = CliRunner.Run("run", Path.Combine(dir, "schedule.json"), "--output", Path.Combine(dir, "schedule"));
        Assert.True(schedule.ExitCode == 0, schedule.Error);
        File.WriteAllLines(Path.Combine(dir, "corpus.txt"), Enumerable.Range(0, 200).Select(i => $"go to the {(i % 2 == 0 ? "red" : "blue")} ball {i % 7}"));
        File.WriteAllText(Path.Combine(dir, "pretrain.json"), """
            { "model": { "vocabSize": 300, "blockSize": 16, "nLayer": 1, "nHead": 2, "nEmbd": 16 }, "corpusPath": "corpus.txt",
              "batchSize": 4, "steps": 12, "warmupSteps": 1, "evalInterval": 4, "evalBatches": 1, "logInterval": 2, "checkpointInterval": 6, "threads": 1 }
            """);
        var pretrain = CliRunner.Run("pretrain", Path.Combine(dir, "pretrain.json"), "--output", Path.Combine(dir, "lm"));
        Assert.True(pretrain.ExitCode == 0, pretrain.Error);

        foreach (var kind in new[] { "cartpole", "schedule", "lm" })
        {
            string runDir = Assert.Single(Directory.GetDirectories(Path.Combine(dir, kind)));
            foreach (var file in new[] { "config.json", "run.json", "metrics.jsonl" }) Assert.True(File.Exists(Path.Combine(runDir, file)), $"{kind}: no {file}");
            var rows = File.ReadAllLines(Path.Combine(runDir, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.NotEmpty(rows);
            foreach (var row in rows) AssertSnakeCase(row, kind);
            // A row is identified by its step (and, in RL runs, the update count: SFT phases update without stepping envs).
            var ids = rows.Select(r => (r.GetProperty("step").GetInt64(), r.TryGetProperty("update", out var u) ? u.GetInt64() : 0)).ToList();
            Assert.True(ids.Distinct().Count() == ids.Count, $"{kind}: a step is written twice");
            Assert.Equal(ids.Order(), ids);
        }
    }

    private static void AssertSnakeCase(JsonElement element, string kind)
    {
        foreach (var p in element.EnumerateObject())
        {
            Assert.Matches("^[a-z][a-z0-9_]*$", p.Name);
            if (p.Value.ValueKind == JsonValueKind.Object) AssertSnakeCase(p.Value, kind);
        }
    }
}

/// <summary>A training run records its episodes and the log replays exactly.</summary>
public class RecordedRunTests
{
    [Fact]
    public void TrainingEpisodesAreRecordedAndReplayBitExactly()
    {
        using var temp = new TempDirectory();
        string output = temp.Path;
        var run = CliRunner.Run("run", Path.Combine(CliRunner.RepoRoot, "experiments", "configs", "cartpole-ppo.json"), "--output", output,
            "--set", "training.totalSteps=512", "--set", "training.evalInterval=100000", "--set", "training.checkpointInterval=100000",
            "--set", "env.vectorization=sync", "--set", "recording={\"mode\":\"all\",\"observationHashes\":true}");
        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        string log = Path.Combine(Assert.Single(Directory.GetDirectories(output)), RLAgents.Agents.Training.TrainingRunner.EpisodeLogFile);
        Assert.True(File.Exists(log));

        var replay = CliRunner.Run("replay", log, "--verify");
        Assert.True(replay.ExitCode == 0, replay.Out + replay.Error);
        Assert.Matches(@"replayed (\d+) episode\(s\), \1 matched exactly", replay.Out);
        Assert.DoesNotContain("replayed 0 episode", replay.Out);
    }

    [Fact]
    public void RecordingWithABatchedEnvIsAConfigurationError()
    {
        using var temp = new TempDirectory();
        string output = temp.Path;
        var r = CliRunner.Run("run", Path.Combine(CliRunner.RepoRoot, "experiments", "configs", "cartpole-ppo.json"), "--output", output,
            "--set", "env.vectorization=batched", "--set", "recording={}");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: env.vectorization: recording needs sync or threaded", r.Error);
        Assert.Empty(Directory.GetDirectories(output));
    }
}
