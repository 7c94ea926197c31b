using System.Globalization;
using RLAgents.Agents.Training;
using RLAgents.Environments.Configuration;

namespace RLAgents.Benchmarks.Agents;

/// <summary>
/// Learning-speed benchmark: trains a config on N seeds and prints, per seed, the env steps and
/// wall-clock seconds until the rolling mean of 20 training-episode returns first reaches the
/// threshold (by default the env's solve criterion, <see cref="SolveThresholds"/>), then the summary over seeds.
/// <code>
/// dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- --bench-learning experiments/configs/cartpole-ppo.json [--seeds 5] [--threshold R] [--set key=value ...] [--profile]
/// </code>
/// </summary>
public static class LearningBench
{
    /// <summary>Command name.</summary>
    public const string Command = "--bench-learning";

    /// <summary>
    /// The return each env counts as solved (Gymnasium's reward thresholds where it declares one; Pendulum-v1 has
    /// none, −200 is the and rl-baselines3-zoo's bar).
    /// </summary>
    public static IReadOnlyDictionary<string, double> SolveThresholds { get; } = new Dictionary<string, double>
    {
        ["CartPole-v1"] = 475, ["Acrobot-v1"] = -100, ["MountainCar-v0"] = -110, ["MountainCarContinuous-v0"] = 90, ["Pendulum-v1"] = -200,
    };

    /// <summary>Runs the benchmark; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
        {
            Console.Error.WriteLine($"usage: {Command} <config.json> [--seeds N] [--first-seed S] [--threshold R] [--set key=value ...] [--profile]");
            return 2;
        }
        string config = args[0];
        int seeds = 5;
        long firstSeed = 1;
        double? threshold = null;
        var overrides = new List<string>();
        for (int i = 1; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--seeds": seeds = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--first-seed": firstSeed = long.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--threshold": threshold = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--set": overrides.Add(Value()); break;
                case "--profile": IterationProfile.Enabled = true; break;
                default: Console.Error.WriteLine($"unknown option '{args[i]}'"); return 2;
            }
        }
        if (threshold is null)
        {
            string env = OptionsBinder.BindFile<ExperimentOptions>(config, overrides).Env.Id;
            if (!SolveThresholds.TryGetValue(env, out double criterion))
            {
                Console.Error.WriteLine($"{env} has no solve criterion here; give --threshold.");
                return 2;
            }
            threshold = criterion;
        }
        var results = new List<(long Seed, long? Steps, double? Seconds, double? Cpu, long Trained, double Total)>();
        string root = Path.Combine(Path.GetTempPath(), "rlagents-bench-" + Environment.ProcessId);
        Console.WriteLine($"{Path.GetFileName(config)}: rolling mean-20 ≥ {threshold}, {seeds} seeds, {Environment.ProcessorCount} cores");
        Console.WriteLine($"load average at start: {LoadAverage()}");
        Console.WriteLine("seed  steps-to-threshold  seconds-to-threshold  cpu-seconds-to-threshold  steps-trained  seconds-total");
        for (int s = 0; s < seeds; s++)
        {
            long seed = firstSeed + s;
            var options = OptionsBinder.BindFile<ExperimentOptions>(config, overrides.Concat([
                $"seed={seed}", $"training.stopAtMeanReturn={threshold.Value.ToString(CultureInfo.InvariantCulture)}", "training.returnWindow=20",
                "training.evalInterval=0", "training.evalEpisodes=5", "training.checkpointInterval=0",
            ]));
            string dir = Path.Combine(root, $"seed-{seed}");
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            IterationProfile.Reset();
            var result = TrainingRunner.Run(options, dir);
            results.Add((seed, result.SolvedAtStep, result.SolvedAtSeconds, result.SolvedAtCpuSeconds, result.EnvSteps, result.ProcessSeconds));
            Console.WriteLine($"{seed,4}  {Show(result.SolvedAtStep),18}  {Show(result.SolvedAtSeconds),20}  {Show(result.SolvedAtCpuSeconds),24}  {result.EnvSteps,13}  {result.ProcessSeconds,13:F2}");
            // Where the iterations' time went (--profile): collection (env, tensorize, act), advantage, update (forward, backward, optimizer).
            if (IterationProfile.Enabled) Console.Write(IterationProfile.Report());
        }
        Directory.Delete(root, recursive: true);
        var solved = results.Where(r => r.Steps is not null).ToList();
        Console.WriteLine($"solved {solved.Count}/{seeds}" + (solved.Count > 0
            ? $"; steps median {Median(solved.Select(r => (double)r.Steps!.Value)):F0} (max {solved.Max(r => r.Steps)}), seconds median {Median(solved.Select(r => r.Seconds!.Value)):F2} (max {solved.Max(r => r.Seconds):F2})"
            + $", cpu-seconds median {Median(solved.Select(r => r.Cpu!.Value)):F2}, env-steps/s median {Median(solved.Select(r => r.Steps!.Value / r.Seconds!.Value)):F0}"
            : ""));
        Console.WriteLine($"load average at end: {LoadAverage()}");
        return 0;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";

    private static string Show(long? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "not reached";

    private static string Show(double? v) => v is double d ? d.ToString("F2", CultureInfo.InvariantCulture) : "not reached";

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
