using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using RLAgents.Environments.Configuration;

namespace RLAgents.Core;

/// <summary>
/// <c>run.json</c>, one format for every kind of run (training, pretraining): the run format, what
/// ran (kind, name, seed and the caller's details), the versions of RLAgents, .NET and the named
/// components (e.g. TorchSharp), the machine (OS, CPU, cores) and when it started. Written once when
/// a run starts; nothing in it changes the run.
/// </summary>
public static class RunInfo
{
    /// <summary>The file name in a run directory.</summary>
    public const string FileName = "run.json";

    /// <summary>Writes <c>run.json</c> into <paramref name="runDirectory"/> (atomically).</summary>
    /// <param name="runDirectory">The run directory.</param>
    /// <param name="format">The run-directory format version of the writer.</param>
    /// <param name="kind">What kind of run, e.g. <c>training</c> or <c>pretraining</c>.</param>
    /// <param name="name">The run's name.</param>
    /// <param name="seed">The run seed.</param>
    /// <param name="details">Kind-specific fields (environment, phases, math mode, threads …), written as given.</param>
    /// <param name="components">Assemblies whose versions matter to the results (TorchSharp, say).</param>
    public static void Write(string runDirectory, int format, string kind, string name, long seed, IReadOnlyDictionary<string, object?> details, IEnumerable<Assembly> components)
    {
        var versions = new Dictionary<string, string>
        {
            ["rlagents"] = Version(typeof(RunInfo).Assembly),
            ["dotnet"] = Environment.Version.ToString(),
        };
        foreach (var a in components) versions[a.GetName().Name!.ToLowerInvariant()] = Version(a);
        var info = new Dictionary<string, object?>
        {
            ["format"] = format,
            ["kind"] = kind,
            ["name"] = name,
            ["seed"] = seed,
            ["started"] = DateTime.UtcNow.ToString("O"),
        };
        foreach (var (k, v) in details) info[k] = v;
        info["versions"] = versions;
        info["machine"] = new Dictionary<string, object>
        {
            ["os"] = RuntimeInformation.OSDescription,
            ["architecture"] = RuntimeInformation.ProcessArchitecture.ToString(),
            ["cpu"] = CpuModel(),
            ["cores"] = Environment.ProcessorCount,
        };
        AtomicFile.WriteText(Path.Combine(runDirectory, FileName), JsonSerializer.Serialize(info, OptionsBinder.JsonOptions));
    }

    private static string Version(Assembly a) =>
        a.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? a.GetName().Version?.ToString() ?? "unknown";

    // Linux names the model in /proc/cpuinfo; elsewhere the architecture is what is known.
    private static string CpuModel()
    {
        const string cpuinfo = "/proc/cpuinfo";
        if (File.Exists(cpuinfo))
            foreach (var line in File.ReadLines(cpuinfo))
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int colon and > 0)
                    return line[(colon + 1)..].Trim();
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
