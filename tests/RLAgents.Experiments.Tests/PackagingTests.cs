using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace RLAgents.Experiments.Tests;

/// <summary>
/// RLAgents as a .NET library, offline: the packages a plug-in needs are packed into a folder feed, the
/// <c>rlagents-env</c> template is installed (in a private template hive) and instantiated in a temp folder,
/// its tests build and run against the packed packages only (the feed plus the local package cache, no
/// remote source, a private packages folder), and <c>rlagents envs check</c> and a short <c>run</c> use the
/// library it built. The rlagents here is this repository's build, the same bits the RLAgents.Tool package
/// wraps (packing the tool would copy the 500 MB CPU libtorch once more).
/// </summary>
public sealed partial class PackagingTests
{
    [GeneratedRegex(@"^(?<id>.+?)\.(?<version>\d+\.\d+\.\d+(-[\w.]+)?)\.nupkg$")]
    private static partial Regex PackageFile();

    // The test output is bin/<configuration>/net10.0/: the libraries were built in the same configuration.
    private static string Configuration => new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;

    private static (int ExitCode, string Output) Dotnet(string workingDirectory, IDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // The test host inherits the outer build's MSBuild and VSTest settings; a nested build must not.
        foreach (string key in psi.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
            psi.Environment.Remove(key);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {string.Join(' ', args)} did not finish within 10 minutes");
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static void Pack(string project, string feed, bool noBuild)
    {
        string[] args = ["pack", Path.Combine(CliRunner.RepoRoot, project), "-c", Configuration, "-o", feed, .. noBuild ? new[] { "--no-build" } : []];
        var (code, output) = Dotnet(CliRunner.RepoRoot, null, args);
        Assert.True(code == 0, $"dotnet pack {project}:\n{output}");
    }

    private static XElement Nuspec(string nupkg)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        using var stream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        return XElement.Load(stream);
    }

    [Fact]
    public void ThePluginTemplateBuildsAndTrainsAgainstThePackedPackagesOffline()
    {
        using var temp = new TempDirectory();
        string root = temp.Path;
        string feed = Path.Combine(root, "feed");
        // The libraries a plug-in needs (RLAgents.Environments and what it depends on), as built for these tests.
        Pack("src/Core/RLAgents.Core.csproj", feed, noBuild: true);
        Pack("src/Environments/RLAgents.Environments.csproj", feed, noBuild: true);
        Pack("templates/RLAgents.Templates/RLAgents.Templates.csproj", feed, noBuild: false);

        var packages = Directory.GetFiles(feed, "*.nupkg").Select(f => PackageFile().Match(Path.GetFileName(f)))
            .ToDictionary(m => m.Groups["id"].Value, m => m.Groups["version"].Value);
        Assert.Equal(["RLAgents.Core", "RLAgents.Environments", "RLAgents.Templates"], packages.Keys.Order());
        string version = packages["RLAgents.Environments"];

        // Library packages: README, licence, XML docs, symbols, and dependencies that restore from the same feed.
        foreach (string id in new[] { "RLAgents.Core", "RLAgents.Environments" })
        {
            string nupkg = Path.Combine(feed, $"{id}.{version}.nupkg");
            using (var zip = ZipFile.OpenRead(nupkg))
            {
                var names = zip.Entries.Select(e => e.FullName).ToHashSet();
                Assert.Contains("README.md", names);
                Assert.Contains($"lib/net10.0/{id}.dll", names);
                Assert.Contains($"lib/net10.0/{id}.xml", names);
            }
            using (var symbols = ZipFile.OpenRead(Path.ChangeExtension(nupkg, ".snupkg")))
                Assert.Contains($"lib/net10.0/{id}.pdb", symbols.Entries.Select(e => e.FullName));
            var metadata = Nuspec(nupkg).Elements().Single(e => e.Name.LocalName == "metadata");
            Assert.Equal("expression", metadata.Elements().Single(e => e.Name.LocalName == "license").Attribute("type")?.Value);
            Assert.Equal("README.md", metadata.Elements().Single(e => e.Name.LocalName == "readme").Value);
        }
        var dependencies = Nuspec(Path.Combine(feed, $"RLAgents.Environments.{version}.nupkg")).Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => e.Attribute("id")!.Value, e => e.Attribute("version")!.Value);
        Assert.Equal(version, dependencies["RLAgents.Core"]);

        // The template's default package version is the version being packed.
        using (var zip = ZipFile.OpenRead(Path.Combine(feed, $"RLAgents.Templates.{version}.nupkg")))
        using (var templateJson = zip.GetEntry("content/rlagents-env/.template.config/template.json")!.Open())
        using (var doc = JsonDocument.Parse(templateJson))
            Assert.Equal(version, doc.RootElement.GetProperty("symbols").GetProperty("RLAgentsVersion").GetProperty("defaultValue").GetString());

        // dotnet new, in a private hive so the machine's templates stay as they were.
        string hive = Path.Combine(root, "hive");
        var install = Dotnet(root, null, "new", "install", Path.Combine(feed, $"RLAgents.Templates.{version}.nupkg"), "--debug:custom-hive", hive);
        Assert.True(install.ExitCode == 0, install.Output);
        string work = Path.Combine(root, "work");
        var create = Dotnet(root, null, "new", "rlagents-env", "-n", "Acme.Envs", "-o", work, "--debug:custom-hive", hive);
        Assert.True(create.ExitCode == 0, create.Output);
        Assert.True(File.Exists(Path.Combine(work, "Acme.Envs", "Acme.Envs.csproj")));
        Assert.Contains($"Version=\"{version}\"", File.ReadAllText(Path.Combine(work, "Acme.Envs", "Acme.Envs.csproj")));

        // Offline: only the packed feed and the local package cache, restored into a private packages folder.
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } custom ? custom
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(work, "nuget.config"), new XElement("configuration", new XElement("packageSources",
            new XElement("clear"),
            new XElement("add", new XAttribute("key", "rlagents"), new XAttribute("value", feed)),
            new XElement("add", new XAttribute("key", "local-cache"), new XAttribute("value", cache)))).ToString());
        var env = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(root, "packages") };
        var test = Dotnet(work, env, "test", "Acme.Envs.Tests", "-c", "Release");
        Assert.True(test.ExitCode == 0, test.Output);
        Assert.Contains("Passed!  - Failed:     0, Passed:     3", test.Output);

        // rlagents on the library the template built.
        string plugin = Path.Combine(work, "Acme.Envs", "bin", "Release", "net10.0", "Acme.Envs.dll") + ":Acme.Envs.Lane";
        var check = CliRunner.Run("envs", "check", plugin);
        Assert.True(check.ExitCode == 0, check.Out + check.Error);
        Assert.Contains("Lane-v0: all checks passed", check.Out);
        string runs = Path.Combine(root, "runs");
        var run = CliRunner.Run("run", Path.Combine(work, "experiment.json"), "--set", $"env.plugin={plugin}",
            "--set", "training.totalSteps=512", "--set", "training.evalInterval=256", "--set", "training.evalEpisodes=4", "--output", runs);
        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        Assert.Contains("final evaluation over 4 episodes", run.Out);
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public void TheToolAndEveryLibraryArePackableAndNothingElseIs()
    {
        // rlagents is a .NET tool; the src assemblies are libraries; tests and benchmarks are not packages.
        XElement Project(string path) => XElement.Load(Path.Combine(CliRunner.RepoRoot, path));
        string? Property(XElement p, string name) => p.Descendants(name).FirstOrDefault()?.Value;
        var tool = Project("experiments/RLAgents.Experiments.csproj");
        Assert.Equal("true", Property(tool, "PackAsTool"));
        Assert.Equal("rlagents", Property(tool, "ToolCommandName"));
        foreach (string lib in Directory.GetFiles(Path.Combine(CliRunner.RepoRoot, "src"), "*.csproj", SearchOption.AllDirectories))
        {
            var p = XElement.Load(lib);
            Assert.True(Property(p, "IsPackable") == "true", $"{lib} is not packable");
            Assert.False(string.IsNullOrWhiteSpace(Property(p, "Description")), $"{lib} has no package description");
        }
        foreach (string other in Directory.GetFiles(Path.Combine(CliRunner.RepoRoot, "tests"), "*.csproj", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(Path.Combine(CliRunner.RepoRoot, "benchmarks"), "*.csproj", SearchOption.AllDirectories)))
            Assert.NotEqual("true", Property(XElement.Load(other), "IsPackable"));
    }

    [Fact]
    public void TheTemplatesTestPackagesArePinnedAsTheRepositorysSoTheyRestoreOffline()
    {
        // The template's test project restores offline from the packages this repository's tests restored; a pin that drifts
        // from Directory.Packages.props would need a download.
        var pins = XElement.Load(Path.Combine(CliRunner.RepoRoot, "Directory.Packages.props")).Descendants("PackageVersion")
            .ToDictionary(e => e.Attribute("Include")!.Value, e => e.Attribute("Version")!.Value);
        string content = Path.Combine(CliRunner.RepoRoot, "templates", "RLAgents.Templates", "content");
        var references = Directory.GetFiles(content, "*.csproj", SearchOption.AllDirectories)
            .SelectMany(f => XElement.Load(f).Descendants("PackageReference").Select(e => (File: f, Id: e.Attribute("Include")!.Value, Version: e.Attribute("Version")!.Value)))
            .Where(r => !r.Id.StartsWith("RLAgents.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(references);
        foreach (var (file, id, version) in references)
        {
            Assert.True(pins.TryGetValue(id, out var pinned), $"{file}: {id} is not pinned in Directory.Packages.props");
            Assert.True(pinned == version, $"{file}: {id} {version}, but Directory.Packages.props pins {pinned}");
        }
    }
}
