using RLAgents.Environments;
using RLAgents.EpisodeLogs;

namespace RLAgents.Experiments.Tests.Cli;

/// <summary><c>rlagents replay</c>, <c>render</c> and <c>episodes</c> on logs recorded through the library.</summary>
public class EpisodeLogVerbTests
{
    private const string Level = "BabyAI-GoToRedBallGrey-v0";

    private static string RecordRandomEpisodes(int episodes)
    {
        string path = TempDirectory.ForProcess.NewFile("episodes.arrows");
        var env = EnvRegistry.CreateDefault().Make(Level);
        var recorder = EpisodeRecorder.Create(env, path, out var writer);
        using (writer)
        {
            var rng = new Rng(5UL);
            for (int e = 0; e < episodes; e++)
            {
                recorder.Reset(100 + e);
                while (!recorder.Step(rng.NextInt(3)).Done) { }
            }
            recorder.Dispose();
        }
        return path;
    }

    [Fact]
    public void ReplayVerifiesARecordedLogExactly()
    {
        string log = RecordRandomEpisodes(3);
        var r = CliRunner.Run("replay", log, "--verify");
        Assert.True(r.ExitCode == 0, r.Out + r.Error);
        Assert.Contains("replayed 3 episode(s), 3 matched exactly", r.Out);
    }

    [Fact]
    public void ADamagedLogKeepsItsCompleteEpisodesAndExitsNonZero()
    {
        string log = RecordRandomEpisodes(3);
        byte[] bytes = File.ReadAllBytes(log);
        File.WriteAllBytes(log, bytes[..^40]);
        var r = CliRunner.Run("episodes", "stats", log);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Matches(@"damaged at byte \d+", r.Error);
        Assert.Contains(Level, r.Out);
    }

    [Fact]
    public void StatsRenderAndToSftProduceTheirOutputs()
    {
        string log = RecordRandomEpisodes(2);
        var stats = CliRunner.Run("episodes", "stats", log);
        Assert.True(stats.ExitCode == 0, stats.Error);
        Assert.Contains(Level, stats.Out);

        using var temp = new TempDirectory();
        string html = temp.Combine("episode.html");
        var render = CliRunner.Run("render", log, "--episode", "1", "--format", "html", "--out", html);
        Assert.True(render.ExitCode == 0, render.Error);
        Assert.Contains("<html", File.ReadAllText(html));

        var ascii = CliRunner.Run("render", log, "--format", "ascii");
        Assert.True(ascii.ExitCode == 0, ascii.Error);
        Assert.False(string.IsNullOrWhiteSpace(ascii.Out));

        string demos = temp.Combine("demos.arrows");
        var sft = CliRunner.Run("episodes", "to-sft", log, "--out", demos);
        Assert.True(sft.ExitCode == 0, sft.Error);
        Assert.Equal(2, EpisodeLogReader.ReadAll(demos).Episodes.Count);
    }

    [Fact]
    public void BadInputsAreOneLineUsageErrors()
    {
        Assert.Equal(2, CliRunner.Run("replay", "/nonexistent/log.arrows").ExitCode);
        using var temp = new TempDirectory();
        string notALog = temp.Combine("x.arrows");
        File.WriteAllText(notALog, "hello");
        var r = CliRunner.Run("replay", notALog, "--verify");
        Assert.NotEqual(0, r.ExitCode);
        Assert.DoesNotContain("   at ", r.Error);
        string log = RecordRandomEpisodes(1);
        var filter = CliRunner.Run("episodes", "to-sft", log, "--filter", "bogus", "--out", temp.Combine("d.jsonl"));
        Assert.Equal(2, filter.ExitCode);
        Assert.Contains("bogus", filter.Error);
    }
}

public class RecordVerbTests
{
    [Theory]
    [InlineData("BabyAI-GoToLocal-v0", "expert")]
    [InlineData("CartPole-v1", "random")]
    public void RecordedEpisodesReplayExactly(string env, string policy)
    {
        using var temp = new TempDirectory();
        string log = temp.Combine("rec.arrows");
        var r = CliRunner.Run("record", "--env", env, "--policy", policy, "--episodes", "4", "--out", log, "--seed", "3");
        Assert.True(r.ExitCode == 0, r.Out + r.Error);
        var replay = CliRunner.Run("replay", log, "--verify");
        Assert.True(replay.ExitCode == 0, replay.Out + replay.Error);
        Assert.Contains("replayed 4 episode(s), 4 matched exactly", replay.Out);
        if (policy == "expert")
        {
            var stats = CliRunner.Run("episodes", "stats", "--json", log);
            Assert.Contains("\"successRate\": 1", stats.Out.Replace("\"successRate\":1", "\"successRate\": 1"));
        }
    }

    [Fact]
    public void TheExpertPolicyNeedsAnEnvironmentWithAnExpert()
    {
        using var temp = new TempDirectory();
        var r = CliRunner.Run("record", "--env", "CartPole-v1", "--policy", "expert", "--out", temp.Combine("x.arrows"));
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("error: CartPole-v1 has no expert policy (it does not implement IExpertEnv); use --policy random", r.Error.Trim());
    }

    [Fact]
    public void APlugInGetsDemonstrationsAndRenderingThroughTheCapabilityInterfaces()
    {
        string spec = Path.Combine(AppContext.BaseDirectory, "RLAgents.TestPlugin.dll") + ":RLAgents.TestPlugin.Corridor";
        using var temp = new TempDirectory();
        string demos = temp.Combine("demos.arrows");
        var generate = CliRunner.Run("demos", "generate", "--env", spec, "--episodes", "6", "--out", demos, "--seed", "4");
        Assert.True(generate.ExitCode == 0, generate.Out + generate.Error);
        var log = EpisodeLogReader.ReadAll(demos);
        Assert.Equal(6, log.Episodes.Count);
        Assert.All(log.Episodes, e => Assert.True(e.Success));
        Assert.True(CliRunner.Run("replay", demos, "--verify").ExitCode == 0);

        var ascii = CliRunner.Run("render", demos, "--episode", "2", "--format", "ascii");
        Assert.True(ascii.ExitCode == 0, ascii.Error);
        Assert.Matches(@"\[[.AG]+\]", ascii.Out);
        int first = log.Episodes[2].Actions[0];
        Assert.Contains($"action {(first == 1 ? "right" : "left")} ({first})", ascii.Out); // names from IActionNames
        string gif = temp.Combine("corridor.gif");
        var render = CliRunner.Run("render", demos, "--episode", "2", "--format", "gif", "--out", gif);
        Assert.True(render.ExitCode == 0, render.Error);
        Assert.Equal("GIF89a", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(gif), 0, 6));
    }
}
