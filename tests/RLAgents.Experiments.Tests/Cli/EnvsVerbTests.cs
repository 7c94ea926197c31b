namespace RLAgents.Experiments.Tests.Cli;

public class EnvsVerbTests
{
    [Fact]
    public void EnvsListsCartPoleWithItsSpaces()
    {
        var r = CliRunner.Run("envs");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("CartPole-v1", r.Out);
        Assert.Contains("Discrete(2)", r.Out);
    }

    [Fact]
    public void CheckPassesForCartPole()
    {
        var r = CliRunner.Run("envs", "check", "CartPole-v1");
        Assert.True(r.ExitCode == 0, r.Out + r.Error);
        Assert.Contains("all checks passed", r.Out);
        Assert.DoesNotContain("FAIL", r.Out);
    }

    [Fact]
    public void CheckPassesForAPluginEnvironmentInATestAssembly()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "RLAgents.TestPlugin.dll");
        var r = CliRunner.Run("envs", "check", $"{dll}:{PluginTypeName}");
        Assert.True(r.ExitCode == 0, r.Out + r.Error);
        Assert.Contains("all checks passed", r.Out);
    }

    [Fact]
    public void UnknownIdsAndTypesAreOneLineUsageErrors()
    {
        var unknown = CliRunner.Run("envs", "check", "CartPole-v9");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("CartPole-v1", unknown.Error);
        string dll = Path.Combine(AppContext.BaseDirectory, "RLAgents.TestPlugin.dll");
        var missingType = CliRunner.Run("envs", "check", $"{dll}:No.Such.Type");
        Assert.Equal(2, missingType.ExitCode);
        Assert.Contains("No.Such.Type", missingType.Error);
    }

    private const string PluginTypeName = "RLAgents.TestPlugin.Corridor";
}
