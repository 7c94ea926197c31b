namespace RLAgents.Experiments.Tests.Cli;

public class CliBasicsTests
{
    [Fact]
    public void HelpListsTheVerbs()
    {
        var r = CliRunner.Run("--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("run <experiment>", r.Out);
        Assert.Contains("envs", r.Out);
    }

    [Fact]
    public void AnUnknownVerbIsAUsageErrorWithoutAStackTrace()
    {
        var r = CliRunner.Run("trian");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("Unrecognized command or argument 'trian'", r.Error);
        Assert.DoesNotContain("   at ", r.Error);
    }
}
