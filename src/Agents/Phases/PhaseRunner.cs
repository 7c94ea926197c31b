using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Evaluation;
using RLAgents.Agents.Losses;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.EpisodeLogs;
using RLAgents.Environments.GridWorld;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.Policies;
using RLAgents.Policies.Selection;
using RLAgents.Policies.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Agents.Phases;

/// <summary>What one finished phase did.</summary>
/// <param name="Index">Position in the schedule (repeats included).</param>
/// <param name="Name">Label.</param>
/// <param name="Kind">RL algorithm or SFT.</param>
/// <param name="EnvSteps">Env steps taken in the phase (RL steps, or own episodes played for SFT).</param>
/// <param name="EnvEpisodes">Env episodes finished in the phase.</param>
/// <param name="Demonstrations">Expert demonstrations (bot or file) used in the phase.</param>
/// <param name="Seconds">Wall-clock time of the phase.</param>
/// <param name="SuccessRate">Evaluation success rate at the phase's end.</param>
public sealed record PhaseResult(int Index, string Name, PhaseKind Kind, long EnvSteps, long EnvEpisodes, long Demonstrations, double Seconds, double SuccessRate);

/// <summary>Where a schedule stands; the JSON half of a schedule checkpoint.</summary>
/// <param name="FormatVersion">Layout version.</param>
/// <param name="Phase">The phase to run next (or being run, when <paramref name="Algorithm"/> is set).</param>
/// <param name="EnvSteps">Env steps so far, all phases.</param>
/// <param name="EnvEpisodes">Env episodes so far.</param>
/// <param name="Demonstrations">Expert demonstrations used so far.</param>
/// <param name="Seconds">Wall-clock seconds so far.</param>
/// <param name="Algorithm">Mid-RL-phase: the algorithm's state (its tensors are in the safetensors file).</param>
/// <param name="HasReference">Whether a KL-anchor reference is saved.</param>
/// <param name="Completed">Finished phases.</param>
/// <param name="Stopped">The success target was reached; nothing is left to run.</param>
public sealed record ScheduleState(int FormatVersion, int Phase, long EnvSteps, long EnvEpisodes, long Demonstrations, double Seconds,
    AlgorithmState? Algorithm, bool HasReference, PhaseResult[] Completed, bool Stopped);

/// <summary>The outcome of a phased run.</summary>
/// <param name="RunDirectory">Where metrics and checkpoints are.</param>
/// <param name="EnvSteps">Env steps over all phases.</param>
/// <param name="EnvEpisodes">Env episodes over all phases.</param>
/// <param name="Demonstrations">Expert demonstrations used.</param>
/// <param name="Seconds">Wall-clock seconds (summed over resumes).</param>
/// <param name="SuccessRate">The last evaluation success rate.</param>
/// <param name="Solved">Whether <see cref="PhaseTrainingOptions.StopAtSuccessRate"/> was reached.</param>
/// <param name="Phases">Per-phase results.</param>
/// <param name="Interrupted">The run stopped on request (its cancellation token) before the schedule ended; its latest checkpoint resumes it.</param>
public sealed record PhasedRunResult(string RunDirectory, long EnvSteps, long EnvEpisodes, long Demonstrations, double Seconds, double SuccessRate, bool Solved,
    IReadOnlyList<PhaseResult> Phases, bool Interrupted = false);

/// <summary>
/// Runs a schedule of RL and SFT phases on one agent in one run directory: <c>config.json</c>,
/// <c>metrics.jsonl</c> (every row carries <c>phase</c>, <c>phaseIndex</c> and <c>kind</c>), and
/// <c>checkpoints/</c> (after every phase, and every <see cref="PhaseTrainingOptions.CheckpointInterval"/>
/// env steps inside RL phases). Resuming continues at the checkpoint's phase and step.
/// Every phase derives its seeds from the run seed and its index, so a phase replays identically.
/// </summary>
public static class PhaseRunner
{
    private const int Format = 1;
    private static readonly JsonSerializerOptions Json = new(OptionsBinder.JsonOptions) { WriteIndented = false };

    /// <summary>Name of the metrics file.</summary>
    public const string MetricsFile = "metrics.jsonl";

    /// <summary>Trains <paramref name="options"/> into <paramref name="runDirectory"/>; with <paramref name="resume"/>, continues from its latest checkpoint.</summary>
    /// <param name="options">The validated experiment.</param>
    /// <param name="runDirectory">Where config, metrics and checkpoints go.</param>
    /// <param name="resume">Continue the run already in <paramref name="runDirectory"/>.</param>
    /// <param name="progress">Receives one line per finished phase.</param>
    /// <param name="cancellation">
    /// A stop request (Ctrl+C, a wall-clock budget). It is honoured at the next RL iteration or phase boundary once
    /// this call has done some work (one RL iteration or one whole SFT phase; an SFT phase is never cut short):
    /// the run evaluates, writes a checkpoint that <paramref name="resume"/> continues from, and returns with
    /// <see cref="PhasedRunResult.Interrupted"/> set.
    /// </param>
    public static PhasedRunResult Run(PhasedExperimentOptions options, string runDirectory, bool resume = false, Action<string>? progress = null,
        CancellationToken cancellation = default)
    {
        options.Validate();
        LanguageModel.ReproducibleMath.Ensure();
        torch.set_num_threads(options.Training.Threads);
        ulong seed = unchecked((ulong)options.Seed);
        var schedule = options.Schedule;
        var envOptions = new ExperimentOptions { Seed = options.Seed, Env = options.Env, Recording = options.Recording };

        // Built first: env options only the built env can check (e.g. env.memory.modalities) fail before the run directory exists.
        using var probe = AgentFactory.MakeEnv(envOptions, 1);
        Directory.CreateDirectory(runDirectory);
        string metricsPath = Path.Combine(runDirectory, MetricsFile);
        using var agent = new PhasedAgent(options, probe.SingleObservationSpace, probe.SingleActionSpace.AsDiscrete("The policy heads (categorical, Q-value)"), new Rng(Rng.DeriveSeed(seed, "policy")));
        var gridOptions = GridOptions(options);

        ScheduleState state;
        Dictionary<string, Tensor>? resumeTensors = null;
        if (resume)
        {
            string latest = Path.Combine(runDirectory, "checkpoints", "latest.json");
            if (!File.Exists(latest)) throw new InvalidOperationException($"Cannot resume: '{runDirectory}' holds no schedule checkpoint.");
            var stem = JsonNode.Parse(File.ReadAllText(latest))?["stem"]?.GetValue<string>() ?? throw new InvalidDataException($"{latest}: no 'stem'.");
            string statePath = Path.Combine(runDirectory, "checkpoints", stem + ".json");
            state = JsonSerializer.Deserialize<ScheduleState>(File.ReadAllText(statePath), Json) ?? throw new InvalidDataException($"{statePath}: empty.");
            if (state.FormatVersion != Format) throw new InvalidDataException($"{statePath}: schedule format {state.FormatVersion} is not supported.");
            string weights = Path.Combine(runDirectory, "checkpoints", stem + ".safetensors");
            resumeTensors = Safetensors.Read(weights).Tensors;
            ModuleWeights.Load(agent.Policy, resumeTensors, "policy.", weights);
            if (state.HasReference)
            {
                agent.SnapshotReference();
                ModuleWeights.Load(agent.Reference!, resumeTensors, "reference.", weights);
            }
            TruncateMetrics(metricsPath, state);
        }
        else
        {
            if (File.Exists(metricsPath)) throw new InvalidOperationException($"'{runDirectory}' already holds a run; resume it or choose another directory.");
            AtomicFile.WriteText(Path.Combine(runDirectory, "config.json"), OptionsBinder.Serialize(options));
            state = new ScheduleState(Format, 0, 0, 0, 0, 0, null, false, [], false);
        }

        // Episode log of the run (optional): the RL phases' episodes and, with includeEvaluations, their evaluations.
        using var episodeLog = options.Recording is null ? null
            : AgentFactory.OpenEpisodeLog(envOptions, Path.Combine(runDirectory, TrainingRunner.EpisodeLogFile), append: resume && File.Exists(Path.Combine(runDirectory, TrainingRunner.EpisodeLogFile)));
        var run = new RunContext(options, runDirectory, agent, envOptions, gridOptions, seed, state, progress, cancellation)
        {
            Recorders = episodeLog is null ? null : new EpisodeRecorderGroup(episodeLog, options.Recording),
        };
        using (var metrics = new StreamWriter(metricsPath, append: true, new UTF8Encoding(false)))
        {
            run.Metrics = metrics;
            while (!run.Stopped && !run.Interrupted && run.Phase < schedule.Count)
            {
                // Between phases the latest checkpoint is the phase-start one FinishPhase wrote: nothing to save.
                if (run.WorkDone && cancellation.IsCancellationRequested) { run.Interrupted = true; break; }
                var phase = schedule[run.Phase];
                if (phase.Kind == PhaseKind.Sft) run.RunSft(phase);
                else run.RunRl(phase, resumeTensors, state.Algorithm);
                resumeTensors = null;
                state = state with { Algorithm = null };
            }
        }
        if (resumeTensors is not null) foreach (var t in resumeTensors.Values) t.Dispose();
        return new PhasedRunResult(runDirectory, run.EnvSteps, run.EnvEpisodes, run.Demonstrations, run.Seconds, run.SuccessRate, run.Stopped, run.Completed, run.Interrupted);
    }

    /// <summary>Reads a phased experiment file (comments allowed); <paramref name="overrides"/> are <c>key.path=value</c> assignments.</summary>
    public static PhasedExperimentOptions Load(string file, IEnumerable<string>? overrides = null)
    {
        var options = OptionsBinder.BindFile<PhasedExperimentOptions>(file, overrides);
        options.Validate();
        return options;
    }

    /// <summary>
    /// Success rate (episodes with positive return) of the policy in <paramref name="runDirectory"/>'s latest
    /// checkpoint over <paramref name="episodes"/> episodes, acting greedily or by sampling.
    /// </summary>
    public static double EvaluateCheckpoint(string runDirectory, int episodes, bool greedy, long seed = 12345)
    {
        var options = Load(Path.Combine(runDirectory, "config.json"));
        string latest = Path.Combine(runDirectory, "checkpoints", "latest.json");
        if (!File.Exists(latest)) throw new InvalidOperationException($"'{runDirectory}' holds no schedule checkpoint.");
        string stem = JsonNode.Parse(File.ReadAllText(latest))?["stem"]?.GetValue<string>() ?? throw new InvalidDataException($"{latest}: no 'stem'.");
        string weights = Path.Combine(runDirectory, "checkpoints", stem + ".safetensors");
        var envOptions = new ExperimentOptions { Seed = options.Seed, Env = options.Env, Recording = options.Recording };
        using var env = AgentFactory.MakeEnv(envOptions, Math.Min(episodes, 16));
        using var agent = new PhasedAgent(options, env.SingleObservationSpace, env.SingleActionSpace.AsDiscrete("The policy heads (categorical, Q-value)"), new Rng(0UL));
        var tensors = Safetensors.Read(weights).Tensors;
        ModuleWeights.Load(agent.Policy, tensors, "policy.", weights);
        foreach (var t in tensors.Values) t.Dispose();
        var (returns, _) = Evaluator.RunEpisodes(agent.Policy, env, episodes, seed, greedy ? ActionSelection.Greedy : ActionSelection.Sample);
        return returns.Count(r => r > 0) / (double)returns.Length;
    }

    /// <summary>True when the experiment file is a phased one (it has a top-level <c>phases</c> list), for hosts that run both kinds.</summary>
    public static bool IsPhasedExperiment(string file) => OptionsBinder.LoadFile(file)["phases"] is JsonArray;

    private static GridWorldOptions? GridOptions(PhasedExperimentOptions options)
    {
        var (_, registration) = AgentFactory.Resolve(new ExperimentOptions { Env = options.Env });
        if (registration.OptionsType != typeof(GridWorldOptions)) return null;
        return options.Env.Options is { } json && json.ValueKind != JsonValueKind.Null
            ? (GridWorldOptions)OptionsBinder.Bind(json, typeof(GridWorldOptions), "env.options")
            : new GridWorldOptions();
    }

    /// <summary>Drops metric rows written after the checkpoint being resumed (they will be written again).</summary>
    private static void TruncateMetrics(string path, ScheduleState state)
    {
        if (!File.Exists(path)) return;
        var kept = File.ReadAllLines(path).Where(line =>
        {
            var row = JsonNode.Parse(line)!;
            return row["step"]!.GetValue<long>() <= state.EnvSteps && row["phaseIndex"]!.GetValue<int>() <= state.Phase
                && (row["phaseIndex"]!.GetValue<int>() < state.Phase || state.Algorithm is not null);
        });
        AtomicFile.WriteText(path, string.Concat(kept.Select(l => l + "\n")));
    }

    /// <summary>The mutable state of one run.</summary>
    private sealed class RunContext(PhasedExperimentOptions options, string runDirectory, PhasedAgent agent, ExperimentOptions envOptions,
        GridWorldOptions? gridOptions, ulong seed, ScheduleState state, Action<string>? progress, CancellationToken cancellation)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly double _secondsBefore = state.Seconds;
        private readonly List<PhaseResult> _completed = [.. state.Completed];
        private readonly Queue<bool> _recent = new();
        private DemonstrationSet? _earlier;

        public StreamWriter Metrics { get; set; } = null!;

        /// <summary>The run's recorder group (null when nothing is recorded); every RL phase and evaluation records through it or a sibling.</summary>
        public EpisodeRecorderGroup? Recorders { get; init; }

        /// <summary>The schedule checkpoint the current weights come from (what recorded episodes name).</summary>
        private string CheckpointId => $"phase-{Phase:D3}-step-{EnvSteps:D10}";
        public int Phase { get; private set; } = state.Phase;
        public long EnvSteps { get; private set; } = state.EnvSteps;
        public long EnvEpisodes { get; private set; } = state.EnvEpisodes;
        public long Demonstrations { get; private set; } = state.Demonstrations;
        public bool Stopped { get; private set; } = state.Stopped;

        /// <summary>A stop request ended this call early (see <see cref="PhaseRunner.Run"/>).</summary>
        public bool Interrupted { get; set; }

        /// <summary>This call finished an SFT phase or an RL iteration, so a stop request may now be honoured.</summary>
        public bool WorkDone { get; private set; }
        public double SuccessRate { get; private set; } = state.Completed.LastOrDefault()?.SuccessRate ?? 0;
        public double Seconds => _secondsBefore + _clock.Elapsed.TotalSeconds;
        public IReadOnlyList<PhaseResult> Completed => _completed;

        private string Label(PhaseOptions phase) => phase.Name ?? $"{phase.Kind.ToString().ToLowerInvariant()}-{Phase}";

        public void RunSft(PhaseOptions phase)
        {
            double start = Seconds;
            long steps0 = EnvSteps, episodes0 = EnvEpisodes, demos0 = Demonstrations;
            agent.SetTrainable(phase.Trainable);
            var sft = phase.Sft;
            var space = agent.Policy.ObservationSpace;
            var data = new DemonstrationSet(space);
            if (sft.BotEpisodes > 0)
            {
                var (bot, _) = DemonstrationSet.FromBot(options.Env.Id, gridOptions, space, sft.BotEpisodes, Rng.DeriveSeed(seed, "bot-demos", Phase), sft.Gamma);
                data.AddAll(bot);
                Demonstrations += bot.Episodes;
            }
            if (sft.DemonstrationsFile is { } file)
            {
                var fromFile = DemonstrationSet.FromFile(file, space, sft.FileEpisodes, sft.Gamma);
                data.AddAll(fromFile);
                Demonstrations += fromFile.Episodes;
            }
            if (sft.OwnEpisodes > 0)
            {
                using var env = AgentFactory.MakeEnv(envOptions, options.Env.NumEnvs);
                var (own, ownSteps) = DemonstrationSet.FromOwnEpisodes(agent.Policy, env, sft.OwnEpisodes, sft.MinReturn, Rng.DeriveSeed(seed, "own-episodes", Phase), sft.Gamma);
                data.AddAll(own);
                EnvSteps += ownSteps;
                EnvEpisodes += sft.OwnEpisodes;
            }
            // Later phases may train on everything earlier SFT phases saw (e.g. demonstrations plus own successes).
            var training = data;
            if (sft.KeepEarlierData && _earlier is not null)
            {
                training = new DemonstrationSet(space);
                training.AddAll(_earlier);
                training.AddAll(data);
            }
            if (options.Schedule.Any(p => p.Kind == PhaseKind.Sft && p.Sft.KeepEarlierData))
            {
                _earlier ??= new DemonstrationSet(space);
                _earlier.AddAll(data);
            }
            var rng = new Rng(Rng.DeriveSeed(seed, "sft", Phase));
            BehaviourCloning.Train(agent.Policy, training, sft, rng, logEvery: Math.Max(1, sft.Updates / 10), (update, m) =>
                WriteRow(phase, update, m, null, ("dataSteps", training.Count), ("dataEpisodes", training.Episodes)));
            agent.SnapshotReference();
            FinishPhase(phase, start, steps0, episodes0, demos0);
        }

        public void RunRl(PhaseOptions phase, Dictionary<string, Tensor>? resumeTensors, AlgorithmState? resumeState)
        {
            double start = Seconds;
            var before = resumeState is null ? (EnvSteps, EnvEpisodes, Demonstrations) : PhaseStart();
            agent.SetTrainable(phase.Trainable);
            var recorders = Recorders?.CreateSibling();
            if (recorders is not null)
            {
                recorders.Phase = Label(phase);
                recorders.CheckpointId = CheckpointId;
            }
            var env = AgentFactory.MakeEnv(envOptions, options.Env.NumEnvs, recorders);
            using var algorithm = CreateAlgorithm(phase, env);
            algorithm.Collector.Recorders = recorders;
            if (resumeState is not null)
            {
                algorithm.LoadState(resumeTensors!, resumeState, "schedule checkpoint");
                algorithm.Collector.Reset(unchecked((long)Rng.DeriveSeed(seed, "env-resume", EnvSteps)));
            }
            var t = options.Training;
            long phaseStart = EnvSteps - algorithm.Steps;
            long nextLog = t.LogInterval <= 0 ? 0 : Next(algorithm.Steps, t.LogInterval), nextEval = Next(algorithm.Steps, t.EvalInterval), nextCheckpoint = Next(algorithm.Steps, t.CheckpointInterval);
            var sums = new Dictionary<string, double>();
            int count = 0;
            while (algorithm.Steps < phase.Steps)
            {
                var m = algorithm.Iterate(phase.Steps);
                EnvSteps = phaseStart + algorithm.Steps;
                if (recorders is not null) recorders.CheckpointId = CheckpointId;
                foreach (var episode in algorithm.Collector.DrainEpisodes())
                {
                    EnvEpisodes++;
                    _recent.Enqueue(episode.Return > 0);
                    if (_recent.Count > 100) _recent.Dequeue();
                }
                foreach (var (k, v) in m) sums[k] = sums.GetValueOrDefault(k) + v;
                count++;
                bool last = algorithm.Steps >= phase.Steps;
                WorkDone = true;
                // A stop request mid-phase: evaluate now (the result is what the run reached) and checkpoint below.
                bool interrupt = !last && cancellation.IsCancellationRequested;
                double? eval = null;
                if (!last && (algorithm.Steps >= nextEval || interrupt))
                {
                    eval = Evaluate();
                    nextEval = Next(algorithm.Steps, t.EvalInterval);
                }
                if (algorithm.Steps >= nextLog || eval is not null || last)
                {
                    WriteRow(phase, algorithm.Steps, sums.ToDictionary(p => p.Key, p => p.Value / count), eval);
                    sums.Clear();
                    count = 0;
                    nextLog = t.LogInterval <= 0 ? 0 : Next(algorithm.Steps, t.LogInterval);
                }
                if (eval >= t.StopAtSuccessRate) { Stopped = true; break; }
                if (interrupt)
                {
                    WriteCheckpoint(algorithm);
                    Interrupted = true;
                    progress?.Invoke($"phase {Phase} ({Label(phase)}) interrupted at phase step {algorithm.Steps}: success {SuccessRate:F3}, env steps {EnvSteps}, episodes {EnvEpisodes}, {Seconds:F0}s");
                    return;
                }
                if (!last && algorithm.Steps >= nextCheckpoint)
                {
                    WriteCheckpoint(algorithm);
                    nextCheckpoint = Next(algorithm.Steps, t.CheckpointInterval);
                }
            }
            FinishPhase(phase, start, before.Item1, before.Item2, before.Item3);
        }

        private (long, long, long) PhaseStart()
        {
            // Resumed mid-phase: the phase began where the previous phase's record ended.
            var previous = _completed.Count == 0 ? (0L, 0L, 0L)
                : (_completed.Sum(p => p.EnvSteps), _completed.Sum(p => p.EnvEpisodes), _completed.Sum(p => p.Demonstrations));
            return previous;
        }

        private IAlgorithm CreateAlgorithm(PhaseOptions phase, IVectorEnv env)
        {
            var collectorRng = new Rng(Rng.DeriveSeed(seed, "collector", Phase));
            var learnerRng = new Rng(Rng.DeriveSeed(seed, "learner", Phase));
            long envSeed = unchecked((long)Rng.DeriveSeed(seed, "env", Phase));
            if (phase.Kind == PhaseKind.Dqn)
                return new Dqn((QNetworkPolicy)agent.Policy, env, phase.Dqn, collectorRng, learnerRng, envSeed);
            var extra = new List<(ILossTerm, double)>();
            if (phase.KlAnchor > 0 && agent.Reference is { } reference) extra.Add((new KlAnchorLoss(reference), phase.KlAnchor));
            var (settings, loss) = phase.Kind switch
            {
                PhaseKind.Ppo => Ppo.Configure(phase.Ppo, extra),
                PhaseKind.A2c => A2c.Configure(phase.A2c, extra),
                _ => Reinforce.Configure(phase.Reinforce, extra),
            };
            return new OnPolicyAlgorithm((ActorCriticPolicy)agent.Policy, env, settings, loss, collectorRng, learnerRng, envSeed);
        }

        private double Evaluate()
        {
            var t = options.Training;
            var recorders = options.Recording?.IncludeEvaluations == true ? Recorders?.CreateSibling() : null;
            if (recorders is not null)
            {
                recorders.Phase = "eval";
                recorders.Evaluation = true;
                recorders.CheckpointId = CheckpointId;
            }
            using var env = AgentFactory.MakeEnv(envOptions, Math.Min(t.EvalEpisodes, Math.Max(options.Env.NumEnvs, 16)), recorders);
            long evalSeed = unchecked((long)Rng.DeriveSeed(seed, "eval", EnvSteps + 1_000_003L * Phase));
            var selection = t.GreedyEvaluation || agent.Policy is QNetworkPolicy ? ActionSelection.Greedy : ActionSelection.Sample;
            var (returns, _) = Evaluator.RunEpisodes(agent.Policy, env, t.EvalEpisodes, evalSeed, selection, recorders);
            SuccessRate = returns.Count(r => r > 0) / (double)returns.Length;
            return SuccessRate;
        }

        private void FinishPhase(PhaseOptions phase, double start, long steps0, long episodes0, long demos0)
        {
            if (!Stopped)
            {
                double eval = Evaluate();
                WriteRow(phase, -1, new Dictionary<string, double>(), eval);
                if (eval >= options.Training.StopAtSuccessRate) Stopped = true;
            }
            _completed.Add(new PhaseResult(Phase, Label(phase), phase.Kind, EnvSteps - steps0, EnvEpisodes - episodes0, Demonstrations - demos0, Seconds - start, SuccessRate));
            progress?.Invoke($"phase {Phase} ({Label(phase)}): success {SuccessRate:F3}, env steps {EnvSteps}, episodes {EnvEpisodes}, demos {Demonstrations}, {Seconds:F0}s");
            Phase++;
            WorkDone = true;
            WriteCheckpoint(null);
        }

        private void WriteRow(PhaseOptions phase, long phaseStep, Dictionary<string, double> metrics, double? eval, params (string Key, double Value)[] extra)
        {
            var row = new JsonObject
            {
                ["phase"] = Label(phase),
                ["phaseIndex"] = Phase,
                ["kind"] = phase.Kind.ToString().ToLowerInvariant(),
                ["step"] = EnvSteps,
                ["episodes"] = EnvEpisodes,
                ["demonstrations"] = Demonstrations,
                ["time"] = Math.Round(Seconds, 3),
            };
            if (phaseStep >= 0) row[phase.Kind == PhaseKind.Sft ? "update" : "phaseStep"] = phaseStep;
            if (_recent.Count > 0 && phase.Kind != PhaseKind.Sft) row["train_success"] = _recent.Count(s => s) / (double)_recent.Count;
            foreach (var (k, v) in extra) row[k] = v;
            foreach (var (k, v) in metrics.OrderBy(p => p.Key, StringComparer.Ordinal))
                if (double.IsFinite(v)) row[k] = v;
            if (eval is double e) row["eval_success"] = e;
            Metrics.WriteLine(row.ToJsonString());
            Metrics.Flush();
        }

        private void WriteCheckpoint(IAlgorithm? midPhase)
        {
            string dir = Path.Combine(runDirectory, "checkpoints");
            string stem = midPhase is null ? $"phase-{Phase:D3}-start" : $"phase-{Phase:D3}-step-{midPhase.Steps:D10}";
            var tensors = (midPhase?.CheckpointTensors() ?? ModuleWeights.Named(agent.Policy, "policy."))
                .Concat(agent.Reference is null ? [] : ModuleWeights.Named(agent.Reference, "reference."));
            Safetensors.Write(Path.Combine(dir, stem + ".safetensors"), tensors, new Dictionary<string, string> { ["format"] = "rlagents-schedule-1" });
            var snapshot = new ScheduleState(Format, Phase, EnvSteps, EnvEpisodes, Demonstrations, Seconds, midPhase?.SaveState(),
                agent.Reference is not null, [.. _completed], Stopped);
            AtomicFile.WriteText(Path.Combine(dir, stem + ".json"), JsonSerializer.Serialize(snapshot, Json));
            AtomicFile.WriteText(Path.Combine(dir, "latest.json"), new JsonObject { ["stem"] = stem, ["phase"] = Phase, ["step"] = EnvSteps }.ToJsonString());
        }

        private static long Next(long step, long interval) => interval <= 0 ? long.MaxValue : (step / interval + 1) * interval;
    }
}
