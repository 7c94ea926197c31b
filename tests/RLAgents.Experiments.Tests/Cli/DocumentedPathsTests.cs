using System.Text.RegularExpressions;

namespace RLAgents.Experiments.Tests.Cli;

/// <summary>Every repository path that a help text or a README names exists, so a new user's copy-paste works.</summary>
public sealed partial class DocumentedPathsTests
{
    // A path rooted at a top-level folder of the repository, possibly with {a,b} alternatives or a * wildcard.
    [GeneratedRegex(@"(?<![\w/.-])(?:experiments|src|tests|benchmarks|build|templates|docs|\.ci)/[A-Za-z0-9_.{},*/-]*[A-Za-z0-9_}*]")]
    private static partial Regex RepositoryPath();

    [GeneratedRegex(@"^  (\S+)", RegexOptions.Multiline)]
    private static partial Regex CommandLine();

    /// <summary>The help text of every verb and sub-verb, found by walking <c>rlagents --help</c>.</summary>
    private static Dictionary<string, string> HelpTexts()
    {
        var texts = new Dictionary<string, string>();
        var pending = new Queue<string[]>([[]]);
        while (pending.Count > 0)
        {
            string[] verb = pending.Dequeue();
            var r = CliRunner.Run([.. verb, "--help"]);
            Assert.True(r.ExitCode == 0, $"{string.Join(' ', verb)} --help: {r.Error}");
            texts["rlagents " + string.Join(' ', verb) + " --help"] = r.Out;
            int commands = r.Out.IndexOf("Commands:", StringComparison.Ordinal);
            if (commands < 0) continue;
            foreach (Match m in CommandLine().Matches(r.Out[commands..]))
                pending.Enqueue([.. verb, m.Groups[1].Value]);
        }
        return texts;
    }

    private static IEnumerable<string> Readmes(string root) =>
        Directory.EnumerateFiles(root, "README.md", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(p => p is "bin" or "obj" or "node_modules" or ".git"));

    // "cartpole-{ppo,dqn}.json" → both names.
    private static IEnumerable<string> ExpandBraces(string path)
    {
        int open = path.IndexOf('{');
        if (open < 0) return [path];
        int close = path.IndexOf('}', open);
        return path[(open + 1)..close].Split(',').SelectMany(alt => ExpandBraces(path[..open] + alt + path[(close + 1)..]));
    }

    private static bool Exists(string root, string path)
    {
        string full = Path.Combine(root, path.TrimEnd('/'));
        if (!path.Contains('*')) return File.Exists(full) || Directory.Exists(full);
        string dir = Path.GetDirectoryName(full)!;
        return Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir, Path.GetFileName(full)).Any();
    }

    [Fact]
    public void EveryPathTheHelpTextsAndReadmesNameExists()
    {
        string root = CliRunner.RepoRoot;
        var sources = HelpTexts();
        Assert.True(sources.Count > 10, $"only {sources.Count} help texts found");
        foreach (string readme in Readmes(root)) sources[Path.GetRelativePath(root, readme)] = File.ReadAllText(readme);
        var missing = new List<string>();
        int checkedPaths = 0;
        foreach (var (source, text) in sources)
            foreach (Match m in RepositoryPath().Matches(text))
                foreach (string path in ExpandBraces(m.Value.TrimEnd('.')))
                {
                    checkedPaths++;
                    if (!Exists(root, path)) missing.Add($"{source}: {path}");
                }
        Assert.True(missing.Count == 0, "named but missing:\n" + string.Join('\n', missing));
        Assert.True(checkedPaths > 20, $"only {checkedPaths} paths checked");
    }

    [Fact]
    public void ThePretrainHelpNamesAShippedConfig()
    {
        var help = CliRunner.Run("pretrain", "--help").Out;
        Assert.Contains("experiments/configs/pretrain-tiny.json", help);
        Assert.True(File.Exists(Path.Combine(CliRunner.RepoRoot, "experiments", "configs", "pretrain-tiny.json")));
    }

    [Fact]
    public void TheShippedPretrainConfigRunsAndWritesHuggingFaceTokenizerFiles()
    {
        using var temp = new TempDirectory();
        string output = temp.Path;
        var r = CliRunner.Run("pretrain", Path.Combine(CliRunner.RepoRoot, "experiments", "configs", "pretrain-tiny.json"),
            "--set", "steps=4", "--set", "warmupSteps=2", "--set", "evalInterval=2", "--set", "checkpointInterval=4", "--output", output);
        Assert.True(r.ExitCode == 0, r.Out + r.Error);
        string run = Assert.Single(Directory.GetDirectories(output));
        string checkpoint = Assert.Single(Directory.GetDirectories(Path.Combine(run, "checkpoints")));
        foreach (string file in new[] { "vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json" })
            Assert.True(File.Exists(Path.Combine(checkpoint, file)), file);
    }
}
