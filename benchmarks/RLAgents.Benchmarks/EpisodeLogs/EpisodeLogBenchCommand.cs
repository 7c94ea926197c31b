using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.EpisodeLogs;

namespace RLAgents.Benchmarks.EpisodeLogs;

/// <summary>
/// Recording overhead and replay speed of episode logs, on CartPole-v1 and BabyAI-GoToLocal-v0.
/// Two policies: uniformly random (the worst case for relative overhead: acting costs nothing) and
/// a small MLP evaluated in plain C# on each observation (two hidden layers of 64, about the
/// per-step compute of a PPO actor-critic forward for one env; the agents' TorchSharp policies
/// cost more per step, so their relative overhead is lower). For each: steps/s without recording,
/// recording every episode with observation hashes, and with full observations (5 interleaved
/// repetitions; overhead as the median of per-repetition ratios), then replay --verify speed in episodes/s and steps/s. Speeds are per
/// CPU-second of this process (GC and writer included), so a machine shared with other jobs
/// still gives comparable figures; wall-clock speeds are printed alongside. Then the case the
/// recording target is set for: a real PPO training run on CartPole-v1 through <see cref="TrainingRunner"/>
/// (sync vectorization both ways; GridWorld's character-level mission needs the phased runner's
/// tokenizer policies, so GridWorld is measured by the MLP rows above), without recording and
/// recording every episode (training and evaluation) with observation hashes, 5 interleaved
/// repetitions, median of training steps per CPU-second.
/// Run: dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- episode-logs [cartpoleSteps] [gridSteps] [ppoCartpoleSteps]
/// (0 skips a part).
/// </summary>
public static class EpisodeLogBenchCommand
{
    /// <summary>Runs the measurements and prints one row per configuration.</summary>
    public static void Run(string[] args)
    {
        long cartSteps = args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 2_000_000;
        long gridSteps = args.Length > 1 ? long.Parse(args[1], CultureInfo.InvariantCulture) : 300_000;
        long ppoCartSteps = args.Length > 2 ? long.Parse(args[2], CultureInfo.InvariantCulture) : 32_768;
        string dir = Path.Combine(Path.GetTempPath(), "rlagents-logbench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        try
        {
            Console.WriteLine($"{"env",-22} {"mode",-12} {"steps/cpu-s",12} {"overhead: paired (of medians)",30} {"steps/s wall",13} {"episodes",9} {"log bytes",12}");
            foreach (var (id, steps, policyKind) in new[] { ("CartPole-v1", cartSteps, Policy.Random), ("CartPole-v1", cartSteps / 8, Policy.Mlp), ("CartPole-v1", cartSteps / 8, Policy.MlpBalancing),
                         ("BabyAI-GoToLocal-v0", gridSteps, Policy.Random), ("BabyAI-GoToLocal-v0", gridSteps / 8, Policy.Mlp) })
            {
                if (steps <= 0) continue;
                bool mlp = policyKind != Policy.Random;
                Console.WriteLine($"-- {id}, {policyKind switch { Policy.Random => "random policy", Policy.Mlp => "MLP policy", _ => "MLP cost, balancing controller (500-step episodes, like a trained agent)" }}");
                var results = new Dictionary<string, List<(double Sps, double Wall, long Episodes, long Bytes)>> { ["none"] = [], ["hashes"] = [], ["full"] = [] };
                for (int rep = 0; rep < 5; rep++)
                    foreach (var mode in results.Keys)
                        results[mode].Add(Measure(id, steps, mode, Path.Combine(dir, $"{id}-{mode}.arrows"), policyKind));
                foreach (var (mode, runs) in results)
                {
                    double sps = Median(runs.Select(r => r.Sps));
                    string overhead = mode == "none" ? "-" : Overhead(results["none"].Select(r => r.Sps), runs.Select(r => r.Sps));
                    double wall = Median(runs.Select(r => r.Wall));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{id,-22} {mode,-12} {sps,12:N0} {overhead,30} {wall,13:N0} {runs[^1].Episodes,9} {runs[^1].Bytes,12:N0}"));
                }
                foreach (var mode in mlp ? [] : new[] { "hashes", "full" })
                {
                    string log = Path.Combine(dir, $"{id}-{mode}.arrows");
                    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                    var report = new Replayer().Verify(log);
                    double s = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                    if (!report.Success) throw new InvalidOperationException(report.Summary());
                    long replayed = report.Episodes.Sum(e => e.StepsReplayed);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{id,-22} replay {mode,-5} {report.Episodes.Count / s,12:N0} episodes/cpu-s ({replayed / s:N0} steps/cpu-s, read + verify)"));
                }
            }
            TrainingRuns(ppoCartSteps, dir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private const string CartPolePpo = """
        { "name": "bench-cartpole-ppo", "seed": 1,
          "env": { "id": "CartPole-v1", "numEnvs": 8, "vectorization": "sync" },
          "policy": { "hiddenSizes": [64, 64], "activation": "tanh", "shareStateEstimator": false, "orthogonalInit": true },
          "algorithm": { "kind": "ppo", "ppo": { "rolloutSteps": 32, "gamma": 0.98, "gaeLambda": 0.8, "epochs": 20, "minibatches": 1, "learningRate": 0.001 } },
          "training": { "evalInterval": 0, "evalEpisodes": 8, "checkpointInterval": 0, "logInterval": 100000, "threads": 1 } }
        """;

    /// <summary>PPO training runs with and without recording every episode (hashes).</summary>
    private static void TrainingRuns(long cartSteps, string dir)
    {
        foreach (var (name, json, steps) in new[] { ("CartPole-v1 PPO", CartPolePpo, cartSteps) })
        {
            if (steps <= 0) continue;
            Console.WriteLine($"-- {name} training run, {steps} steps (sync vectorization; recording: all episodes, observation hashes)");
            var results = new Dictionary<string, List<(double Sps, double Wall, long Episodes, long Bytes)>> { ["none"] = [], ["hashes"] = [] };
            for (int rep = 0; rep < 5; rep++)
                foreach (var mode in results.Keys)
                {
                    using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
                    var options = OptionsBinder.Bind<ExperimentOptions>(doc.RootElement);
                    options.Training.TotalSteps = steps;
                    if (mode == "hashes") options.Recording = new EpisodeRecorderOptions { ObservationHashes = true };
                    string runDir = Path.Combine(dir, $"{name.Split(' ')[0]}-{mode}-{rep}");
                    var r = TrainingRunner.Run(options, runDir);
                    string log = Path.Combine(runDir, TrainingRunner.EpisodeLogFile);
                    long episodes = 0, bytes = 0;
                    if (File.Exists(log))
                    {
                        bytes = new FileInfo(log).Length;
                        episodes = EpisodeLogReader.ReadAll(log).Episodes.Count;
                    }
                    results[mode].Add((r.ProcessEnvSteps / r.CpuSeconds, r.ProcessEnvSteps / r.ProcessSeconds, episodes, bytes));
                    Directory.Delete(runDir, recursive: true);
                }
            foreach (var (mode, runs) in results)
            {
                double sps = Median(runs.Select(r => r.Sps));
                string overhead = mode == "none" ? "-" : Overhead(results["none"].Select(r => r.Sps), runs.Select(r => r.Sps));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-22} {mode,-12} {sps,12:N0} {overhead,30} {Median(runs.Select(r => r.Wall)),13:N0} {runs[^1].Episodes,9} {runs[^1].Bytes,12:N0}"));
            }
            Console.WriteLine("   per-run steps/cpu-s, none:   " + string.Join(" ", results["none"].Select(r => r.Sps.ToString("N0", CultureInfo.InvariantCulture))));
            Console.WriteLine("   per-run steps/cpu-s, hashes: " + string.Join(" ", results["hashes"].Select(r => r.Sps.ToString("N0", CultureInfo.InvariantCulture))));
        }
    }

    private enum Policy { Random, Mlp, MlpBalancing }

    private static (double Sps, double Wall, long Episodes, long Bytes) Measure(string id, long steps, string mode, string path, Policy kind)
    {
        var net = kind != Policy.Random ? new Mlp(inputs: id.StartsWith("CartPole", StringComparison.Ordinal) ? 4 : 147, hidden: 64, outputs: 0) : null;
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
        int n = env.ActionSpace.AsDiscrete("This benchmark").N;
        long seed = 0, episodes = 0;
        var obs = env.Reset(seed++).Observation;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        for (long i = 0; i < steps; i++)
        {
            int action = net is null ? policy.NextInt(n) : net.Act(obs, n, policy);
            if (kind == Policy.MlpBalancing)
            {
                // A PD controller on the pole keeps CartPole up for the whole 500 steps.
                var st = obs.Floats(0);
                action = st[2] + 0.5f * st[3] + 0.01f * st[1] > 0 ? 1 : 0;
            }
            var r = env.Step(action);
            obs = r.Observation;
            if (r.Terminated || r.Truncated)
            {
                obs = env.Reset(seed++).Observation;
                episodes++;
            }
        }
        env.Dispose();
        writer?.Dispose(); // closing the log is part of recording
        double wall = steps / sw.Elapsed.TotalSeconds;
        double sps = steps / (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        long bytes = mode == "none" ? 0 : new FileInfo(path).Length;
        return (sps, wall, episodes, bytes);
    }

    /// <summary>A tanh MLP with a softmax head, sampled: the per-step compute of a small actor for one env.</summary>
    private sealed class Mlp(int inputs, int hidden, int outputs)
    {
        private readonly float[] _w1 = Weights(inputs * hidden, 1), _w2 = Weights(hidden * hidden, 2), _w3 = Weights(hidden * 8, 3);
        private readonly float[] _x = new float[inputs], _h1 = new float[hidden], _h2 = new float[hidden], _logits = new float[8];

        private static float[] Weights(int n, int seed)
        {
            var rng = new Rng(seed);
            return Enumerable.Range(0, n).Select(_ => (float)(rng.NextNormal() * 0.1)).ToArray();
        }

        public int Act(Observation o, int actions, Rng rng)
        {
            _ = outputs;
            if (o.Space[0].Storage == ModalityStorage.Float32) o.Floats(0).CopyTo(_x);
            else { var b = o.Bytes(0); for (int i = 0; i < _x.Length; i++) _x[i] = b[i]; }
            Layer(_x, _w1, _h1);
            Layer(_h1, _w2, _h2);
            Layer(_h2, _w3, _logits);
            double max = _logits.Take(actions).Max(), sum = 0, u = rng.NextDouble();
            for (int a = 0; a < actions; a++) sum += Math.Exp(_logits[a] - max);
            for (int a = 0; a < actions; a++)
            {
                u -= Math.Exp(_logits[a] - max) / sum;
                if (u <= 0) return a;
            }
            return actions - 1;
        }

        private static void Layer(float[] x, float[] w, float[] y)
        {
            for (int j = 0; j < y.Length; j++)
            {
                float s = 0;
                for (int i = 0; i < x.Length; i++) s += x[i] * w[i * y.Length + j];
                y[j] = MathF.Tanh(s);
            }
        }
    }

    /// <summary>
    /// Median over repetitions of the pairwise slowdown none/mode − 1 (each repetition runs the
    /// modes back to back, so pairing cancels the slow load swings of a shared machine), with the
    /// ratio of medians after it.
    /// </summary>
    private static string Overhead(IEnumerable<double> none, IEnumerable<double> mode)
    {
        var n = none.ToArray();
        var m = mode.ToArray();
        double paired = Median(n.Zip(m, (a, b) => a / b - 1));
        double ofMedians = Median(n) / Median(m) - 1;
        return string.Create(CultureInfo.InvariantCulture, $"{paired * 100:0.0}% ({ofMedians * 100:0.0}%)");
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
