using System.Text.RegularExpressions;

namespace RLAgents.Core.Tests;

/// <summary>
/// The test tree's two layout rules, checked on the repository so they cannot drift: tests mirror <c>src/</c>
/// (a test file of tests/RLAgents.X.Tests sits in a folder that exists in the RLAgents.X project, or in the project's
/// <c>TestKit/</c> folder of shared helpers), and only the one temp-directory helper reaches the system temp folder.
/// </summary>
public sealed class TestLayoutTests
{
    [Fact]
    public void EveryTestFileSitsInAFolderOfTheAssemblyItTests()
    {
        var misplaced = TestLayout.Misplaced(TestLayout.RepositoryRoot());
        Assert.True(misplaced.Count == 0, "Test files outside the folders of the code they test (move them, see tests/Directory.Build.props):\n"
            + string.Join("\n", misplaced));
    }

    [Fact]
    public void OnlyTheTempDirectoryHelperReachesTheSystemTempFolder()
    {
        var uses = TestLayout.TempFolderUses(TestLayout.RepositoryRoot());
        Assert.True(uses.Count == 0, $"Test code making its own temp folders (use {TestLayout.Helper}):\n" + string.Join("\n", uses));
    }

    [Fact]
    public void AFileInAFolderTheAssemblyLacksAndAnAdHocTempFolderAreBothReported()
    {
        // A repository with one assembly (src/Widgets: a Gears folder) and its test project; the calls are spelled
        // through nameof so that this file does not itself break the rule it checks.
        using var repo = new TempDirectory();
        File.WriteAllText(Path.Combine(repo.CreateDirectory("src", "Widgets", "Gears"), "Gear.cs"), "");
        File.WriteAllText(repo.Combine("src", "Widgets", "RLAgents.Widgets.csproj"), "<Project />");
        File.WriteAllText(Path.Combine(repo.CreateDirectory("tests", "TestKit"), "TempDirectory.cs"), $"Path.{nameof(Path.GetTempPath)}()");
        string tests = repo.CreateDirectory("tests", "RLAgents.Widgets.Tests");
        File.WriteAllText(Path.Combine(tests, "RLAgents.Widgets.Tests.csproj"), "<Project />");
        File.WriteAllText(Path.Combine(tests, "WidgetTests.cs"),
            $"string file = Path.{nameof(Path.GetTempFileName)}();\n// Path.{nameof(Path.GetTempPath)} () in a comment counts too\nusing var dir = new TempDirectory();");
        File.WriteAllText(Path.Combine(repo.CreateDirectory("tests", "RLAgents.Widgets.Tests", "Gears"), "GearTests.cs"), "");
        File.WriteAllText(Path.Combine(repo.CreateDirectory("tests", "RLAgents.Widgets.Tests", "TestKit"), "Kit.cs"), "");
        File.WriteAllText(Path.Combine(repo.CreateDirectory("tests", "RLAgents.Widgets.Tests", "obj"), "Generated.cs"), $"Path.{nameof(Path.GetTempPath)}()");
        File.WriteAllText(Path.Combine(repo.CreateDirectory("tests", "RLAgents.Widgets.Tests", "Sprockets"), "SprocketTests.cs"),
            $"var dir = Directory.{nameof(Directory.CreateTempSubdirectory)}(\"x\");");

        Assert.Equal(["tests/RLAgents.Widgets.Tests/Sprockets/SprocketTests.cs: src/Widgets has no folder Sprockets"], TestLayout.Misplaced(repo.Path));
        Assert.Equal(["tests/RLAgents.Widgets.Tests/Sprockets/SprocketTests.cs:1", "tests/RLAgents.Widgets.Tests/WidgetTests.cs:1",
            "tests/RLAgents.Widgets.Tests/WidgetTests.cs:2"], TestLayout.TempFolderUses(repo.Path));
    }
}

/// <summary>The layout rules of <see cref="TestLayoutTests"/> as functions of a repository root.</summary>
internal static class TestLayout
{
    /// <summary>The one file allowed to ask for the system temp folder: the shared helper itself.</summary>
    public const string Helper = "tests/TestKit/TempDirectory.cs";

    /// <summary>The folder of a test project that holds its shared helpers (and the linked tests/TestKit files).</summary>
    private const string Kit = "TestKit";

    /// <summary>The calls that create or name something in the system temp folder.</summary>
    private static readonly Regex TempCalls = new(
        $@"\b({nameof(Path.GetTempPath)}|{nameof(Path.GetTempFileName)}|{nameof(Directory.CreateTempSubdirectory)})\s*\(", RegexOptions.Compiled);

    /// <summary>The repository root (holds RLAgents.sln), found upward from the test output.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RLAgents.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"RLAgents.sln not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>
    /// "file: reason" for every .cs file of a test project tests/RLAgents.X.Tests whose folder (below the project) is
    /// neither the project root nor TestKit/ and does not exist in the folder of RLAgents.X.csproj.
    /// </summary>
    public static List<string> Misplaced(string root)
    {
        // The assemblies: every RLAgents.*.csproj outside tests/ (src/, experiments/, benchmarks/, ...).
        var projects = Directory.EnumerateDirectories(root)
            .Where(d => Path.GetFileName(d) is not ("tests" or ['.', ..]))
            .SelectMany(d => Directory.EnumerateFiles(d, "RLAgents.*.csproj", SearchOption.AllDirectories))
            .Where(p => !Relative(root, p).Split('/').Any(s => s is "bin" or "obj"))
            .ToDictionary(p => Path.GetFileNameWithoutExtension(p), p => Path.GetDirectoryName(p)!);
        var misplaced = new List<string>();
        foreach (var project in Directory.EnumerateFiles(Path.Combine(root, "tests"), "RLAgents.*.Tests.csproj", SearchOption.AllDirectories))
        {
            string testDir = Path.GetDirectoryName(project)!;
            string assembly = Path.GetFileNameWithoutExtension(project)[..^".Tests".Length];
            if (!projects.TryGetValue(assembly, out var srcDir))
            {
                misplaced.Add($"{Relative(root, project)}: no project {assembly}.csproj outside tests/ to mirror");
                continue;
            }
            foreach (var file in SourceFiles(testDir))
            {
                string folder = Path.GetDirectoryName(Path.GetRelativePath(testDir, file))!;
                if (folder.Length == 0 || folder.Split(Path.DirectorySeparatorChar)[0] == Kit) continue;
                if (!Directory.Exists(Path.Combine(srcDir, folder)))
                    misplaced.Add($"{Relative(root, file)}: {Relative(root, srcDir)} has no folder {folder.Replace('\\', '/')}");
            }
        }
        return misplaced;
    }

    /// <summary>"file:line" for every line of a .cs file under tests/ (but the helper) that calls into the system temp folder.</summary>
    public static List<string> TempFolderUses(string root) =>
        SourceFiles(Path.Combine(root, "tests"))
            .Where(f => Relative(root, f) != Helper)
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (line, at: $"{Relative(root, f)}:{i + 1}")))
            .Where(l => TempCalls.IsMatch(l.line))
            .Select(l => l.at)
            .ToList();

    /// <summary>The .cs files under <paramref name="dir"/>, without build outputs (bin/, obj/), in ordinal order.</summary>
    private static IEnumerable<string> SourceFiles(string dir) =>
        Directory.EnumerateFiles(dir, "*.cs", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(dir, f).Split(Path.DirectorySeparatorChar).Any(s => s is "bin" or "obj"))
            .Order(StringComparer.Ordinal);

    private static string Relative(string root, string path) => Path.GetRelativePath(root, path).Replace('\\', '/');
}
