namespace RLAgents.Environments.Tests;

/// <summary>Files the repository ships under <c>experiments/</c>, found from the test output folder upwards.</summary>
internal static class ShippedFiles
{
    /// <summary>The repository's <c>experiments</c> folder.</summary>
    public static string Experiments { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "experiments", "configs");
            if (Directory.Exists(candidate)) return Path.GetDirectoryName(candidate)!;
        }
        throw new DirectoryNotFoundException("experiments/ not found above the test output folder.");
    }
}
