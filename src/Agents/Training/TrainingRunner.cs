using RLAgents.Core;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Evaluation;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.EpisodeLogs;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.Policies.Selection;
using RLAgents.Policies.Serialization;
using TorchSharp;

namespace RLAgents.Agents.Training;

/// <summary>A progress report after each training iteration (for a progress bar or a logger).</summary>
/// <param name="Step">Env steps so far.</param>
/// <param name="TotalSteps">The budget.</param>
/// <param name="Episodes">Training episodes finished.</param>
/// <param name="Elapsed">Wall-clock time of this process's training.</param>
/// <param name="RollingReturn">Mean of the last <see cref="TrainingOptions.ReturnWindow"/> training returns, or null before any episode ended.</param>
/// <param name="StepsPerSecond">Throughput of this process.</param>
/// <param name="LastEvaluation">The latest greedy evaluation, if any.</param>
public sealed record TrainingProgress(long Step, long TotalSteps, long Episodes, TimeSpan Elapsed, double? RollingReturn, double StepsPerSecond, ScoreSummary? LastEvaluation);

/// <summary>The outcome of <see cref="TrainingRunner.Run"/>.</summary>
/// <param name="RunDirectory">Where everything was written.</param>
/// <param name="Steps">Env steps trained.</param>
/// <param name="Seconds">Wall-clock seconds of this process's training (evaluations included).</param>
/// <param name="SolvedAtStep">First step at which the rolling training return reached <see cref="TrainingOptions.StopAtMeanReturn"/>.</param>
/// <param name="SolvedAtSeconds">Training seconds at that step (this process only).</param>
/// <param name="FinalEvaluation">The final greedy evaluation.</param>
/// <param name="FinalCheckpoint">The last checkpoint's weights file.</param>
/// <param name="CpuSeconds">Processor time this process used while training (all threads): a load-independent cost on shared machines.</param>
/// <param name="SolvedAtCpuSeconds">Processor time at <paramref name="SolvedAtStep"/>.</param>
public sealed record TrainingResult(string RunDirectory, long Steps, double Seconds, long? SolvedAtStep, double? SolvedAtSeconds, EvaluationReport? FinalEvaluation, string FinalCheckpoint,
    double CpuSeconds = 0, double? SolvedAtCpuSeconds = null);

/// <summary>
/// Trains an experiment into a run directory: <c>config.json</c> (resolved options),
/// <c>run.json</c> (seed, versions), <c>metrics.jsonl</c> (one row per log interval; wall-clock
/// fields are kept under <c>"wall"</c> so rows of two runs with one seed compare equal without
/// them), periodic greedy evaluations and atomic checkpoints; resumable from the latest
/// checkpoint. A plain class: hosts and tests call it directly.
/// </summary>
public static class TrainingRunner
{
    /// <summary>Name of the resolved-options file in a run directory.</summary>
    public const string ConfigFile = "config.json";

    /// <summary>Name of the episode log in a run directory (when the experiment records episodes).</summary>
    public const string EpisodeLogFile = "episodes.arrow";

    /// <summary>Name of the metrics file in a run directory.</summary>
    public const string MetricsFile = "metrics.jsonl";

    /// <summary>Binds the resolved options a run directory was started with (for <c>--resume</c>).</summary>
    public static ExperimentOptions LoadRunConfig(string runDirectory) =>
        OptionsBinder.BindFile<ExperimentOptions>(Path.Combine(runDirectory, ConfigFile));

    /// <summary>
    /// Trains <paramref name="options"/> into <paramref name="runDirectory"/>. With
    /// <paramref name="resume"/>, continues from the directory's latest checkpoint (step count,
    /// weights, optimiser moments, generator states, rolling statistics); metrics rows after that
    /// checkpoint are dropped and rewritten. Environments restart their episodes on resume.
    /// </summary>
    public static TrainingResult Run(ExperimentOptions options, string runDirectory, bool resume = false,
        Action<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        options.Validate();
        var math = LanguageModel.ReproducibleMath.Ensure();
        torch.set_num_threads(options.Training.Threads);
        // Env options only the built env can check (e.g. env.memory.modalities) fail before the run directory exists.
        using (AgentFactory.MakeEnv(options, 1)) { }
        Directory.CreateDirectory(runDirectory);
        string metricsPath = Path.Combine(runDirectory, MetricsFile);
        var t = options.Training;
        ulong seed = unchecked((ulong)options.Seed);

        // Episode log of the run (optional): one recorder per sub-env, all writing to episodes.arrow.
        using var episodeLog = options.Recording is null ? null : AgentFactory.OpenEpisodeLog(options, Path.Combine(runDirectory, EpisodeLogFile), append: resume);
        var recorders = episodeLog is null ? null : new EpisodeRecorderGroup(episodeLog, options.Recording) { Phase = "rl", CheckpointId = Checkpoint.IdAt(0) };
        var env = AgentFactory.MakeEnv(options, options.Env.NumEnvs, recorders);
        using var algorithm = AgentFactory.CreateAlgorithm(options, env);
        // The collector attaches what the policy computed for acting (distribution, value) to each recorded step.
        algorithm.Collector.Recorders = recorders;
        RunnerState state;
        if (resume)
        {
            if (!Checkpoint.Exists(runDirectory)) throw new InvalidOperationException($"Cannot resume: '{runDirectory}' holds no checkpoint.");
            var checkpoint = Checkpoint.Load(runDirectory);
            algorithm.LoadState(checkpoint.Tensors, checkpoint.State.Algorithm, checkpoint.WeightsPath);
            checkpoint.DisposeTensors();
            if (algorithm.CheckpointsReplay && checkpoint.ReplayPath is { } replay)
            {
                using var stream = File.OpenRead(replay);
                algorithm.LoadReplay(stream, replay);
            }
            state = checkpoint.State.Runner;
            if (recorders is not null) recorders.CheckpointId = Checkpoint.IdAt(algorithm.Steps);
            // Envs restart: their seed derives from the step so a resumed run is itself reproducible.
            algorithm.Collector.Reset(unchecked((long)Rng.DeriveSeed(seed, "env-resume", algorithm.Steps)));
            TruncateMetrics(metricsPath, algorithm.Steps);
        }
        else
        {
            if (File.Exists(metricsPath) || Checkpoint.Exists(runDirectory))
                throw new InvalidOperationException($"'{runDirectory}' already holds a run; resume it or choose another directory.");
            AtomicFile.WriteText(Path.Combine(runDirectory, ConfigFile), OptionsBinder.Serialize(options));
            WriteRunInfo(runDirectory, options, math);
            state = new RunnerState(0, [], Next(0, t.LogInterval), Next(0, t.EvalInterval), Next(0, t.CheckpointInterval), 0, null, 0);
        }

        var window = new Queue<double>(state.RecentReturns);
        long episodes = state.Episodes, nextLog = state.NextLog, nextEval = state.NextEval, nextCheckpoint = state.NextCheckpoint;
        long evaluations = state.Evaluations, iterations = state.Iterations;
        long? solvedAt = state.SolvedAtStep;
        double? solvedSeconds = null, solvedCpu = null;
        var process = Process.GetCurrentProcess();
        var cpuStart = process.TotalProcessorTime;
        double Cpu() { process.Refresh(); return (process.TotalProcessorTime - cpuStart).TotalSeconds; }
        var sums = new SortedDictionary<string, double>(StringComparer.Ordinal);
        var counts = new Dictionary<string, int>();
        var episodeReturns = new List<double>();
        var episodeLengths = new List<int>();
        EvaluationReport? lastEval = null;
        string lastCheckpoint = "";
        var clock = Stopwatch.StartNew();
        long startStep = algorithm.Steps, rowStartStep = algorithm.Steps;
        double rowStartTime = 0;

        using var metrics = new StreamWriter(metricsPath, append: true, new UTF8Encoding(false));
        RunnerState Snapshot() => new(episodes, window.ToArray(), nextLog, nextEval, nextCheckpoint, evaluations, solvedAt, iterations);

        while (algorithm.Steps < t.TotalSteps && !cancellation.IsCancellationRequested)
        {
            // Episodes started in this iteration are acted by the weights of this step (the checkpoint of that id, when one was written).
            if (recorders is not null) recorders.CheckpointId = Checkpoint.IdAt(algorithm.Steps);
            var iterationMetrics = algorithm.Iterate(t.TotalSteps);
            iterations++;
            foreach (var (k, v) in iterationMetrics)
            {
                if (double.IsNaN(v)) continue;
                sums[k] = sums.GetValueOrDefault(k) + v;
                counts[k] = counts.GetValueOrDefault(k) + 1;
            }
            foreach (var e in algorithm.Collector.DrainEpisodes())
            {
                episodes++;
                episodeReturns.Add(e.Return);
                episodeLengths.Add(e.Length);
                window.Enqueue(e.Return);
                if (window.Count > t.ReturnWindow) window.Dequeue();
            }
            double? rolling = window.Count > 0 ? window.Average() : null;
            long step = algorithm.Steps;
            if (solvedAt is null && t.StopAtMeanReturn is double goal && window.Count >= t.ReturnWindow && rolling >= goal)
            {
                solvedAt = step;
                solvedSeconds = clock.Elapsed.TotalSeconds;
                solvedCpu = Cpu();
            }
            bool done = step >= t.TotalSteps || (solvedAt is not null && t.StopAtMeanReturn is not null);

            Dictionary<string, double>? evalRow = null;
            if ((t.EvalInterval > 0 && step >= nextEval) || done)
            {
                lastEval = EvaluateNow(algorithm, options, evaluations++, step, options.Recording?.IncludeEvaluations == true ? recorders : null);
                evalRow = new Dictionary<string, double>
                {
                    ["mean"] = lastEval.Summary.Mean.Value,
                    ["median"] = lastEval.Summary.Median.Value,
                    ["iqm"] = lastEval.Summary.InterquartileMean.Value,
                    ["iqm_lower"] = lastEval.Summary.InterquartileMean.Lower,
                    ["iqm_upper"] = lastEval.Summary.InterquartileMean.Upper,
                };
                nextEval = Next(step, t.EvalInterval);
            }
            if (step >= nextLog || done || evalRow is not null)
            {
                double now = clock.Elapsed.TotalSeconds;
                WriteRow(metrics, step, iterations, episodes, episodeReturns, episodeLengths, rolling, sums, counts, evalRow,
                    now, (step - rowStartStep) / Math.Max(1e-9, now - rowStartTime));
                sums.Clear();
                counts.Clear();
                episodeReturns.Clear();
                episodeLengths.Clear();
                rowStartStep = step;
                rowStartTime = now;
                nextLog = Next(step, t.LogInterval);
            }
            if ((t.CheckpointInterval > 0 && step >= nextCheckpoint) || done)
            {
                nextCheckpoint = Next(step, t.CheckpointInterval);
                metrics.Flush();
                lastCheckpoint = Checkpoint.Write(runDirectory, options, algorithm, Snapshot());
            }
            progress?.Invoke(new TrainingProgress(step, t.TotalSteps, episodes, clock.Elapsed, rolling,
                (step - startStep) / Math.Max(1e-9, clock.Elapsed.TotalSeconds), lastEval?.Summary));
            if (done) break;
        }
        if (cancellation.IsCancellationRequested)
        {
            metrics.Flush();
            lastCheckpoint = Checkpoint.Write(runDirectory, options, algorithm, Snapshot());
        }
        return new TrainingResult(runDirectory, algorithm.Steps, clock.Elapsed.TotalSeconds, solvedAt, solvedSeconds, lastEval, lastCheckpoint, Cpu(), solvedCpu);
    }

    /// <summary>The first multiple of <paramref name="interval"/> above <paramref name="step"/> (every iteration when 0).</summary>
    private static long Next(long step, long interval) => interval <= 0 ? (interval == 0 ? step + 1 : long.MaxValue) : (step / interval + 1) * interval;

    /// <summary>
    /// Greedy evaluation number <paramref name="index"/> at <paramref name="step"/>. With
    /// <paramref name="training"/> (the run's recorder group), its episodes go to the same log with
    /// phase <c>eval</c> and the checkpoint id of <paramref name="step"/>, numbered after the training episodes.
    /// </summary>
    private static EvaluationReport EvaluateNow(IAlgorithm algorithm, ExperimentOptions options, long index, long step, EpisodeRecorderGroup? training)
    {
        int episodes = options.Training.EvalEpisodes;
        var recorders = training?.CreateSibling();
        if (recorders is not null)
        {
            recorders.Phase = "eval";
            recorders.Evaluation = true;
            recorders.CheckpointId = Checkpoint.IdAt(step);
        }
        using var env = AgentFactory.MakeEnv(options, Math.Min(episodes, 16), recorders);
        ulong seed = unchecked((ulong)options.Seed);
        long evalSeed = unchecked((long)Rng.DeriveSeed(seed, "eval", index));
        algorithm.Policy.eval();
        var (returns, lengths) = Evaluator.RunEpisodes(algorithm.Policy, env, episodes, evalSeed, ActionSelection.Greedy, recorders);
        algorithm.Policy.train();
        var summary = EvaluationStatistics.Summarize(returns, new Rng(Rng.DeriveSeed(seed, "bootstrap", index)));
        return new EvaluationReport(null, step, evalSeed, returns, lengths, summary);
    }

    private static void WriteRow(StreamWriter output, long step, long iteration, long episodes, List<double> returns, List<int> lengths, double? rolling,
        SortedDictionary<string, double> sums, Dictionary<string, int> counts, Dictionary<string, double>? eval, double seconds, double sps)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("step", step);
            w.WriteNumber("iteration", iteration);
            w.WriteNumber("episodes", episodes);
            w.WriteNumber("episodes_in_row", returns.Count);
            Number(w, "episode_return_mean", returns.Count > 0 ? returns.Average() : null);
            Number(w, "episode_length_mean", lengths.Count > 0 ? lengths.Average() : null);
            Number(w, "rolling_return", rolling);
            foreach (var (k, v) in sums) Number(w, k, v / counts[k]);
            if (eval is not null)
            {
                w.WriteStartObject("eval");
                foreach (var (k, v) in eval) Number(w, k, v);
                w.WriteEndObject();
            }
            w.WriteStartObject("wall");
            w.WriteNumber("time_s", Math.Round(seconds, 3));
            w.WriteNumber("sps", Math.Round(sps, 1));
            w.WriteEndObject();
            w.WriteEndObject();
        }
        output.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static void Number(Utf8JsonWriter w, string name, double? value)
    {
        if (value is double v && double.IsFinite(v)) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }

    private static void TruncateMetrics(string path, long step)
    {
        if (!File.Exists(path)) return;
        var kept = File.ReadLines(path).Where(line =>
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.GetProperty("step").GetInt64() <= step;
        }).ToList();
        AtomicFile.WriteText(path, string.Concat(kept.Select(l => l + "\n")));
    }

    private static void WriteRunInfo(string runDirectory, ExperimentOptions options, LanguageModel.ReproducibleMathStatus math)
    {
        string Version(Assembly a) => a.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? a.GetName().Version?.ToString() ?? "unknown";
        var info = new Dictionary<string, object?>
        {
            ["name"] = options.Name,
            ["seed"] = options.Seed,
            ["algorithm"] = JsonNamingPolicy.CamelCase.ConvertName(options.Algorithm.Kind.ToString()),
            ["env"] = options.Env.Plugin ?? options.Env.Id,
            ["started"] = DateTime.UtcNow.ToString("O"),
            ["reproducibleMath"] = math.Active,
            ["versions"] = new Dictionary<string, string>
            {
                ["rlagents"] = Version(typeof(TrainingRunner).Assembly),
                ["torchsharp"] = Version(typeof(torch).Assembly),
                ["dotnet"] = Environment.Version.ToString(),
                ["os"] = RuntimeInformation.OSDescription,
                ["torchThreads"] = options.Training.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
        };
        AtomicFile.WriteText(Path.Combine(runDirectory, "run.json"), JsonSerializer.Serialize(info, OptionsBinder.JsonOptions));
    }
}
