using System.Text.Json;

namespace RLAgents.Experiments.Tests.Cli;

/// <summary><c>rlagents eval</c> with paraphrase tables, overrides and JSON output, and the shipped MiniLM checkpoint from a fresh clone.</summary>
public sealed class EvalVerbTests
{
    private static readonly string Table = Path.Combine(CliRunner.RepoRoot, "experiments", "paraphrases", "babyai-synonyms.json");
    private static readonly string Shipped = Path.Combine(CliRunner.RepoRoot, "experiments", "checkpoints", "babyai-gotolocal-minilm-lora");

    [Fact]
    public void TheShippedMiniLmCheckpointEvaluatesWithTheShippedParaphrasesFromAFreshClone()
    {
        // Relative paths, from the repository root, exactly as the README shows it.
        string before = Environment.CurrentDirectory;
        Environment.CurrentDirectory = CliRunner.RepoRoot;
        try
        {
            var r = CliRunner.Run("eval", "experiments/checkpoints/babyai-gotolocal-minilm-lora", "--episodes", "4", "--sample",
                "--paraphrases", "experiments/paraphrases/babyai-synonyms.json", "--json");
            Assert.True(r.ExitCode == 0, r.Error);
            var json = JsonDocument.Parse(r.Out).RootElement;
            Assert.Equal(4, json.GetProperty("episodes").GetInt32());
            Assert.InRange(json.GetProperty("success").GetDouble(), 0, 1);
            Assert.InRange(json.GetProperty("success_paraphrased").GetDouble(), 0, 1);
            Assert.Equal(1.0, json.GetProperty("paraphrased").GetProperty("reworded_share").GetDouble());
            Assert.Equal("sample", json.GetProperty("selection").GetString());
        }
        finally
        {
            Environment.CurrentDirectory = before;
        }
        // What is shipped is what trained: adapters, projection, fusion, heads — not the 90 MB base.
        long bytes = Directory.GetFiles(Shipped, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.InRange(bytes, 1, 5_000_000);
    }

    [Fact]
    public void TextOutputShowsOriginalAndParaphrasedSideBySide()
    {
        var r = CliRunner.Run("eval", Shipped, "--episodes", "2", "--paraphrases", Table, "--set", "env.options.heldOutMode=only");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("original", r.Out);
        Assert.Contains("paraphrased (100 % of episodes reworded)", r.Out);
        Assert.Matches(@"success\s+[01]\.\d{3}\s+[01]\.\d{3}", r.Out);
    }

    [Theory]
    [InlineData("""{"replace": {"red": "crimson"}}""", "replace[\"red\"]: expected an array of alternatives, got a string")]
    [InlineData("""{"replace": {"red": []}}""", "replace[\"red\"]: needs at least one alternative")]
    [InlineData("""{"swap": {}}""", "swap: unknown key")]
    public void AMalformedTableIsOneLineAndExitCode2(string json, string expected)
    {
        using var temp = new TempDirectory();
        string dir = temp.Path;
        string table = Path.Combine(dir, "table.json");
        File.WriteAllText(table, json);
        var r = CliRunner.Run("eval", Shipped, "--episodes", "2", "--paraphrases", table);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(expected, r.Error);
        Assert.Single(r.Error.Trim().Split('\n'));
        Directory.Delete(dir, true);
    }
}
