using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RLAgents.Environments.Configuration;

namespace RLAgents.Benchmarks.Distributed;

/// <summary>
/// <c>distributed [--workers 1,2,4] [--spin-us 500] [--spin-steps 8192] [--rlagents PATH] [--skip-cartpole]</c>: env steps/s and
/// time to a rolling return of 475 on CartPole-v1 PPO (experiments/configs/cartpole-ppo.json, 8 envs in total) with 1, 2 and 4
/// rollout-worker processes, then env steps/s on <see cref="SpinCartPole"/> (a busy-wait per step) where the envs are the
/// bottleneck, against the same run in one process. Each run is an <c>rlagents run</c> process (learner plus its local worker
/// processes). Steps/s is the median of the metrics rows' <c>wall.sps</c> (steady state, without process start-up);
/// time-to-475 is the learner's <c>wall.time_s</c> at the solving row, worker start-up included. Prints the load average.
/// </summary>
public static class DistributedBench
{
    public const string Command = "distributed";

    public static int Run(string[] args)
    {
        int[] workers = [1, 2, 4];
        double spin = 500;
        long spinSteps = 8192;
        bool cartpole = true;
        string root = FindRoot();
        string rlagents = Path.Combine(root, "experiments", "bin", "Release", "net10.0", "rlagents");
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--workers": workers = args[++i].Split(',').Select(int.Parse).ToArray(); break;
                case "--spin-us": spin = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--spin-steps": spinSteps = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--rlagents": rlagents = args[++i]; break;
                case "--skip-cartpole": cartpole = false; break;
                default: Console.Error.WriteLine($"unknown argument '{args[i]}'"); return 2;
            }
        }
        if (!File.Exists(rlagents)) { Console.Error.WriteLine($"{rlagents} not found: build experiments/ in Release or pass --rlagents"); return 2; }
        var config = OptionsBinder.LoadFile(Path.Combine(root, "experiments", "configs", "cartpole-ppo.json"));
        Console.WriteLine($"load average at start: {File.ReadAllText("/proc/loadavg").Trim()} ({Environment.ProcessorCount} cores)");
        int port = 43000;
        if (cartpole)
        {
            Console.WriteLine("CartPole-v1 PPO (8 envs in total), stop at rolling return 475:");
            Console.WriteLine("  workers  steps/s  solved at step  seconds");
            foreach (int w in workers)
            {
                var c = Configure(config, 200_000, w, ref port);
                c["training"]!["stopAtMeanReturn"] = 475;
                var (sps, solvedStep, solvedSeconds) = Train(rlagents, c);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {w,7}  {sps,7:F0}  {solvedStep?.ToString(CultureInfo.InvariantCulture) ?? "-",14}  {solvedSeconds,7:F1}"));
            }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"SpinCartPole-v1 ({spin} µs per step), PPO, 8 envs in total, {spinSteps} steps:"));
        Console.WriteLine("  workers  steps/s  speed-up");
        var spinConfig = (JsonObject)config.DeepClone();
        spinConfig["env"]!["plugin"] = $"{typeof(SpinCartPole).Assembly.Location}:{typeof(SpinCartPole).FullName}";
        spinConfig["env"]!["options"] = new JsonObject { ["spinMicroseconds"] = spin };
        var (localSps, _, _) = Train(rlagents, Configure(spinConfig, spinSteps, null, ref port));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"local",7}  {localSps,7:F0}  {1.0,8:F2}"));
        foreach (int w in workers)
        {
            var (sps, _, _) = Train(rlagents, Configure(spinConfig, spinSteps, w, ref port));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {w,7}  {sps,7:F0}  {sps / localSps,8:F2}"));
        }
        Console.WriteLine($"load average at end: {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    private static JsonObject Configure(JsonObject baseConfig, long steps, int? workers, ref int port)
    {
        var c = (JsonObject)baseConfig.DeepClone();
        c["env"]!["vectorization"] = "sync";
        var t = (JsonObject)c["training"]!;
        t["totalSteps"] = steps;
        t["evalInterval"] = 0;
        t["evalEpisodes"] = 1;
        t["checkpointInterval"] = 0;
        t["logInterval"] = 1024;
        if (workers is int w)
        {
            c["distributed"] = new JsonObject { ["workers"] = w, ["siloPort"] = port, ["gatewayPort"] = port + 1 };
            port += 2;
        }
        return c;
    }

    /// <summary>Runs <c>rlagents run</c> on <paramref name="config"/>; returns median steps/s and the solving row's step and seconds.</summary>
    private static (double Sps, long? SolvedStep, double Seconds) Train(string rlagents, JsonObject config)
    {
        string dir = Path.Combine(Path.GetTempPath(), "rlagents-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string file = Path.Combine(dir, "experiment.json");
        File.WriteAllText(file, config.ToJsonString());
        var info = new ProcessStartInfo(rlagents) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "run", file, "--output", dir }) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"rlagents run failed ({process.ExitCode}): {output}");
        string run = Directory.GetDirectories(dir).Single();
        var rows = File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var sps = rows.Skip(1).Where(r => r.TryGetProperty("wall", out var w) && w.TryGetProperty("sps", out _))
            .Select(r => r.GetProperty("wall").GetProperty("sps").GetDouble()).Order().ToArray();
        var last = rows[^1];
        long? solved = config["training"]!["stopAtMeanReturn"] is null ? null
            : rows.FirstOrDefault(r => r.TryGetProperty("rolling_return", out var rr) && rr.GetDouble() >= 475) is { ValueKind: JsonValueKind.Object } row ? row.GetProperty("step").GetInt64() : null;
        double seconds = last.GetProperty("wall").GetProperty("time_s").GetDouble();
        Directory.Delete(dir, recursive: true);
        return (sps.Length == 0 ? double.NaN : sps[sps.Length / 2], solved, seconds);
    }

    private static string FindRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "RLAgents.sln"))) d = d.Parent;
        return d?.FullName ?? Directory.GetCurrentDirectory();
    }
}
