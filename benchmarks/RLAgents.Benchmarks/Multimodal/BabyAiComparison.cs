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
/// </code>
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
        int parallel = 1;
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
                case "--budget" when i + 1 < args.Length && double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out budget) && budget > 0: i++; break;
                default:
                    Console.Error.WriteLine($"{Command}: unknown argument '{args[i]}'. Usage: {Command} [--only a,b] [--configs dir] [--out dir] [--latency-only] [--budget fraction] [--max-seconds s] [--parallel lanes] [--set key=value]");
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
