using System.Diagnostics;
using System.Globalization;
using RLAgents.Agents.Training;
using RLAgents.Benchmarks.Environments;
using RLAgents.Environments;
using RLAgents.Policies;
using RLAgents.Policies.Multimodal;
using RLAgents.Policies.Selection;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Benchmarks.Multimodal;

/// <summary>
/// Acting latency of a config's agent, one step for all of its envs: tensorize + forward (act and value) + sample,
/// the work <c>RolloutCollector</c> does per vector step, per fusion mode of the multimodal Transformer and with its
/// acting cache (<see cref="MultimodalOptions.ActingCache"/>) off and on, measured in one process.
/// <code>
/// dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- acting-latency [--config experiments/configs/babyai-gotolocal-sft-ppo.json]
///     [--fusion early,late,crossAttention] [--cache both|on|off] [--envs 16] [--rounds 9] [--steps 40] [--set key=value ...]
/// </code>
/// Each variant steps its own vector env (same seed) with the actions it samples, so missions change as episodes end
/// and the cache sees the hits and misses of a real rollout; the env step itself is not timed. Rounds of
/// <c>--steps</c> steps are interleaved across variants so a busy machine slows them alike. Reported per variant:
/// the median over all timed steps of the wall time and of the thread's CPU time (time spent descheduled does not
/// count), and the tensors created per step (≈ libtorch calls, whose 5–20 µs overhead dominates at this size).
/// </summary>
public static class ActingLatency
{
    /// <summary>The command word.</summary>
    public const string Command = "acting-latency";

    /// <summary>One measured variant: a name and one acting step (untimed work such as the env step goes in <c>After</c>).</summary>
    internal sealed record Variant(string Name, Action Step, Action? After = null);

    /// <summary>Per variant: median wall and thread CPU milliseconds per step, and tensors created per step.</summary>
    internal sealed record Figures(string Name, double WallMs, double CpuMs, double Tensors);

    /// <summary>Runs the command; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        string config = "experiments/configs/babyai-gotolocal-sft-ppo.json", cache = "both";
        string[] fusions = ["early", "late", "crossAttention"];
        int envs = 16, rounds = 9, steps = 40;
        var overrides = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--config" when i + 1 < args.Length: config = args[++i]; break;
                case "--fusion" when i + 1 < args.Length: fusions = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                case "--cache" when i + 1 < args.Length && args[i + 1] is "both" or "on" or "off": cache = args[++i]; break;
                case "--envs" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out envs) && envs > 0: i++; break;
                case "--rounds" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out rounds) && rounds > 0: i++; break;
                case "--steps" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out steps) && steps > 0: i++; break;
                case "--set" when i + 1 < args.Length: overrides.Add(args[++i]); break;
                default:
                    Console.Error.WriteLine($"{Command}: unknown argument '{args[i]}'. Usage: {Command} [--config file] [--fusion early,late,crossAttention] [--cache both|on|off] [--envs n] [--rounds n] [--steps n] [--set key=value]");
                    return 2;
            }
        }
        set_num_threads(1);
        bool[] caches = cache switch { "on" => [true], "off" => [false], _ => [false, true] };
        var owned = new List<IDisposable>();
        var variants = new List<Variant>();
        try
        {
            foreach (string fusion in fusions)
                foreach (bool on in caches)
                {
                    var options = TrainingRunner.Load(config, [.. overrides, $"policy.multimodal.fusion={fusion}", $"policy.multimodal.actingCache={(on ? "true" : "false")}"]);
                    var env = AgentFactory.MakeEnv(options, envs);
                    owned.Add(env);
                    env.Reset(options.Seed);
                    var agent = AgentFactory.CreateAgent(options, env);
                    owned.Add(agent);
                    variants.Add(EnvStep($"{fusion}, cache {(on ? "on" : "off")}", agent.Policy, env, new Rng(options.Seed)));
                }
            var figures = Interleaved(variants, rounds, steps);
            double first = figures[0].CpuMs;
            var rows = figures.Select(f => new[]
            {
                f.Name, f.WallMs.ToString("F3", CultureInfo.InvariantCulture), f.CpuMs.ToString("F3", CultureInfo.InvariantCulture),
                (first / f.CpuMs).ToString("F1", CultureInfo.InvariantCulture) + "×", f.Tensors.ToString("F0", CultureInfo.InvariantCulture),
            }).ToList();
            Console.WriteLine($"Acting latency, one step (tensorize + act + value + sample) for {envs} envs of {Path.GetFileName(config)}, 1 thread, "
                + $"median over {rounds} interleaved rounds × {steps} steps:");
            Console.WriteLine(BabyAiComparison.Table(["variant", "wall ms/step", "thread cpu ms/step", "speed-up (cpu)", "tensors/step"], rows));
            return 0;
        }
        finally
        {
            foreach (var o in owned) o.Dispose();
        }
    }

    /// <summary>A variant that tensorizes <paramref name="env"/>'s observations, acts (sampling, with values) and, untimed, steps the env with those actions.</summary>
    internal static Variant EnvStep(string name, Policy policy, IVectorEnv env, Rng rng)
    {
        var result = new ActResult(env.NumEnvs, policy.ActionSpace.ActionLayout);
        var actions = new ActionBatch(policy.ActionSpace, env.NumEnvs);
        policy.eval();
        return new Variant(name,
            () =>
            {
                using var scope = NewDisposeScope();
                policy.Act(policy.Tensorizer.ToStepInput(env.Observations), ActionSelection.Sample, rng, result);
            },
            () =>
            {
                result.CopyTo(actions);
                env.Step(actions.Discrete);
            });
    }

    /// <summary>
    /// Times <paramref name="variants"/> in <paramref name="rounds"/> interleaved rounds of <paramref name="steps"/> steps each
    /// (after one warm-up round): medians over every timed step of wall and thread CPU time, and tensors created per step.
    /// </summary>
    internal static List<Figures> Interleaved(IReadOnlyList<Variant> variants, int rounds, int steps)
    {
        var clock = new ThreadCpuClock();
        var wall = variants.Select(_ => new List<double>()).ToArray();
        var cpu = variants.Select(_ => new List<double>()).ToArray();
        var created = new long[variants.Count];
        var stats = DisposeScopeManager.Statistics.TensorStatistics;
        for (int round = -1; round < rounds; round++)
            for (int v = 0; v < variants.Count; v++)
                for (int i = 0; i < steps; i++)
                {
                    long tensors = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount;
                    long c0 = clock.GetTimestamp();
                    long w0 = Stopwatch.GetTimestamp();
                    variants[v].Step();
                    double w = Stopwatch.GetElapsedTime(w0).TotalMilliseconds;
                    double c = (clock.GetTimestamp() - c0) / 1e6;
                    long made = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount - tensors;
                    variants[v].After?.Invoke();
                    if (round < 0) continue;   // warm-up: allocations made, caches filled
                    wall[v].Add(w);
                    cpu[v].Add(c);
                    created[v] += made;
                }
        return [.. variants.Select((v, k) => new Figures(v.Name, BenchTiming.Median(wall[k]), BenchTiming.Median(cpu[k]), (double)created[k] / (rounds * steps)))];
    }
}
