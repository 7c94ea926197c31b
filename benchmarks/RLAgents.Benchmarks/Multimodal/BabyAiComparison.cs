using System.Diagnostics;
using System.Globalization;
using System.Text;
using RLAgents.Agents.Evaluation;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.Wrappers;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.Policies;
using RLAgents.Policies.Multimodal;
using RLAgents.Policies.Networks;
using RLAgents.Policies.Selection;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Benchmarks.Multimodal;

/// <summary>
/// The BabyAI comparison: trains each <c>experiments/configs/babyai-*.json</c> variant (or the ones
/// named) with its phase schedule and prints success against env episodes, demonstrations and
/// wall-clock; then measures the inference latency of one agent step for 16 batched envs per fusion mode.
/// <code>
/// dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- babyai-comparison [--only name,name] [--configs dir] [--out dir] [--latency-only] [--budget 0.25] [--max-seconds 900] [--parallel 2] [--set key=value ...]
/// dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- babyai-comparison --evaluate runDir [runDir ...]
/// dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- babyai-comparison --only babyai-gotolocal-99 --seeds 3 --eval-episodes 1000 --out dir
/// </code>
/// <c>--seeds n</c> trains every variant with seeds 1..n (run directories <c>out/variant/seed-s</c>; a finished one is
/// reused and an unfinished one resumed, so the command continues a long comparison where it stopped), evaluates
/// each final policy on <c>--eval-episodes</c> fresh episodes (the config's greedy or sampled actions), and prints
/// the competence table: success per seed, its mean with a 95% bootstrap CI over seeds and the CI over all
/// evaluated episodes, demonstrations + env episodes beside BabyAI 1.1's figures, and wall-clock.
/// <c>--budget f</c> scales every phase's env steps, bot/own episodes and SFT updates by f (for machines
/// that cannot afford the full schedules); <c>--max-seconds s</c> gives every variant the same wall-clock
/// budget (a run past it stops at its next RL iteration or phase boundary and is evaluated there, so the
/// table compares what each variant reaches in equal time); <c>--parallel n</c> trains n variants at once
/// (each with its own <c>training.threads</c>, one in the shipped configs). The table reports what actually ran and what
/// ended each run: the success target, the end of the schedule, or the time budget. Configs whose
/// <c>backbone.checkpoint</c> folder is missing get it made first by <see cref="GroundedPretraining"/>.
/// </summary>
public static class BabyAiComparison
{
    /// <summary>The command word.</summary>
    public const string Command = "babyai-comparison";

    /// <summary>Runs the comparison; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        string configs = "experiments/configs", output = Path.Combine(Path.GetTempPath(), "rlagents-babyai-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        string[]? only = null;
        bool latencyOnly = false;
        double budget = 1, maxSeconds = 0;
        int parallel = 1, seeds = 0, evalEpisodes = 1000;
        int? seedIndex = null;
        string? rowFile = null;
        var overrides = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--only" when i + 1 < args.Length: only = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                case "--configs" when i + 1 < args.Length: configs = args[++i]; break;
                case "--out" when i + 1 < args.Length: output = args[++i]; break;
                case "--set" when i + 1 < args.Length: overrides.Add(args[++i]); break;
                case "--latency-only": latencyOnly = true; break;
                case "--evaluate" when i + 1 < args.Length:
                    // Re-evaluates finished run directories (their latest checkpoints), greedy and sampled.
                    foreach (var dir in args[(i + 1)..])
                        Console.WriteLine(FormattableString.Invariant(
                            $"{dir}: success greedy {Evaluator.Evaluate(dir, 200, seed: 12345).SuccessRate:F3}, sampled {Evaluator.Evaluate(dir, 200, seed: 12345, greedy: false).SuccessRate:F3} (200 episodes each)"));
                    return 0;
                case "--max-seconds" when i + 1 < args.Length && double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out maxSeconds) && maxSeconds >= 0: i++; break;
                case "--row-file" when i + 1 < args.Length: rowFile = args[++i]; break; // child mode of --parallel: one row as JSON, no latency
                case "--parallel" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out parallel) && parallel > 0: i++; break;
                case "--seeds" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out seeds) && seeds > 0: i++; break;
                case "--eval-episodes" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out evalEpisodes) && evalEpisodes > 0: i++; break;
                case "--seed-index" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out int index) && index > 0: seedIndex = index; i++; break; // child mode with --seeds
                case "--budget" when i + 1 < args.Length && double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out budget) && budget > 0: i++; break;
                default:
                    Console.Error.WriteLine($"{Command}: unknown argument '{args[i]}'. Usage: {Command} [--only a,b] [--configs dir] [--out dir] [--latency-only] [--budget fraction] [--max-seconds s] [--parallel lanes] [--seeds n] [--eval-episodes n] [--set key=value]");
                    return 2;
            }
        }
        if (!latencyOnly)
        {
            var files = Directory.GetFiles(configs, "babyai-*.json").OrderBy(f => f, StringComparer.Ordinal)
                .Where(f => only is null || only.Contains(Path.GetFileNameWithoutExtension(f))).ToList();
            if (files.Count == 0) { Console.Error.WriteLine($"{Command}: no babyai-*.json configs match in '{configs}'."); return 2; }
            // Load and validate every variant (and make any missing pretrained backbone) before the clocks start.
            var variants = new List<(string Name, ExperimentOptions Options)>();
            foreach (var file in files)
            {
                var options = TrainingRunner.Load(file, overrides);
                if (budget != 1) Scale(options, budget);
                if (options.Policy.Architecture == PolicyArchitecture.Transformer && options.Policy.Multimodal.Backbone.Checkpoint is { } checkpoint && !Directory.Exists(checkpoint))
                    GroundedPretraining.Make(checkpoint, log: line => Console.WriteLine("   " + line));
                variants.Add((Path.GetFileNameWithoutExtension(file), options));
            }
            if (seeds > 0)
                return Competence(new CompetenceSettings(files, overrides, budget, maxSeconds, parallel, seeds, evalEpisodes, output, configs), rowFile, seedIndex);
            var rows = new string[]?[variants.Count];
            var print = new Lock();
            void Say(string line) { lock (print) Console.WriteLine(line); }
            // With --parallel n, every variant trains in its own child process (this command with --row-file).
            void Job(int i)
            {
                var (name, options) = variants[i];
                if (rowFile is null) Say($"== {name}: {options.Schedule.Count} phases, {options.Training.Threads} thread(s), run directory {Path.Combine(output, name)}");
                rows[i] = parallel > 1 ? RunChild(name) : RunHere(name, options);
                if (rowFile is not null) File.WriteAllText(rowFile, System.Text.Json.JsonSerializer.Serialize(rows[i]));
                else Say(Table(Header, [.. rows.OfType<string[]>()]));
            }
            string[] RunHere(string name, ExperimentOptions options)
            {
                using var timeBudget = maxSeconds > 0 ? new CancellationTokenSource(TimeSpan.FromSeconds(maxSeconds)) : new CancellationTokenSource();
                int reported = -1;
                var result = TrainingRunner.Run(options, Path.Combine(output, name), cancellation: timeBudget.Token, progress: p =>
                {
                    // One line per finished phase, as the schedule goes.
                    if (p.Phase == reported || p.Stage != "evaluation" || p.Done != 0 || p.LastEvaluation is null) return;
                    reported = p.Phase;
                    Say(FormattableString.Invariant($"   {name}: phase {p.Phase} {p.PhaseName}: success {p.LastEvaluation.SuccessRate:F3}, env steps {p.EnvSteps}, episodes {p.Episodes}, {p.Elapsed.TotalSeconds:F0}s"));
                });
                string ended = result.Stopped ? "target" : result.Interrupted ? "time budget" : "schedule end";
                return [name, options.Env.Id.Replace("BabyAI-", "").Replace("-v0", ""), (result.FinalEvaluation?.SuccessRate ?? 0).ToString("F3", CultureInfo.InvariantCulture),
                    result.EnvEpisodes.ToString(CultureInfo.InvariantCulture), result.Demonstrations.ToString(CultureInfo.InvariantCulture),
                    (result.EnvEpisodes + result.Demonstrations).ToString(CultureInfo.InvariantCulture), result.EnvSteps.ToString(CultureInfo.InvariantCulture),
                    result.Seconds.ToString("F0", CultureInfo.InvariantCulture), ended];
            }
            string[] RunChild(string name)
            {
                string file = Path.Combine(output, name + ".row.json");
                Directory.CreateDirectory(output);
                int code = ChildLanes.RunChild([Command, "--only", name, "--configs", configs, "--out", output, "--row-file", file,
                    "--budget", budget.ToString(CultureInfo.InvariantCulture), "--max-seconds", maxSeconds.ToString(CultureInfo.InvariantCulture),
                    .. overrides.SelectMany(o => new[] { "--set", o })]);
                return code == 0 && File.Exists(file)
                    ? System.Text.Json.JsonSerializer.Deserialize<string[]>(File.ReadAllText(file))!
                    : [name, "", "", "", "", "", "", "", $"failed (exit {code})"];
            }
            ChildLanes.Run(variants.Count, parallel, Job);
        }
        if (rowFile is null) Console.WriteLine(Latency());
        return 0;
    }

    /// <summary>What <c>--seeds</c> needs to train, resume and evaluate every (variant, seed) pair, here or in a child process.</summary>
    private sealed record CompetenceSettings(List<string> Files, List<string> Overrides, double Budget, double MaxSeconds, int Parallel, int Seeds,
        int EvalEpisodes, string Output, string Configs);

    /// <summary>One (variant, seed) of the competence table.</summary>
    private sealed record SeedRow(string Variant, string Level, int Seed, int Evaluated, int Successes, long Demonstrations, long Episodes, long Steps,
        double Seconds, string Ended);

    /// <summary>BabyAI 1.1's figures to compare with (Hui et al. 2020, tables 2–4): PPO episodes, or demonstrations for imitation, to 99% success.</summary>
    private static readonly Dictionary<string, string> BabyAi11 = new(StringComparer.Ordinal)
    {
        ["GoToRedBallGrey"] = "21K episodes (PPO)",
        ["GoToLocal"] = "437K episodes (PPO); ≈150–190K demos (IL)",
        ["PickupLoc"] = "710K episodes (PPO)",
        ["PutNextLocal"] = "1,009K episodes (PPO)",
        ["BossLevel"] = "90.4% after 1M demos (IL)",
    };

    /// <summary>
    /// Trains every variant on seeds 1..n (finished runs are reused, unfinished ones resumed), evaluates each final policy on
    /// fresh episodes and prints the competence table. In child mode (<paramref name="rowFile"/>) runs one seed and writes its row.
    /// </summary>
    private static int Competence(CompetenceSettings settings, string? rowFile, int? seedIndex)
    {
        var items = settings.Files.SelectMany(f => Enumerable.Range(1, settings.Seeds).Where(s => seedIndex is null || s == seedIndex).Select(s => (File: f, Seed: s))).ToList();
        var rows = new SeedRow?[items.Count];
        int next = -1;
        var print = new Lock();
        void Say(string line) { lock (print) Console.WriteLine(line); }
        SeedRow RunHere(string file, int seed)
        {
            string name = Path.GetFileNameWithoutExtension(file);
            var options = TrainingRunner.Load(file, settings.Overrides.Append($"seed={seed}"));
            if (settings.Budget != 1) Scale(options, settings.Budget);
            string dir = Path.Combine(settings.Output, name, $"seed-{seed}");
            using var timeBudget = settings.MaxSeconds > 0 ? new CancellationTokenSource(TimeSpan.FromSeconds(settings.MaxSeconds)) : new CancellationTokenSource();
            int reported = -1;
            var result = TrainingRunner.Run(options, dir, resume: Directory.Exists(dir), cancellation: timeBudget.Token, progress: p =>
            {
                if (p.Phase == reported || p.Stage != "evaluation" || p.Done != 0 || p.LastEvaluation is null) return;
                reported = p.Phase;
                Say(FormattableString.Invariant($"   {name} seed {seed}: phase {p.Phase} {p.PhaseName}: success {p.LastEvaluation.SuccessRate:F3}, env steps {p.EnvSteps}, episodes {p.Episodes}, {p.Elapsed.TotalSeconds:F0}s"));
            });
            string ended = result.Stopped ? "target" : result.Interrupted ? "time budget (resumable)" : "schedule end";
            // Fresh episodes, seeded apart from every training-time evaluation, acting as the config evaluates.
            var report = Evaluator.Evaluate(dir, settings.EvalEpisodes, seed: 7_000_000 + seed, greedy: options.Training.GreedyEvaluation);
            var outcomes = report.Outcomes.Successes;
            return new SeedRow(name, Level(options), seed, outcomes.Length, outcomes.Count(x => x == true), result.Demonstrations, result.EnvEpisodes, result.EnvSteps, result.Seconds, ended);
        }
        SeedRow RunChild(string file, int seed)
        {
            string name = Path.GetFileNameWithoutExtension(file);
            string rowPath = Path.Combine(settings.Output, $"{name}.seed-{seed}.row.json");
            Directory.CreateDirectory(settings.Output);
            var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
            foreach (var a in new[] { typeof(BabyAiComparison).Assembly.Location, Command, "--only", name, "--configs", settings.Configs, "--out", settings.Output, "--row-file", rowPath,
                "--seeds", settings.Seeds.ToString(CultureInfo.InvariantCulture), "--seed-index", seed.ToString(CultureInfo.InvariantCulture),
                "--eval-episodes", settings.EvalEpisodes.ToString(CultureInfo.InvariantCulture),
                "--budget", settings.Budget.ToString(CultureInfo.InvariantCulture), "--max-seconds", settings.MaxSeconds.ToString(CultureInfo.InvariantCulture) })
                start.ArgumentList.Add(a);
            foreach (var o in settings.Overrides) { start.ArgumentList.Add("--set"); start.ArgumentList.Add(o); }
            using var child = Process.Start(start)!;
            child.WaitForExit();
            return child.ExitCode == 0 && File.Exists(rowPath)
                ? System.Text.Json.JsonSerializer.Deserialize<SeedRow>(File.ReadAllText(rowPath))!
                : new SeedRow(name, "", seed, 0, 0, 0, 0, 0, 0, $"failed (exit {child.ExitCode})");
        }
        void Lane()
        {
            for (int i; (i = Interlocked.Increment(ref next)) < items.Count;)
            {
                var (file, seed) = items[i];
                rows[i] = settings.Parallel > 1 && rowFile is null ? RunChild(file, seed) : RunHere(file, seed);
                if (rowFile is not null) File.WriteAllText(rowFile, System.Text.Json.JsonSerializer.Serialize(rows[i]));
                else Say(CompetenceTable([.. rows.OfType<SeedRow>()], settings.EvalEpisodes));
            }
        }
        var lanes = Enumerable.Range(0, Math.Min(rowFile is null ? settings.Parallel : 1, items.Count)).Select(_ => new Thread(Lane) { IsBackground = false }).ToList();
        foreach (var lane in lanes) lane.Start();
        foreach (var lane in lanes) lane.Join();
        return rows.All(r => r is not null && !r.Ended.StartsWith("failed", StringComparison.Ordinal)) ? 0 : 1;
    }

    private static string Level(ExperimentOptions options) =>
        options.Env.Options is { ValueKind: System.Text.Json.JsonValueKind.Object } o && o.TryGetProperty("ids", out var ids) && ids.ValueKind == System.Text.Json.JsonValueKind.Array
            ? string.Join("+", ids.EnumerateArray().Select(i => Short(i.GetString() ?? "")))
            : Short(options.Env.Id);

    private static string Short(string id) => id.Replace("BabyAI-", "", StringComparison.Ordinal).Replace("-v0", "", StringComparison.Ordinal);

    /// <summary>Per seed, then per variant: mean success with a 95% bootstrap CI over seeds, and over every evaluated episode.</summary>
    private static string CompetenceTable(List<SeedRow> rows, int evalEpisodes)
    {
        static string F(double v, string f = "F3") => v.ToString(f, CultureInfo.InvariantCulture);
        static string N(double v) => v.ToString("N0", CultureInfo.InvariantCulture);
        var perSeed = rows.Select(r => new[] { r.Variant, r.Level, r.Seed.ToString(CultureInfo.InvariantCulture),
            r.Evaluated > 0 ? F(r.Successes / (double)r.Evaluated) : "-", N(r.Demonstrations), N(r.Episodes), N(r.Demonstrations + r.Episodes), N(r.Steps), F(r.Seconds, "F0"), r.Ended }).ToList();
        var summary = new List<string[]>();
        foreach (var g in rows.Where(r => r.Evaluated > 0).GroupBy(r => r.Variant))
        {
            var rates = g.Select(r => r.Successes / (double)r.Evaluated).ToArray();
            var overSeeds = EvaluationStatistics.Summarize(rates, new Rng(11UL)).Mean;
            var episodes = g.SelectMany(r => Enumerable.Range(0, r.Evaluated).Select(k => k < r.Successes ? 1.0 : 0.0)).ToArray();
            var overEpisodes = EvaluationStatistics.Summarize(episodes, new Rng(12UL)).Mean;
            string level = g.First().Level;
            summary.Add([g.Key, level, g.Count().ToString(CultureInfo.InvariantCulture), $"{F(overSeeds.Value)} [{F(overSeeds.Lower)}, {F(overSeeds.Upper)}]",
                $"[{F(overEpisodes.Lower)}, {F(overEpisodes.Upper)}]", F(rates.Min()), N(g.Average(r => r.Demonstrations)), N(g.Average(r => r.Episodes)),
                N(g.Average(r => r.Demonstrations + r.Episodes)), BabyAi11.GetValueOrDefault(level, "-"), F(g.Average(r => r.Seconds), "F0")]);
        }
        return $"Per seed (success over {evalEpisodes} fresh evaluation episodes):\n"
            + Table(["variant", "level", "seed", "success", "demos", "env episodes", "demos+episodes", "env steps", "seconds", "ended by"], perSeed)
            + "Over seeds (95% bootstrap CIs: of the mean over seeds, and over all evaluated episodes):\n"
            + Table(["variant", "level", "seeds", "success mean [CI over seeds]", "CI over episodes", "worst seed", "demos", "env episodes", "demos+episodes", "BabyAI 1.1 to 99%", "seconds"], summary);
    }

    private static void Scale(ExperimentOptions options, double f)
    {
        foreach (var phase in options.Phases ?? [])
        {
            phase.Steps = Math.Max(1, (long)(phase.Steps * f));
            phase.Sft.ExpertEpisodes = (int)Math.Ceiling(phase.Sft.ExpertEpisodes * f);
            phase.Sft.OwnEpisodes = (int)Math.Ceiling(phase.Sft.OwnEpisodes * f);
            phase.Sft.Updates = Math.Max(1, (int)(phase.Sft.Updates * f));
        }
    }

    /// <summary>Milliseconds per batched agent step (16 GoToLocal observations → actions) for the MLP and each fusion mode, with memory, and on pixels.</summary>
    public static string Latency(int envs = 16, int iterations = 200)
    {
        torch.set_num_threads(1);
        using var env = BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { IncludeDescription = false });
        var batch = new ObservationBatch(env.ObservationSpace, envs);
        for (int i = 0; i < envs; i++) batch.Set(i, env.Reset(i).Observation);
        var actions = new DiscreteSpace(7);
        var rows = new List<string[]>();
        var variants = new List<(string Name, Func<Policy> Build)>
        {
            ("mlp [128,128]", () => new ActorCriticPolicy(env.ObservationSpace, actions, new PolicyOptions { HiddenSizes = [128, 128], ShareStateEstimator = true },
                new MlpStateEstimatorFactory(new PolicyOptions { HiddenSizes = [128, 128] }, TextTokenizers.ForVocabulary(GridWorldVocabulary.Words)), new Rng(1))),
        };
        foreach (var fusion in Enum.GetValues<FusionMode>())
            variants.Add(($"transformer {fusion} (2×64, 4 heads)", () => new ActorCriticPolicy(env.ObservationSpace, actions, new PolicyOptions { ShareStateEstimator = true },
                new MultimodalStateEstimatorFactory(new MultimodalOptions { Fusion = fusion }, TextTokenizers.ForVocabulary(GridWorldVocabulary.Words)), new Rng(1))));
        // Memory (env.memory: 4 previous views and headings) on the same observations.
        var memory = new ObservationHistoryOptions { Steps = 4, Modalities = ["image", "direction"] };
        using var remembering = new ObservationHistory(BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { IncludeDescription = false }), memory);
        var memoryBatch = new ObservationBatch(remembering.ObservationSpace, envs);
        for (int i = 0; i < envs; i++)
        {
            var obs = remembering.Reset(i).Observation;
            for (int t = 0; t < i % 6; t++) obs = remembering.Step(t % 2).Observation; // turns: partly filled histories
            memoryBatch.Set(i, obs);
        }
        foreach (var fusion in new[] { FusionMode.Early, FusionMode.CrossAttention })
            variants.Add(($"transformer {fusion} + memory K=4", () => new ActorCriticPolicy(remembering.ObservationSpace, actions, new PolicyOptions { ShareStateEstimator = true },
                new MultimodalStateEstimatorFactory(new MultimodalOptions { Fusion = fusion }, TextTokenizers.ForVocabulary(GridWorldVocabulary.Words)), new Rng(1))));
        // Pixels (env.pixels: Minigrid's 56×56×3 agent view) on the same levels and seeds.
        using var seeing = new ImagePipeline(new PixelObservationOptions(), null, null, null).Wrap(BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { IncludeDescription = false }));
        var pixelBatch = new ObservationBatch(seeing.ObservationSpace, envs);
        for (int i = 0; i < envs; i++) pixelBatch.Set(i, seeing.Reset(i).Observation);
        variants.Add(("transformer CrossAttention, pixels as 8×8 patches", () => new ActorCriticPolicy(seeing.ObservationSpace, actions, new PolicyOptions { ShareStateEstimator = true },
            new MultimodalStateEstimatorFactory(new MultimodalOptions { Fusion = FusionMode.CrossAttention }, TextTokenizers.ForVocabulary(GridWorldVocabulary.Words)), new Rng(1))));
        foreach (var encoding in new[] { ImageEncoding.NatureCnn, ImageEncoding.Impala, ImageEncoding.ResNet18 })
        {
            var options = new PolicyOptions { HiddenSizes = [128, 128], ShareStateEstimator = true, ImageEncoding = encoding, FreezeImageEncoder = encoding == ImageEncoding.ResNet18 };
            variants.Add(($"mlp [128,128], pixels through {encoding}", () => new ActorCriticPolicy(seeing.ObservationSpace, actions, options,
                new MlpStateEstimatorFactory(options, TextTokenizers.ForVocabulary(GridWorldVocabulary.Words)), new Rng(1))));
        }
        foreach (var (name, build) in variants)
        {
            using var policy = build();
            var input = new[] { batch, memoryBatch, pixelBatch }.First(b => policy.ObservationSpace.SameLayout(b.Space));
            var result = new ActResult(envs);
            var rng = new Rng(2);
            void Step()
            {
                using var scope = NewDisposeScope();
                policy.Act(policy.Tensorizer.ToInput(input), ActionSelection.Sample, rng, result);
            }
            for (int i = 0; i < 20; i++) Step();
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < iterations; i++) Step();
            double ms = sw.Elapsed.TotalMilliseconds / iterations;
            long parameters = policy.parameters().Sum(p => p.numel());
            rows.Add([name, parameters.ToString(CultureInfo.InvariantCulture), ms.ToString("F3", CultureInfo.InvariantCulture),
                (ms * 1000 / envs).ToString("F0", CultureInfo.InvariantCulture), (envs * 1000 / ms).ToString("F0", CultureInfo.InvariantCulture)]);
        }
        return $"Inference latency, one agent step for {envs} batched GoToLocal envs (act + value, 1 thread):\n"
            + Table(["policy", "parameters", "ms / step", "µs / env", "env steps / s"], rows);
    }

    private static readonly string[] Header = ["variant", "level", "success", "env episodes", "demos", "episodes+demos", "env steps", "seconds", "ended by"];

    /// <summary>A Markdown table with padded columns.</summary>
    internal static string Table(string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var sb = new StringBuilder();
        sb.AppendLine("| " + string.Join(" | ", header.Select((h, i) => h.PadRight(widths[i]))) + " |");
        sb.AppendLine("|" + string.Join("|", widths.Select(w => new string('-', w + 2))) + "|");
        foreach (var r in rows) sb.AppendLine("| " + string.Join(" | ", r.Select((c, i) => c.PadRight(widths[i]))) + " |");
        return sb.ToString();
    }
}
