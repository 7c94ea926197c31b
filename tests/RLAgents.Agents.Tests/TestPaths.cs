using RLAgents.Agents.Training;
using RLAgents.Environments.Configuration;

namespace RLAgents.Agents.Tests;

/// <summary>Locations shared by the end-to-end tests.</summary>
internal static class TestPaths
{
    /// <summary>experiments/configs/<paramref name="file"/> of this repository.</summary>
    public static string Config(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "experiments", "configs", file);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"experiments/configs/{file} not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>A config file bound with overrides.</summary>
    public static ExperimentOptions Load(string file, params string[] overrides) => OptionsBinder.BindFile<ExperimentOptions>(Config(file), overrides);

    /// <summary>A fresh temporary directory (deleted by the caller's <see cref="TempDir"/>).</summary>
    public static TempDir NewDir() => new();
}

/// <summary>A temporary directory removed on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rlagents-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}
