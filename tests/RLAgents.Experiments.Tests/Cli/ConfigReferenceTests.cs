namespace RLAgents.Experiments.Tests.Cli;

/// <summary>The README's configuration reference is the output of <c>rlagents config</c>, so it cannot drift.</summary>
public class ConfigReferenceTests
{
    [Theory]
    [InlineData("experiment")]
    [InlineData("pretrain")]
    public void ReadmeHoldsTheCurrentReference(string kind)
    {
        var r = CliRunner.Run("config", kind);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("| `seed` |", r.Out);
        string readme = File.ReadAllText(Path.Combine(CliRunner.RepoRoot, "README.md")).ReplaceLineEndings("\n");
        Assert.True(readme.Contains(r.Out.ReplaceLineEndings("\n").Trim(), StringComparison.Ordinal),
            $"README.md's reference for '{kind}' is stale: regenerate it with `rlagents config {kind}`.");
    }

    [Fact]
    public void UnknownKindIsAUsageError() => Assert.Equal(2, CliRunner.Run("config", "nope").ExitCode);
}
