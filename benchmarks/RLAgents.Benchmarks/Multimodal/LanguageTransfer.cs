using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RLAgents.Agents.Evaluation;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.Wrappers;
using RLAgents.LanguageModel.Pretrained;
using RLAgents.Policies;
using RLAgents.Policies.Selection;
using static TorchSharp.torch;

namespace RLAgents.Benchmarks.Multimodal;

/// <summary>
/// Does the language knowledge of a pretrained Transformer transfer? Trains each GoToLocal variant (scratch GPT,
/// own-pretrained GPT, MiniLM frozen, MiniLM LoRA; their <c>experiments/configs</c>) for several seeds with a set
/// of colour–object compositions held out of training episodes and demonstrations, then evaluates every run three
/// ways over the same evaluation seed: in distribution, with the missions reworded by a paraphrase table, and on
/// exactly the held-out compositions. Prints a per-run table and a per-variant table (means over seeds with 95%
/// bootstrap CIs), and the acting latency of each variant for 16 GoToLocal envs, measured in one process.
/// <code>
/// dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- language-transfer [--variants a,b] [--seeds 1,2,3] [--out dir]
///     [--paraphrases experiments/paraphrases/babyai-synonyms.json] [--held-out "red ball,green box,..."] [--episodes 200]
///     [--eval-seed 12345] [--parallel 1] [--max-seconds 0] [--set key=value ...] [--latency-only] [--no-latency] [--ceiling-only]
/// </code>
/// It also prints what each pretrained encoder itself makes of the paraphrase table (<see cref="PhraseResolution"/>):
/// the share of alternatives its sentence embedding puts nearest their own key, a ceiling on the paraphrase transfer
/// a frozen encoder can give.
/// Run directories (<c>out/variant/seed-N</c>) persist: a run that was stopped (Ctrl+C, <c>--max-seconds</c>, a crash)
/// resumes from its latest checkpoint the next time, and a finished run's evaluation (<c>transfer.json</c>) is reused.
/// With <c>--parallel n</c>, n runs train at once, each in its own child process with one thread.
/// </summary>
public static class LanguageTransfer
{
    /// <summary>The command word.</summary>
    public const string Command = "language-transfer";

    /// <summary>
    /// The variants, their configs and any overrides of them, in table order. The MiniLM configs match cells to the
    /// mission (<c>policy.multimodal.cellTextMatching</c>); <c>scratch-gpt-matching</c> is the scratch agent with the same
    /// matching, so the table separates what the architecture gives from what the pretrained encoder gives.
    /// </summary>
    public static IReadOnlyList<(string Name, string Config, string[] Overrides)> Variants { get; } =
    [
        ("scratch-gpt", "babyai-gotolocal-sft-ppo.json", []),
        ("scratch-gpt-matching", "babyai-gotolocal-sft-ppo.json", ["policy.multimodal.cellTextMatching=true"]),
        ("own-pretrained-gpt", "babyai-gotolocal-sft-ppo-pretrained.json", []),
        ("minilm-frozen", "babyai-gotolocal-sft-ppo-minilm-frozen.json", []),
        ("minilm-lora", "babyai-gotolocal-sft-ppo-minilm-lora.json", []),
    ];

    /// <summary>Held out by default: every colour once and every object twice, so each word is still seen in training with other partners.</summary>
    public const string DefaultHeldOut = "red ball,green box,blue key,purple ball,yellow box,grey key";

    private sealed record Settings(string Configs, string Output, string Paraphrases, string[] HeldOut, int Episodes, long EvalSeed, double MaxSeconds, List<string> Overrides);

    /// <summary>What one finished run measured (<c>transfer.json</c> in its run directory).</summary>
    private sealed record RunRow(string Variant, int Seed, double InDistribution, double Paraphrased, double RewordedShare, double HeldOut,
        long EnvEpisodes, long Demonstrations, long EnvSteps, double Seconds, string Selection);

    /// <summary>Runs the command; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        string configs = "experiments/configs", output = Path.Combine("runs", Command), paraphrases = "experiments/paraphrases/babyai-synonyms.json";
        string[] variants = [.. Variants.Select(v => v.Name)];
        int[] seeds = [1, 2, 3];
        string heldOut = DefaultHeldOut;
        int episodes = 200, parallel = 1;
        long evalSeed = 12345;
        double maxSeconds = 0;
        bool latencyOnly = false, latency = true, ceilingOnly = false;
        string? job = null;
        var overrides = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            bool next = i + 1 < args.Length;
            switch (args[i])
            {
                case "--variants" when next: variants = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                case "--seeds" when next: seeds = [.. args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))]; break;
                case "--configs" when next: configs = args[++i]; break;
                case "--out" when next: output = args[++i]; break;
                case "--paraphrases" when next: paraphrases = args[++i]; break;
                case "--held-out" when next: heldOut = args[++i]; break;
                case "--episodes" when next: episodes = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--eval-seed" when next: evalSeed = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--parallel" when next: parallel = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--max-seconds" when next: maxSeconds = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--set" when next: overrides.Add(args[++i]); break;
                case "--job" when next: job = args[++i]; break;   // child mode of --parallel: one variant:seed
                case "--latency-only": latencyOnly = true; break;
                case "--no-latency": latency = false; break;
                case "--ceiling-only": ceilingOnly = true; break;
                default:
                    Console.Error.WriteLine($"{Command}: unknown argument '{args[i]}'. Usage: {Command} [--variants a,b] [--seeds 1,2,3] [--out dir] [--paraphrases file] [--held-out \"red ball,...\"] [--episodes n] [--eval-seed s] [--parallel n] [--max-seconds s] [--set key=value] [--latency-only] [--no-latency] [--ceiling-only]");
                    return 2;
            }
        }
        var unknown = variants.FirstOrDefault(v => Variants.All(k => k.Name != v));
        if (unknown is not null) { Console.Error.WriteLine($"{Command}: unknown variant '{unknown}' (known: {string.Join(", ", Variants.Select(v => v.Name))})."); return 2; }
        var settings = new Settings(configs, output, paraphrases, [.. heldOut.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)],
            episodes, evalSeed, maxSeconds, overrides);
        // Fail fast on a bad table or pair, before any training.
        ParaphraseTable.Load(paraphrases);

        if (job is not null)
        {
            var parts = job.Split(':');
            return RunJob(parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture), settings) is null ? 3 : 0;
        }
        if (job is null) Console.WriteLine(Ceiling(paraphrases));
        if (ceilingOnly) return 0;
        if (!latencyOnly)
        {
            // Seeds outermost, so every variant has its first seeds before any has its last.
            var jobs = seeds.SelectMany(s => variants.Select(v => (Variant: v, Seed: s))).ToList();
            var rows = new RunRow?[jobs.Count];
            var print = new Lock();
            ChildLanes.Run(jobs.Count, parallel, i =>
            {
                var (variant, seed) = jobs[i];
                lock (print) Console.WriteLine($"== {variant} seed {seed} → {RunDirectory(settings, variant, seed)}");
                if (parallel > 1)
                {
                    int code = ChildLanes.RunChild([Command, "--job", $"{variant}:{seed}", "--configs", configs, "--out", output, "--paraphrases", paraphrases,
                        "--held-out", heldOut, "--episodes", episodes.ToString(CultureInfo.InvariantCulture), "--eval-seed", evalSeed.ToString(CultureInfo.InvariantCulture),
                        "--max-seconds", maxSeconds.ToString(CultureInfo.InvariantCulture), .. overrides.SelectMany(o => new[] { "--set", o })]);
                    rows[i] = ReadRow(settings, variant, seed);
                    if (rows[i] is null) lock (print) Console.WriteLine($"   {variant} seed {seed}: not finished (exit {code}); run the command again to resume it");
                }
                else rows[i] = RunJob(variant, seed, settings);
                lock (print) Console.WriteLine(rows[i] is { } r ? Describe(r) : $"   {variant} seed {seed}: not finished; run the command again to resume it");
            });
            Console.WriteLine();
            Console.WriteLine(Tables(settings, [.. rows.OfType<RunRow>()], variants));
        }
        if (latency || latencyOnly) Console.WriteLine(Latency(settings, variants));
        return 0;
    }

    private static string RunDirectory(Settings s, string variant, int seed) => Path.Combine(s.Output, variant, $"seed-{seed}");

    private static RunRow? ReadRow(Settings s, string variant, int seed)
    {
        string file = Path.Combine(RunDirectory(s, variant, seed), "transfer.json");
        return File.Exists(file) ? JsonSerializer.Deserialize<RunRow>(File.ReadAllText(file)) : null;
    }

    /// <summary>
    /// The schedule every variant trains with, whatever its config's own: SFT on 4,000 bot demonstrations (3,000
    /// updates of 256), then 25,000 env steps of PPO anchored to the SFT policy (KL 0.05). The same data for every
    /// variant; evaluations only at phase ends; no early stop.
    /// </summary>
    public const string Protocol = """
        [
          { "name": "sft-demos", "kind": "sft", "sft": { "expertEpisodes": 4000, "updates": 3000, "batchSize": 256, "learningRate": 0.001, "valueCoefficient": 0.5, "gamma": 0.99 } },
          { "name": "ppo", "steps": 25000, "klAnchor": 0.05, "kind": "ppo", "ppo": { "rolloutSteps": 64, "epochs": 4, "minibatches": 4, "learningRate": 0.0003,
            "annealLearningRate": false, "gamma": 0.99, "gaeLambda": 0.95, "clipRange": 0.2, "entropyCoefficient": 0.005, "valueCoefficient": 0.5, "maxGradNorm": 0.5 } }
        ]
        """;

    /// <summary>
    /// The variant's experiment for <paramref name="seed"/>: its config's env and policy on the <see cref="Protocol"/>
    /// schedule, with the held-out compositions excluded from its env, then the command's <c>--set</c> overrides.
    /// </summary>
    private static ExperimentOptions Experiment(Settings s, string variant, int seed)
    {
        var (_, config, variantOverrides) = Variants.Single(v => v.Name == variant);
        var root = OptionsBinder.LoadFile(Path.Combine(s.Configs, config));
        root["phases"] = JsonNode.Parse(Protocol);
        var training = root["training"]?.AsObject() ?? [];
        training["evalInterval"] = 0;
        training["checkpointInterval"] = 5000;
        training.Remove("stopAtSuccessRate");
        training["threads"] = 1;
        training.Remove("paraphrases");   // evaluated afterwards, the same way for every variant
        root["training"] = training;
        var held = new JsonArray([.. s.HeldOut.Select(p => JsonValue.Create(p))]).ToJsonString();
        foreach (var o in variantOverrides.Concat(s.Overrides).Concat([$"seed={seed}", $"env.options.heldOut={held}", "env.options.heldOutMode=exclude"])) OptionsBinder.ApplyOverride(root, o);
        using var document = JsonDocument.Parse(root.ToJsonString());
        var options = OptionsBinder.Bind<ExperimentOptions>(document.RootElement);
        options.Validate();
        return options;
    }

    /// <summary>Trains (or resumes) one run and, once it has finished, evaluates it three ways; null while it is unfinished.</summary>
    private static RunRow? RunJob(string variant, int seed, Settings s)
    {
        if (ReadRow(s, variant, seed) is { } done) return done;
        string dir = RunDirectory(s, variant, seed);
        bool resume = File.Exists(Path.Combine(dir, TrainingRunner.ConfigFile));
        var options = resume ? TrainingRunner.LoadRunConfig(dir) : Experiment(s, variant, seed);
        using var budget = s.MaxSeconds > 0 ? new CancellationTokenSource(TimeSpan.FromSeconds(s.MaxSeconds)) : new CancellationTokenSource();
        var result = TrainingRunner.Run(options, dir, resume, cancellation: budget.Token, progress: p =>
        {
            if (p.Stage == "evaluation" && p.Done == 0 && p.LastEvaluation is { } e)
                Console.WriteLine(FormattableString.Invariant($"   {variant} seed {seed}: phase {p.Phase} {p.PhaseName}, step {p.EnvSteps}, last evaluation {e.SuccessRate:F3}, {p.Elapsed.TotalSeconds:F0}s"));
        });
        if (result.Interrupted) return null;
        bool greedy = options.Training.GreedyEvaluation;
        var table = ParaphraseTable.Load(s.Paraphrases);
        var inDistribution = Evaluator.Evaluate(dir, s.Episodes, s.EvalSeed, greedy: greedy, paraphrases: table);
        var heldOut = Evaluator.Evaluate(dir, s.Episodes, s.EvalSeed, greedy: greedy, overrides: ["env.options.heldOutMode=only"]);
        var row = new RunRow(variant, seed, inDistribution.SuccessRate ?? 0, inDistribution.Paraphrased!.SuccessRate ?? 0, inDistribution.Paraphrased.RewordedShare ?? 0,
            heldOut.SuccessRate ?? 0, result.EnvEpisodes, result.Demonstrations, result.EnvSteps, result.Seconds, greedy ? "greedy" : "sampled");
        Core.AtomicFile.WriteText(Path.Combine(dir, "transfer.json"), JsonSerializer.Serialize(row));
        return row;
    }

    private static string Describe(RunRow r) => FormattableString.Invariant(
        $"   {r.Variant} seed {r.Seed}: in distribution {r.InDistribution:F3}, paraphrased {r.Paraphrased:F3}, held-out {r.HeldOut:F3}; {r.EnvEpisodes} episodes + {r.Demonstrations} demonstrations, {r.Seconds:F0}s");

    private static string Tables(Settings s, List<RunRow> rows, string[] variants)
    {
        var inv = CultureInfo.InvariantCulture;
        var perRun = rows.OrderBy(r => Array.IndexOf(variants, r.Variant)).ThenBy(r => r.Seed).Select(r => new[]
        {
            r.Variant, r.Seed.ToString(inv), r.InDistribution.ToString("F3", inv), r.Paraphrased.ToString("F3", inv),
            (r.InDistribution > 0 ? r.Paraphrased / r.InDistribution : 0).ToString("P0", inv), r.HeldOut.ToString("F3", inv),
            (r.EnvEpisodes + r.Demonstrations).ToString(inv), r.Seconds.ToString("F0", inv),
        }).ToList();
        var perVariant = new List<string[]>();
        foreach (var v in variants)
        {
            var mine = rows.Where(r => r.Variant == v).OrderBy(r => r.Seed).ToList();
            if (mine.Count == 0) continue;
            var rng = new Rng(Rng.DeriveSeed(1, "language-transfer-ci"));
            string Ci(Func<RunRow, double> f, string format = "F3")
            {
                var e = EvaluationStatistics.Summarize([.. mine.Select(f)], rng).Mean;
                return $"{e.Value.ToString(format, inv)} [{e.Lower.ToString(format, inv)}, {e.Upper.ToString(format, inv)}]";
            }
            perVariant.Add([v, mine.Count.ToString(inv), Ci(r => r.InDistribution), Ci(r => r.Paraphrased),
                Ci(r => r.InDistribution > 0 ? r.Paraphrased / r.InDistribution : 0, "P0"), Ci(r => r.HeldOut),
                mine.Average(r => r.EnvEpisodes).ToString("F0", inv) + " + " + mine.Average(r => r.Demonstrations).ToString("F0", inv),
                mine.Average(r => r.Seconds).ToString("F0", inv)]);
        }
        string selection = rows.FirstOrDefault()?.Selection ?? "";
        return $"GoToLocal, held out of training: {string.Join(", ", s.HeldOut)}; {s.Episodes} evaluation episodes per figure ({selection} actions, seed {s.EvalSeed}); paraphrases: {s.Paraphrases}\n"
            + BabyAiComparison.Table(["variant", "seed", "in distribution", "paraphrased", "kept", "held-out", "episodes+demos", "seconds"], perRun) + "\n"
            + "Per variant, mean over seeds [95% bootstrap CI over seeds]:\n"
            + BabyAiComparison.Table(["variant", "seeds", "in distribution", "paraphrased", "kept", "held-out", "env episodes + demos", "wall-clock s"], perVariant);
    }

    /// <summary>
    /// For each pretrained text encoder, how many of the table's alternatives its own sentence embedding puts nearer
    /// their key than any other key (<see cref="PhraseResolution"/>), per key and in all, with the misses named.
    /// </summary>
    private static string Ceiling(string paraphrases)
    {
        var table = ParaphraseTable.Load(paraphrases);
        var entries = table.Keys.Select((k, i) => (k, table.Alternatives(i))).ToList();
        // GoToLocal's own missions, the contexts the agent reads its keys in.
        var missions = new List<string>();
        using (var env = RLAgents.Environments.GridWorld.Levels.BabyAILevels.Make("BabyAI-GoToLocal-v0", new RLAgents.Environments.GridWorld.GridWorldOptions()))
        {
            int mission = env.ObservationSpace.IndexOf("mission");
            for (int i = 0; i < 300; i++) missions.Add(env.Reset(i).Observation.GetText(mission));
        }
        var text = new System.Text.StringBuilder($"What each encoder itself makes of {paraphrases}: alternatives whose sentence embedding lies nearest their own key among the table's {table.Count} keys; "
            + $"and a linear read-out of the encoder's token states, fitted to the keys in {missions.Distinct().Count()} GoToLocal missions, applied to the alternatives in their place\n");
        var rows = new List<string[]>();
        var misses = new List<string>();
        foreach (var info in PretrainedTextEncoders.Known)
        {
            using var encoder = PretrainedTextEncoders.Load(info.Name);
            var resolved = PhraseResolution.Measure(encoder, entries);
            var readOut = PhraseResolution.ReadOut(encoder, entries, missions);
            rows.Add([info.Name, $"{resolved.Count(r => r.Resolved)}/{resolved.Count}",
                FormattableString.Invariant($"{readOut.Alternatives:P0} of {readOut.AlternativeCount} (keys {readOut.Train:P0} of {readOut.TrainCount}): ")
                    + string.Join(", ", readOut.PerKey.Select(k => FormattableString.Invariant($"{k.Key} {k.Accuracy:P0}"))),
                string.Join(", ", resolved.GroupBy(r => r.Key).Select(g => $"{g.Key} {g.Count(r => r.Resolved)}/{g.Count()}"))]);
            misses.Add($"{info.Name} misses: " + string.Join(", ", resolved.Where(r => !r.Resolved).Select(r =>
                FormattableString.Invariant($"{r.Alternative}→{r.Nearest} ({r.NearestCosine:F2} vs {r.Key} {r.OwnCosine:F2})"))));
        }
        text.Append(BabyAiComparison.Table(["encoder", "resolved (sentence embedding)", "linear read-out in context", "per key (sentence embedding)"], rows));
        foreach (var m in misses) text.Append(m).Append('\n');
        return text.ToString();
    }

    /// <summary>
    /// Milliseconds per acting step (act + value) for 16 GoToLocal envs, per variant, in one process: each variant's
    /// policy from its config, the same 16 observations (missions repeat, so caches are warm after the first step),
    /// rounds interleaved across variants so a busy machine slows them alike (<see cref="ActingLatency.Interleaved"/>); medians of wall and thread CPU time per step.
    /// MiniLM LoRA is also timed right after an update, when the cache starts over (its first step of a rollout).
    /// </summary>
    private static string Latency(Settings s, string[] variants, int envs = 16, int rounds = 7, int steps = 25)
    {
        set_num_threads(1);
        var built = new List<(string Name, Policy Policy, Agent Agent, Action? Invalidate)>();
        var first = Experiment(s, variants[0], 1);
        using var env = AgentFactory.MakeEnv(first, envs);
        env.Reset(1);
        foreach (var v in variants)
        {
            var options = Experiment(s, v, 1);
            var agent = AgentFactory.CreateAgent(options, env);
            agent.Policy.eval();
            built.Add((v, agent.Policy, agent, null));
            if (options.Policy.Multimodal.Backbone.Pretrained?.FineTune == RLAgents.LanguageModel.Pretrained.TextEncoderFineTuning.Lora)
            {
                // After an update the adapters differ, so the first acting step re-encodes every distinct mission.
                var b = agent.Policy.named_parameters().First(p => p.name.EndsWith(".lora_B", StringComparison.Ordinal)).parameter;
                built.Add((v + " (first step after an update)", agent.Policy, agent, () => { using (no_grad()) b.add_(1e-3); }));
            }
        }
        var result = new ActResult(envs);
        var rng = new Rng(3);
        // Every step acts on the same observations; a variant with Invalidate changes its adapters first (timed with the step).
        var figures = ActingLatency.Interleaved([.. built.Select(b => new ActingLatency.Variant(b.Name, () =>
        {
            b.Invalidate?.Invoke();
            Act(b.Policy);
        }))], rounds, steps);
        double baseline = figures[0].CpuMs;
        var rows = built.Zip(figures, (b, f) => new[]
        {
            b.Name, b.Policy.parameters().Sum(p => p.numel()).ToString(CultureInfo.InvariantCulture),
            b.Policy.parameters().Where(p => p.requires_grad).Sum(p => p.numel()).ToString(CultureInfo.InvariantCulture),
            f.WallMs.ToString("F2", CultureInfo.InvariantCulture), f.CpuMs.ToString("F2", CultureInfo.InvariantCulture),
            (f.CpuMs / baseline).ToString("F2", CultureInfo.InvariantCulture) + "×",
        }).ToList();
        foreach (var b in built.DistinctBy(b => b.Agent)) b.Agent.Dispose();
        return $"Acting latency, one step (act + value) for {envs} GoToLocal envs, 1 thread, median over {rounds} interleaved rounds of {steps} steps:\n"
            + BabyAiComparison.Table(["policy", "parameters", "trainable", "wall ms/step", "thread cpu ms/step", "cpu vs first"], rows);

        void Act(Policy policy)
        {
            using var scope = NewDisposeScope();
            policy.Act(policy.Tensorizer.ToInput(env.Observations), ActionSelection.Sample, rng, result);
        }
    }
}
