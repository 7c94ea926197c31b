using System.Text.Json;

namespace RLAgents.Experiments.Tests.Cli;

/// <summary><c>rlagents run</c> on a schedule (SFT then PPO), then <c>run --resume</c> of the finished run, Ctrl+C and <c>eval</c>.</summary>
public class ScheduleRunVerbTests
{
    internal const string Tiny = """
        {
          // SFT on 2 bot demonstrations, then 32 PPO steps, on the MLP baseline.
          "name": "tiny-phased",
          "seed": 3,
          "env": { "id": "BabyAI-GoToRedBallGrey-v0", "numEnvs": 2, "options": { "includeDescription": false } },
          "policy": { "architecture": "mlp", "hiddenSizes": [16] },
          "phases": [
            { "kind": "sft", "sft": { "expertEpisodes": 2, "updates": 3, "batchSize": 8 } },
            { "kind": "ppo", "steps": 32, "ppo": { "rolloutSteps": 8, "minibatches": 2, "epochs": 1 } }
          ],
          "training": { "evalEpisodes": 2 }
        }
        """;

    [Fact]
    public void APhasedExperimentRunsAndResumesThroughTheRunVerb()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path, output = Path.Combine(dir, "runs"), file = Path.Combine(dir, "tiny.json");
        File.WriteAllText(file, Tiny);
        var run = CliRunner.Run("run", file, "--output", output);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("2 phases", run.Out);
        Assert.Contains("phase 1 ppo-1:", run.Out);
        string runDir = Assert.Single(Directory.GetDirectories(output));
        var kinds = File.ReadAllLines(Path.Combine(runDir, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("kind").GetString()).Distinct();
        Assert.Equal(["sft", "ppo"], kinds);

        // Resuming a finished run says so and runs nothing (no bogus steps/s).
        var resumed = CliRunner.Run("run", "--resume", runDir);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains("already finished: 32 env steps", resumed.Out);
        Assert.DoesNotContain("steps/s", resumed.Out);

        var eval = CliRunner.Run("eval", runDir, "--episodes", "3", "--sample");
        Assert.True(eval.ExitCode == 0, eval.Error);
        Assert.Contains("sampled actions", eval.Out);
        Assert.Matches(@"success [01]\.\d{3}", eval.Out);
    }

    [Fact]
    public void CtrlCStopsAtABoundaryWithACheckpointExitCode130AndTheResumeCommand()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path, output = Path.Combine(dir, "runs"), file = Path.Combine(dir, "tiny.json");
        File.WriteAllText(file, Tiny);
        using var ctrlC = new CancellationTokenSource();
        ctrlC.Cancel();
        // Requested before anything ran: the SFT phase still completes (it is never cut short), then the run stops.
        var run = CliRunner.Run(ctrlC.Token, "run", file, "--output", output);
        Assert.True(run.ExitCode == 130, run.Out + run.Error);
        string runDir = Assert.Single(Directory.GetDirectories(output));
        Assert.Contains("stopped:", run.Out);
        Assert.Contains("phase 0 sft-0:", run.Out);
        Assert.Contains($"continue with: rlagents run --resume {runDir}", run.Out);
        Assert.DoesNotContain("phase 1 ppo-1:", run.Out);
        Assert.True(File.Exists(Path.Combine(runDir, "checkpoints", "phase-000-step-0000000000.json")));

        var resumed = CliRunner.Run("run", "--resume", runDir);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains("phase 1 ppo-1:", resumed.Out);
        Assert.Contains("done:", resumed.Out);
    }
}
