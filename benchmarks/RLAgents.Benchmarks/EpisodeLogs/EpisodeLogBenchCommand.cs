using System.Diagnostics;
using System.Globalization;
using RLAgents.Environments;
using RLAgents.Environments.EpisodeLogs;

namespace RLAgents.Benchmarks.EpisodeLogs;

/// <summary>
/// Recording overhead and replay speed of episode logs, on CartPole-v1 and BabyAI-GoToLocal-v0
/// under uniformly random policies (the worst case for relative overhead: the policy costs
/// nothing). For each env: steps/s without recording, recording every episode with observation
/// hashes, and with full observations (5 interleaved repetitions, median), then replay --verify
/// speed of the hash log in episodes/s and steps/s.
/// Run: dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- episode-logs [cartpoleSteps] [gridSteps]
/// </summary>
public static class EpisodeLogBenchCommand
{
    /// <summary>Runs the measurements and prints one row per configuration.</summary>
    public static void Run(string[] args)
    {
        long cartSteps = args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 2_000_000;
        long gridSteps = args.Length > 1 ? long.Parse(args[1], CultureInfo.InvariantCulture) : 300_000;
        string dir = Path.Combine(Path.GetTempPath(), "rlagents-logbench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        try
        {
            Console.WriteLine($"{"env",-22} {"mode",-12} {"steps/s",12} {"overhead",9} {"episodes",9} {"log bytes",12}");
            foreach (var (id, steps) in new[] { ("CartPole-v1", cartSteps), ("BabyAI-GoToLocal-v0", gridSteps) })
            {
                var results = new Dictionary<string, List<(double Sps, long Episodes, long Bytes)>> { ["none"] = [], ["hashes"] = [], ["full"] = [] };
                for (int rep = 0; rep < 5; rep++)
                    foreach (var mode in results.Keys)
                        results[mode].Add(Measure(id, steps, mode, Path.Combine(dir, $"{id}-{mode}.arrow")));
                double baseline = Median(results["none"].Select(r => r.Sps));
                foreach (var (mode, runs) in results)
                {
                    double sps = Median(runs.Select(r => r.Sps));
                    string overhead = mode == "none" ? "-" : ((baseline / sps - 1) * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{id,-22} {mode,-12} {sps,12:N0} {overhead,9} {runs[^1].Episodes,9} {runs[^1].Bytes,12:N0}"));
                }
                foreach (var mode in new[] { "hashes", "full" })
                {
                    string log = Path.Combine(dir, $"{id}-{mode}.arrow");
                    var sw = Stopwatch.StartNew();
                    var report = new Replayer().Verify(log);
                    double s = sw.Elapsed.TotalSeconds;
                    if (!report.Success) throw new InvalidOperationException(report.Summary());
                    long replayed = report.Episodes.Sum(e => e.StepsReplayed);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{id,-22} replay {mode,-5} {report.Episodes.Count / s,12:N0} episodes/s ({replayed / s:N0} steps/s, read + verify)"));
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (double Sps, long Episodes, long Bytes) Measure(string id, long steps, string mode, string path)
    {
        var registry = EnvRegistry.CreateDefault();
        IEnv env = registry.Make(id);
        EpisodeLogWriter? writer = null;
        EpisodeRecorder? recorder = null;
        if (mode != "none")
        {
            recorder = EpisodeRecorder.Create(env, path, out writer, new EpisodeRecorderOptions { ObservationHashes = mode == "hashes" });
            env = recorder;
        }
        var policy = new Rng(42);
        int n = env.ActionSpace.N;
        long seed = 0, episodes = 0;
        env.Reset(seed++);
        var sw = Stopwatch.StartNew();
        for (long i = 0; i < steps; i++)
        {
            var r = env.Step(policy.NextInt(n));
            if (r.Terminated || r.Truncated)
            {
                env.Reset(seed++);
                episodes++;
            }
        }
        double sps = steps / sw.Elapsed.TotalSeconds;
        env.Dispose();
        writer?.Dispose();
        long bytes = mode == "none" ? 0 : new FileInfo(path).Length;
        return (sps, episodes, bytes);
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
