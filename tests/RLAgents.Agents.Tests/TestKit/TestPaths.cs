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
}
