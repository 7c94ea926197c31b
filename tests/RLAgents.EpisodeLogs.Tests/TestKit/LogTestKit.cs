using RLAgents.Environments;
using RLAgents.EpisodeLogs;

namespace RLAgents.EpisodeLogs.Tests;

/// <summary>Shared helpers: registries holding the test env, recording runs with a seeded random policy.</summary>
internal static class LogTestKit
{
    /// <summary>The test plug-in assembly, copied next to the tests, and its Corridor env as a plug-in spec.</summary>
    public static readonly string PluginPath = Path.Combine(AppContext.BaseDirectory, "RLAgents.TestPlugin.dll");
    public static readonly string CorridorSpec = PluginPath + ":RLAgents.TestPlugin.Corridor";

    public static EnvRegistry Registry()
    {
        var r = EnvRegistry.CreateDefault();
        r.Register(BeaconEnv.Registration);
        return r;
    }

    /// <summary>
    /// Records <paramref name="episodes"/> episodes of <paramref name="id"/> built by the registry's
    /// Make, acting with a random policy seeded by <paramref name="seed"/>; seeds episode i with
    /// seed + i unless <paramref name="seeded"/> is false. Attaches fake action probabilities and values.
    /// </summary>
    public static string Record(string id, int episodes, EpisodeRecorderOptions? options = null, bool seeded = true, long seed = 1,
        object? envOptions = null, EnvRegistry? registry = null, string? plugin = null, string file = "log.arrows")
    {
        registry ??= Registry();
        string path = TempDirectory.ForProcess.NewFile(file);
        var env = registry.Make(plugin ?? id, envOptions);
        var recorder = EpisodeRecorder.Create(env, path, out var writer, options, envOptions, plugin);
        var policy = new Rng(seed);
        int n = env.ActionSpace.AsDiscrete("this test").N;
        var probs = new float[n];
        for (int e = 0; e < episodes; e++)
        {
            recorder.Reset(seeded ? seed + e : null);
            while (true)
            {
                for (int a = 0; a < n; a++) probs[a] = 1f / n;
                recorder.AttachAgentOutput(probs, value: (float)policy.NextDouble());
                var r = recorder.Step(policy.NextInt(n));
                if (r.Done) break;
            }
        }
        recorder.Dispose();
        writer.Dispose();
        return path;
    }
}
