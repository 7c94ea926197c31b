using System.Text.RegularExpressions;
using RLAgents.Experiments.Cli;

namespace RLAgents.Experiments.Tests.Cli;

/// <summary>Long work shows progress with an ETA; redirected output (as here and in CI logs) gets plain periodic lines.</summary>
public sealed partial class ProgressVerbTests
{
    [GeneratedRegex(@"\[[#.]{24}\] +\d+% (\d+)/(\d+) (\w+)  ETA (\d\d:\d\d|--:--)")]
    private static partial Regex ProgressPattern();

    /// <summary>The (done, total, unit) of every progress line of <paramref name="stage"/>.</summary>
    private static List<(long Done, long Total, string Unit)> Lines(string output, string stage) =>
        output.Split('\n').Where(l => l.StartsWith(stage + " [", StringComparison.Ordinal)).Select(l => ProgressPattern().Match(l))
            .Select(m => { Assert.True(m.Success); return (long.Parse(m.Groups[1].Value), long.Parse(m.Groups[2].Value), m.Groups[3].Value); }).ToList();

    private static void AssertPlainProgress(List<(long Done, long Total, string Unit)> lines, long total, string unit)
    {
        Assert.NotEmpty(lines);
        Assert.InRange(lines.Count, 1, 11);
        Assert.All(lines, l => Assert.Equal((total, unit), (l.Total, l.Unit)));
        Assert.Equal(total, lines[^1].Done);
        Assert.Equal(lines.Select(l => l.Done).Order(), lines.Select(l => l.Done));
    }

    [Fact]
    public void PlainModePrintsAStageAtMostEveryTenthOfItsWork()
    {
        var text = new StringWriter();
        var line = new ProgressLine(text);
        for (int i = 1; i <= 1000; i++) line.Report("work", i, 1000, "items", "detail");
        line.Finish();
        AssertPlainProgress(Lines(text.ToString(), "work"), 1000, "items");
        Assert.Contains("detail", text.ToString());
    }

    [Fact]
    public void DemosGenerateAndRecordShowEpisodeProgress()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path;
        var demos = CliRunner.Run("demos", "generate", "--env", "BabyAI-GoToRedBallGrey-v0", "--episodes", "20", "--out", Path.Combine(dir, "d.arrows"));
        Assert.True(demos.ExitCode == 0, demos.Out + demos.Error);
        AssertPlainProgress(Lines(demos.Out, "BabyAI-GoToRedBallGrey-v0 demonstrations"), 20, "written");
        var record = CliRunner.Run("record", "--env", "CartPole-v1", "--episodes", "30", "--out", Path.Combine(dir, "r.arrows"));
        Assert.True(record.ExitCode == 0, record.Out + record.Error);
        AssertPlainProgress(Lines(record.Out, "CartPole-v1 random episodes"), 30, "episodes");
    }

    [Fact]
    public void EvalAndPretrainShowProgress()
    {
        using var temp = new TempDirectory();
        string output = temp.Path;
        var run = CliRunner.Run("run", Path.Combine(CliRunner.RepoRoot, "experiments", "configs", "cartpole-ppo.json"), "--output", output,
            "--set", "training.totalSteps=512", "--set", "training.evalEpisodes=2");
        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        var eval = CliRunner.Run("eval", Assert.Single(Directory.GetDirectories(output)), "--episodes", "12");
        Assert.True(eval.ExitCode == 0, eval.Out + eval.Error);
        AssertPlainProgress(Lines(eval.Out, "evaluation"), 12, "episodes");

        var pretrain = CliRunner.Run("pretrain", Path.Combine(CliRunner.RepoRoot, "experiments", "configs", "pretrain-tiny.json"),
            "--set", "steps=40", "--set", "warmupSteps=4", "--set", "logInterval=2", "--set", "evalInterval=20", "--output", output);
        Assert.True(pretrain.ExitCode == 0, pretrain.Out + pretrain.Error);
        AssertPlainProgress(Lines(pretrain.Out, "pretrain"), 40, "steps");
        Assert.Contains("eval perplexity", pretrain.Out);
    }

    [GeneratedRegex(@"^phase (\d)/2 \S+ (demonstrations|training|evaluation) \[[#.]{24}\] +\d+% (\d+)/(\d+) (\w+)  ETA", RegexOptions.Multiline)]
    private static partial Regex PhaseProgressPattern();

    [Fact]
    public void APhasedRunShowsProgressInsideEachPhase()
    {
        // SFT (bot demonstrations, then updates) and PPO (env steps, then the closing evaluation) each report their work.
        using var temp = new TempDirectory();
        string dir = temp.Path, file = Path.Combine(dir, "tiny.json");
        File.WriteAllText(file, ScheduleRunVerbTests.Tiny);
        var run = CliRunner.Run("run", file, "--output", Path.Combine(dir, "runs"));
        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        var stages = PhaseProgressPattern().Matches(run.Out)
            .GroupBy(m => (Phase: int.Parse(m.Groups[1].Value), Stage: m.Groups[2].Value, Unit: m.Groups[5].Value))
            .ToDictionary(g => g.Key, g => g.Select(m => (Done: long.Parse(m.Groups[3].Value), Total: long.Parse(m.Groups[4].Value))).ToList());
        (int, string, string, long)[] expected = [(1, "demonstrations", "episodes", 2), (1, "training", "updates", 3), (2, "training", "steps", 32), (2, "evaluation", "episodes", 2)];
        foreach (var (phase, stage, unit, total) in expected)
        {
            Assert.True(stages.TryGetValue((phase, stage, unit), out var lines), $"no progress for phase {phase} {stage} in {unit}:\n{run.Out}");
            Assert.All(lines, l => Assert.Equal(total, l.Total));
            Assert.Equal(total, lines[^1].Done);
        }
    }
}
