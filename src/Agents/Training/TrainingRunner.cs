using System.Diagnostics;
using System.Text.Json;
using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Collection;
using RLAgents.Agents.Evaluation;
using RLAgents.Agents.Phases;
using RLAgents.Core;
using RLAgents.Core.Metrics;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.Wrappers;
using RLAgents.EpisodeLogs;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.Policies;
using RLAgents.Policies.Selection;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Agents.Training;

/// <summary>What the runner is doing, reported after each RL iteration, SFT log interval and evaluation (for a progress line or a logger).</summary>
/// <param name="Phase">Index of the running phase in the schedule.</param>
/// <param name="Phases">Length of the schedule.</param>
/// <param name="PhaseName">The phase's label.</param>
/// <param name="Kind">The phase's algorithm.</param>
/// <param name="Stage">What the phase is doing: <c>training</c>, <c>demonstrations</c> or <c>evaluation</c>.</param>
/// <param name="Done">Progress of the stage: env steps of the phase, updates, or episodes.</param>
/// <param name="Total">The stage's total in the same unit.</param>
/// <param name="EnvSteps">Env steps of the run so far.</param>
/// <param name="Episodes">Env episodes of the run so far.</param>
/// <param name="Elapsed">Wall-clock time of this process's work.</param>
/// <param name="RollingReturn">Mean of the latest training returns, or null before any episode ended.</param>
/// <param name="RollingSuccess">Success rate of the latest training episodes, where the env reports success.</param>
/// <param name="LastEvaluation">The latest evaluation, if any.</param>
public sealed record RunProgress(int Phase, int Phases, string PhaseName, AlgorithmKind Kind, string Stage, long Done, long Total,
    long EnvSteps, long Episodes, TimeSpan Elapsed, double? RollingReturn, double? RollingSuccess, EvaluationSummary? LastEvaluation);

/// <summary>The outcome of <see cref="TrainingRunner.Run"/>.</summary>
/// <param name="RunDirectory">Where everything was written.</param>
/// <param name="EnvSteps">Env steps over all phases (and resumes).</param>
/// <param name="EnvEpisodes">Env episodes over all phases.</param>
/// <param name="Demonstrations">Demonstration episodes used.</param>
/// <param name="Seconds">Wall-clock seconds over all resumes.</param>
/// <param name="ProcessSeconds">Wall-clock seconds of this call.</param>
/// <param name="ProcessEnvSteps">Env steps taken by this call.</param>
/// <param name="CpuSeconds">Processor time this call used (all threads): a load-independent cost on shared machines.</param>
/// <param name="SolvedAtStep">First env step at which the rolling training return reached <see cref="TrainingOptions.StopAtMeanReturn"/>.</param>
/// <param name="SolvedAtSeconds">This call's seconds at that step.</param>
/// <param name="SolvedAtCpuSeconds">This call's processor time at that step.</param>
/// <param name="FinalEvaluation">The last evaluation.</param>
/// <param name="Phases">The finished phases.</param>
/// <param name="FinalCheckpoint">The last checkpoint's weights file.</param>
/// <param name="Stopped">A stop criterion ended the schedule early.</param>
/// <param name="Interrupted">A stop request ended this call before the schedule did; <c>--resume</c> continues it.</param>
/// <param name="AlreadyFinished">Resumed a run that had nothing left to do; nothing ran.</param>
public sealed record RunResult(string RunDirectory, long EnvSteps, long EnvEpisodes, long Demonstrations, double Seconds, double ProcessSeconds,
    long ProcessEnvSteps, double CpuSeconds, long? SolvedAtStep, double? SolvedAtSeconds, double? SolvedAtCpuSeconds, EvaluationSummary? FinalEvaluation,
    IReadOnlyList<PhaseResult> Phases, string? FinalCheckpoint, bool Stopped, bool Interrupted, bool AlreadyFinished)
{
    /// <summary>Env steps per second of this call.</summary>
    public double StepsPerSecond => ProcessEnvSteps / Math.Max(ProcessSeconds, 1e-9);
}

/// <summary>
/// The one runner: trains an experiment, a schedule of RL and SFT phases on one agent (a plain
/// experiment is a schedule of one phase), into a run directory of one format:
/// <c>config.json</c> (the resolved experiment), <c>run.json</c> (seed, versions, machine, MKL mode),
/// <c>metrics.jsonl</c> and a TensorBoard event file with the same rows (<see cref="RunMetrics"/>; snake_case keys; every row carries <c>step</c> = env steps, <c>update</c> = gradient
/// updates, the phase and <c>phase_step</c> = the phase's env steps or SFT updates; wall-clock figures under <c>wall</c>), <c>checkpoints/</c> (see <see cref="Checkpoint"/>)
/// and, when recording, <c>episodes.arrows</c>. Resuming continues at the latest checkpoint's phase and step.
/// Every phase derives its seeds from the run seed and its index. A plain class: hosts and tests call it directly.
/// </summary>
public static class TrainingRunner
{
    /// <summary>Name of the resolved-options file in a run directory.</summary>
    public const string ConfigFile = "config.json";

    /// <summary>Name of the run-information file in a run directory.</summary>
    public const string RunInfoFile = RunInfo.FileName;

    /// <summary>Name of the episode log in a run directory (when the experiment records episodes).</summary>
    public const string EpisodeLogFile = "episodes" + EpisodeLogFormat.FileExtension;

    /// <summary>The episode log of a run directory: <see cref="EpisodeLogFile"/>, or the <c>episodes.arrow</c> of a run started by an earlier build.</summary>
    public static string EpisodeLogPath(string runDirectory)
    {
        string legacy = Path.Combine(runDirectory, "episodes" + EpisodeLogFormat.LegacyFileExtension);
        string current = Path.Combine(runDirectory, EpisodeLogFile);
        return !File.Exists(current) && File.Exists(legacy) ? legacy : current;
    }

    /// <summary>Name of the metrics file in a run directory.</summary>
    public const string MetricsFile = MetricsWriter.FileName;

    /// <summary>
    /// Folder of a run directory holding each DAgger phase's episodes (reset seeds and applied actions, <c>phase-NNN.json</c>)
    /// when later phases keep earlier data, so that a resumed run can play them again.
    /// </summary>
    public const string DaggerFolder = "dagger";

    /// <summary>Reads an experiment file (comments allowed), applies <c>key.path=value</c> <paramref name="overrides"/>, binds it strictly and validates it.</summary>
    public static ExperimentOptions Load(string file, IEnumerable<string>? overrides = null)
    {
        var options = OptionsBinder.BindFile<ExperimentOptions>(file, overrides);
        options.Validate();
        return options;
    }

    /// <summary>The experiment a run directory was started with (for <c>--resume</c>); one line when the directory is not a run of this format.</summary>
    /// <exception cref="RunFormatException">No run, or an earlier run format.</exception>
    public static ExperimentOptions LoadRunConfig(string runDirectory)
    {
        if (!Directory.Exists(runDirectory)) throw new RunFormatException($"run directory '{runDirectory}' does not exist");
        if (Checkpoint.ForeignFormat(runDirectory) is { } foreign) throw new RunFormatException(foreign);
        string config = Path.Combine(runDirectory, ConfigFile);
        if (!File.Exists(config)) throw new RunFormatException($"'{runDirectory}' is not a run directory (no {ConfigFile})");
        return Load(config);
    }

    /// <summary>
    /// Trains <paramref name="options"/> into <paramref name="runDirectory"/>; with <paramref name="resume"/>, continues
    /// from its latest checkpoint exactly: a mid-phase checkpoint holds the envs' episodes in progress, the generators,
    /// the partial metric sums, the replay buffer and the recorders' open episodes, so the resumed run writes the same
    /// metrics rows, checkpoints and episode log as an uninterrupted one (metrics rows and episodes written after the
    /// checkpoint belong to the abandoned timeline and are removed; a run killed before its first checkpoint starts
    /// over). A stop request on <paramref name="cancellation"/> (Ctrl+C, a time budget) is honoured at the next RL
    /// iteration or phase boundary once this call has done some work (an SFT phase is never cut short): the run
    /// evaluates, writes a checkpoint that <paramref name="resume"/> continues from, and returns with
    /// <see cref="RunResult.Interrupted"/> set. An environment fault or a non-finite value stops the run with a
    /// <see cref="TrainingFaultException"/> (the run keeps its last good checkpoint); a run that fails before writing
    /// anything leaves no directory behind. <paramref name="notice"/> hears what the user should know (a fallback, a
    /// repaired episode log, a resume that cannot be exact). With <paramref name="experience"/>, RL phases learn from the
    /// sources it supplies (e.g. rollout workers in other processes) instead of envs stepped here; everything else
    /// (update rules, evaluations, checkpoints, metrics) is the same.
    /// </summary>
    /// <remarks>
    /// A libtorch error inside a phase (TorchSharp's <see cref="System.Runtime.InteropServices.ExternalException"/>)
    /// stops the run like any fault; when the run has a checkpoint and learns from its own envs, it resumes from that
    /// checkpoint in the same call, up to <see cref="NativeFaultRetries"/> times, telling <paramref name="notice"/>. A
    /// resume is exact, so the finished run is the one an uninterrupted run writes. Why: TorchSharp 0.107 frees a
    /// <c>Scalar</c> in its finalizer, and an implicitly converted one (<c>x.add(1e-8)</c>, the alpha of every
    /// <c>add</c>) can be finalized while libtorch still reads it; libtorch then rejects the garbage ("Expected false
    /// to be true" from <c>Scalar::toFloat</c>), once in hours of training. A deterministic error fails again and
    /// surfaces after the retries.
    /// </remarks>
    public static RunResult Run(ExperimentOptions options, string runDirectory, bool resume = false,
        Action<RunProgress>? progress = null, CancellationToken cancellation = default, Action<string>? notice = null,
        IExperienceSourceFactory? experience = null)
    {
        for (int retry = 1; ; retry++)
        {
            try
            {
                return RunOnce(options, runDirectory, resume, progress, cancellation, notice, experience);
            }
            catch (TrainingFaultException e) when (e.InnerException is System.Runtime.InteropServices.ExternalException
                && e.LastCheckpoint is not null && experience is null && retry <= NativeFaultRetries && !cancellation.IsCancellationRequested)
            {
                notice?.Invoke($"{e.Message}; resuming from it (retry {retry} of {NativeFaultRetries})");
                resume = true;
            }
        }
    }

    /// <summary>How many times <see cref="Run"/> resumes a run from its last checkpoint after a libtorch error in one call.</summary>
    public const int NativeFaultRetries = 3;

    private static RunResult RunOnce(ExperimentOptions options, string runDirectory, bool resume, Action<RunProgress>? progress,
        CancellationToken cancellation, Action<string>? notice, IExperienceSourceFactory? experience)
    {
        options.Validate();
        AgentFactory.ResolveEnvironment(options, notice);
        var math = LanguageModel.ReproducibleMath.Ensure();
        _ = LanguageModel.NativeHeap.Apply();
        torch.set_num_threads(options.Training.Threads);
        var schedule = options.Schedule;

        Checkpoint? checkpoint = null;
        if (resume)
        {
            if (!Directory.Exists(runDirectory)) throw new RunFormatException($"run directory '{runDirectory}' does not exist");
            if (Checkpoint.ForeignFormat(runDirectory) is { } foreign) throw new RunFormatException(foreign);
            // Damage a resume would refuse is found before anything in the run directory changes.
            MetricsWriter.CheckResumable(Path.Combine(runDirectory, MetricsFile));
            // A kill mid-write leaves temporary files and a checkpoint latest.json never named: the resumed timeline writes it again.
            Checkpoint.RemoveAbandoned(runDirectory);
            if (Checkpoint.Exists(runDirectory)) checkpoint = Checkpoint.Load(runDirectory);
            else if (File.Exists(Path.Combine(runDirectory, MetricsFile)) && new FileInfo(Path.Combine(runDirectory, MetricsFile)).Length > 0)
                notice?.Invoke($"'{runDirectory}' has no checkpoint yet (it stopped before its first): the run starts over from step 0");
        }
        else if (File.Exists(Path.Combine(runDirectory, MetricsFile)) || Checkpoint.Exists(runDirectory))
        {
            throw new InvalidOperationException($"'{runDirectory}' already holds a run; resume it or choose another directory.");
        }
        if (checkpoint is not null && checkpoint.State.Finished(schedule.Count))
        {
            checkpoint.DisposeTensors();
            var s = checkpoint.State;
            // A run killed after its last checkpoint, before it closed its episode log, left the log without Arrow's
            // end-of-stream marker (or with a torn last message): close it at the checkpoint's offset as the run would have.
            // A cleanly closed log comes out byte for byte the same.
            if (options.Recording is not null && s.EpisodeLog is { } position && File.Exists(EpisodeLogPath(runDirectory)))
            {
                using var log = AgentFactory.OpenEpisodeLog(options, EpisodeLogPath(runDirectory), append: true, out var repair, position.Bytes);
                if (repair is not null) notice?.Invoke(repair.ToString());
            }
            return new RunResult(runDirectory, s.EnvSteps, s.EnvEpisodes, s.Demonstrations, s.Seconds, 0, 0, 0, s.Runner.SolvedAtStep, null, null,
                s.Completed.LastOrDefault()?.Evaluation, s.Completed, checkpoint.WeightsPath, s.Stopped, Interrupted: false, AlreadyFinished: true);
        }

        // Built first: env options only the built env can check (e.g. env.memory.modalities) fail before the run directory exists.
        var paraphrases = options.Training.Paraphrases is { } table ? ParaphraseTable.Load(table) : null;
        using var probe = Faults(() => AgentFactory.MakeEnv(options, 1));
        RequireExpert(options);
        using var agent = AgentFactory.CreateAgent(options, probe);
        // A run without a checkpoint yet starts from initFrom's weights (a resume before the first checkpoint starts over).
        if (checkpoint is null && options.InitFrom is { } initFrom) InitializeFrom(agent, initFrom);
        bool created = !Directory.Exists(runDirectory);
        Directory.CreateDirectory(runDirectory);
        try
        {
            return RunIn(options, runDirectory, resume, checkpoint, agent, paraphrases, math, progress, cancellation, notice, experience);
        }
        catch
        {
            // A fresh run that failed before writing a metrics row or a checkpoint leaves nothing behind.
            if (created && !resume && !Checkpoint.Exists(runDirectory)
                && (!File.Exists(Path.Combine(runDirectory, MetricsFile)) || new FileInfo(Path.Combine(runDirectory, MetricsFile)).Length == 0))
                Directory.Delete(runDirectory, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// Phases that ask the environment's expert for episodes (bot demonstrations, DAgger labels, DQfD demonstrations) need an
    /// env that has one: otherwise a configuration error naming the first such key, before the run directory exists.
    /// </summary>
    private static void RequireExpert(ExperimentOptions options)
    {
        var schedule = options.Schedule;
        string? key = null;
        for (int i = 0; i < schedule.Count && key is null; i++)
        {
            var (p, path) = (schedule[i], options.Phases is { } phases ? $"phases[{i % phases.Length}]" : "algorithm");
            if (p.Kind == AlgorithmKind.Sft && p.Sft.ExpertEpisodes > 0) key = $"{path}.sft.expertEpisodes";
            else if (p.Kind == AlgorithmKind.Sft && p.Sft.DaggerEpisodes > 0) key = $"{path}.sft.daggerEpisodes";
            else if (p.Kind == AlgorithmKind.Dqn && p.Dqn.Demonstrations.ExpertEpisodes > 0) key = $"{path}.dqn.demonstrations.expertEpisodes";
        }
        if (key is null) return;
        using var env = AgentFactory.MakeSingleEnv(options);
        if (env.Find<IExpertEnv>() is null)
            throw new ConfigurationException(key, $"{env.Id} has no expert to play or label episodes (it does not implement {nameof(IExpertEnv)}); use demonstrationsFile instead");
    }

    /// <summary>
    /// Loads the policy weights of the checkpoint at <paramref name="path"/> (<see cref="ExperimentOptions.InitFrom"/>) into
    /// <paramref name="agent"/> and makes them the KL anchor's reference; any problem is a configuration error naming the key.
    /// </summary>
    private static void InitializeFrom(Agent agent, string path)
    {
        Checkpoint source;
        try
        {
            source = Checkpoint.Load(path);
        }
        catch (Exception e) when (e is RunFormatException or CheckpointException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new ConfigurationException("initFrom", e.Message);
        }
        try
        {
            ModelWeights.Load(agent.Policy, source.Tensors, source.WeightsPath, _ => true, "policy.");
        }
        catch (CheckpointException e)
        {
            throw new ConfigurationException("initFrom", $"{e.Message} The checkpoint's policy is built differently from this run's (policy options, env spaces).");
        }
        finally
        {
            source.DisposeTensors();
        }
        agent.SnapshotReference();
    }

    // An env that faults while it is built (a plug-in constructor, its first reset) is a fault, not a crash.
    private static T Faults<T>(Func<T> build)
    {
        try
        {
            return build();
        }
        catch (EnvFaultException e)
        {
            throw new TrainingFaultException($"the environment cannot be used: {e.Message}", 0, null, e);
        }
    }

    private static RunResult RunIn(ExperimentOptions options, string runDirectory, bool resume, Checkpoint? checkpoint, Agent agent, ParaphraseTable? paraphrases,
        LanguageModel.ReproducibleMathStatus math, Action<RunProgress>? progress, CancellationToken cancellation, Action<string>? notice,
        IExperienceSourceFactory? experience)
    {
        var schedule = options.Schedule;
        RunMetrics metrics;
        if (checkpoint is null)
        {
            AtomicFile.WriteText(Path.Combine(runDirectory, ConfigFile), OptionsBinder.Serialize(options));
            RunInfo.Write(runDirectory, Checkpoint.Format, "training", options.Name, options.Seed, new Dictionary<string, object?>
            {
                ["env"] = options.Env.Id,
                ["plugin"] = options.Env.Plugin,
                ["phases"] = schedule.Select((p, i) => p.Label(i)).ToArray(),
                ["reproducibleMath"] = math.Active,
                ["mathMode"] = math.Description,
                ["torchThreads"] = options.Training.Threads,
                ["nativeHeap"] = LanguageModel.NativeHeap.Apply(),
            }, [typeof(torch).Assembly]);
            // A resumed run without a checkpoint (killed before its first) starts over: nothing of it is kept.
            bool tensorBoard = options.Training.TensorBoard;
            metrics = resume ? RunMetrics.Resume(runDirectory, _ => false, tensorBoard) : RunMetrics.Create(runDirectory, tensorBoard);
        }
        else
        {
            var at = checkpoint.State;
            metrics = RunMetrics.Resume(runDirectory,
                row => row.GetProperty("step").GetInt64() <= at.EnvSteps && row.GetProperty("update").GetInt64() <= at.Runner.Updates,
                options.Training.TensorBoard);
            if (at.Algorithm is null) ModelWeights.Load(agent.Policy, checkpoint.Tensors, checkpoint.WeightsPath, _ => true, "policy.");
            if (at.HasReference)
            {
                agent.SnapshotReference();
                ModelWeights.Load(agent.Reference!, checkpoint.Tensors, checkpoint.WeightsPath, _ => true, "reference.");
            }
        }

        // The run's episode log (optional): the RL phases' episodes and, with includeEvaluations, their evaluations. On
        // resume it is cut back to where it stood at the checkpoint: the resumed timeline writes the rest again.
        string logPath = EpisodeLogPath(runDirectory);
        EpisodeLogRepair? repair = null;
        using var episodeLog = options.Recording is null ? null
            : AgentFactory.OpenEpisodeLog(options, logPath, append: checkpoint is not null && File.Exists(logPath), out repair, checkpoint?.State.EpisodeLog?.Bytes);
        if (repair is not null) notice?.Invoke(repair.ToString());
        using (metrics)
        {
            var run = new RunContext(options, runDirectory, agent, checkpoint?.State, checkpoint?.Id, metrics, progress, cancellation, notice)
            {
                Experience = experience,
                EpisodeLog = episodeLog,
                Recorders = episodeLog is null ? null : new EpisodeRecorderGroup(episodeLog, options.Recording),
                Paraphrases = paraphrases,
            };
            if (checkpoint?.State.EpisodeLog is { } position && run.Recorders is { } group) group.PrepareRestore(new RecorderGroupState(position.LastIndex, []));
            try
            {
                while (!run.Stopped && !run.Interrupted && run.Phase < schedule.Count)
                {
                    // Between phases the latest checkpoint is the one the previous phase ended with: nothing to save.
                    if (run.WorkDone && cancellation.IsCancellationRequested) { run.Interrupted = true; break; }
                    var phase = schedule[run.Phase];
                    try
                    {
                        if (phase.Kind == AlgorithmKind.Sft) run.RunSft(phase);
                        else run.RunRl(phase, checkpoint);
                    }
                    catch (EnvFaultException e)
                    {
                        throw run.Fault(e.Message, e);
                    }
                    catch (System.Runtime.InteropServices.ExternalException e)
                    {
                        // libtorch's own message starts with the problem and goes on with a native stack trace.
                        string first = e.Message.Split('\n', 2)[0].Trim();
                        throw run.Fault($"libtorch failed: {first}", e);
                    }
                    checkpoint?.DisposeTensors();
                    checkpoint = null;
                }
            }
            finally
            {
                checkpoint?.DisposeTensors();
            }
            return run.Result();
        }
    }

    /// <summary>The mutable state of one call to <see cref="Run"/>.</summary>
    private sealed class RunContext(ExperimentOptions options, string runDirectory, Agent agent, RunState? state, string? resumedId, RunMetrics metrics,
        Action<RunProgress>? progress, CancellationToken cancellation, Action<string>? notice)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Process _process = Process.GetCurrentProcess();
        private readonly TimeSpan _cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        private readonly ulong _seed = unchecked((ulong)options.Seed);
        private readonly IReadOnlyList<PhaseOptions> _schedule = options.Schedule;
        private readonly double _secondsBefore = state?.Seconds ?? 0;
        private readonly long _envStepsBefore = state?.EnvSteps ?? 0;
        private readonly List<PhaseResult> _completed = [.. state?.Completed ?? []];
        private readonly Queue<double> _returns = new(state?.Runner.RecentReturns ?? []);
        private readonly Queue<bool?> _successes = new(state?.Runner.RecentSuccesses ?? []);
        private RunnerState _runner = state?.Runner ?? new RunnerState([], [], 0, 0, 0, 0, 0, null);
        private readonly bool _resumed = state is not null;
        private DemonstrationSet? _earlier;
        private TaskCurriculum? _curriculum;
        private EvaluationReport? _lastEvaluation;
        private string? _lastCheckpoint;
        // The newest checkpoint on disk (written by this call or resumed from): what a fault leaves the run with.
        private string? _goodCheckpoint = resumedId;
        private bool _inexactNoted;
        // Normalisation statistics (env.normalizeObservation / normalizeReward): of the running phase's envs while
        // one runs (_trainingEnv), otherwise as the last phase or the resumed checkpoint left them.
        private NormalizationStatistics? _normalization = state?.Normalization;
        private IVectorEnv? _trainingEnv;
        // The metrics of the RL iterations since the last row (saved with mid-phase checkpoints, so a resumed row averages the same).
        private readonly SortedDictionary<string, double> _rowSums = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, int> _rowCounts = new(StringComparer.Ordinal);
        private readonly List<double> _rowReturns = [];
        private readonly List<int> _rowLengths = [];
        private double? _solvedSeconds, _solvedCpu;

        // The phase that last changed the weights: the running one once it has updated, else the one before.
        // Checkpoint ids name it, so the id an episode records is the id its weights were (or will be) saved under.
        private int _weightsPhase = state is null ? 0 : state.Algorithm is not null ? state.Phase : Math.Max(0, state.Phase - 1);

        /// <summary>The run's recorder group (null when nothing is recorded); every RL phase and evaluation records through it or a sibling.</summary>
        public EpisodeRecorderGroup? Recorders { get; init; }

        /// <summary>The supplier of RL phases' experience, or null to step envs here.</summary>
        public IExperienceSourceFactory? Experience { get; init; }

        /// <summary>The run's episode log (null when nothing is recorded); checkpoints save where it stands.</summary>
        public EpisodeLogWriter? EpisodeLog { get; init; }

        /// <summary>The exception that stops the run at <paramref name="step"/> (default: the current step) on <paramref name="problem"/>.</summary>
        public TrainingFaultException Fault(string problem, Exception? inner, long? step = null)
        {
            long at = step ?? EnvSteps;
            string where = Phase < _schedule.Count ? $"{_schedule[Phase].Label(Phase)}, update {_runner.Updates}" : $"update {_runner.Updates}";
            string kept = _goodCheckpoint is { } id ? $"the run keeps its last good checkpoint {id}, which resume continues from" : "no checkpoint was written yet";
            return new TrainingFaultException($"training stopped at env step {at} ({where}): {problem.TrimEnd('.')}; {kept}", at, _goodCheckpoint, inner);
        }

        /// <summary>The table counted evaluations also play reworded missions with (<see cref="TrainingOptions.Paraphrases"/>), or null.</summary>
        public ParaphraseTable? Paraphrases { get; init; }

        public int Phase { get; private set; } = state?.Phase ?? 0;
        public long EnvSteps { get; private set; } = state?.EnvSteps ?? 0;
        public long EnvEpisodes { get; private set; } = state?.EnvEpisodes ?? 0;
        public long Demonstrations { get; private set; } = state?.Demonstrations ?? 0;
        public bool Stopped { get; private set; } = state?.Stopped ?? false;
        public bool Interrupted { get; set; }

        /// <summary>This call finished an SFT phase or an RL iteration, so a stop request may now be honoured.</summary>
        public bool WorkDone { get; private set; }

        private double Seconds => _secondsBefore + _clock.Elapsed.TotalSeconds;
        private string CheckpointId => Checkpoint.IdAt(_weightsPhase, EnvSteps);
        private double? RollingReturn => _returns.Count > 0 ? _returns.Average() : null;
        // Envs that set IsSuccess only on success leave the other episodes null: once any episode reports, null counts as a failure.
        private double? RollingSuccess => _successes.Any(s => s is not null) ? _successes.Count(s => s == true) / (double)_successes.Count : null;

        private double Cpu()
        {
            _process.Refresh();
            return (_process.TotalProcessorTime - _cpuStart).TotalSeconds;
        }

        public RunResult Result() => new(runDirectory, EnvSteps, EnvEpisodes, Demonstrations, Seconds, _clock.Elapsed.TotalSeconds, EnvSteps - _envStepsBefore, Cpu(),
            _runner.SolvedAtStep, _solvedSeconds, _solvedCpu, _lastEvaluation?.ToSummary() ?? _completed.LastOrDefault()?.Evaluation, _completed, _lastCheckpoint,
            Stopped, Interrupted, AlreadyFinished: false);

        public void RunRl(PhaseOptions phase, Checkpoint? resumeFrom)
        {
            double start = Seconds;
            var midPhase = resumeFrom?.State.Algorithm;
            var before = midPhase is null ? (EnvSteps, EnvEpisodes, Demonstrations) : PhaseStart();
            agent.SetTrainable(phase.Trainable);
            string label = phase.Label(Phase);
            var recorders = Recorders?.CreateSibling();
            if (recorders is not null)
            {
                recorders.Phase = label;
                recorders.CheckpointId = CheckpointId;
            }
            IExperienceSource source;
            IVectorEnv? env = null;
            if (Experience is null)
            {
                env = AgentFactory.MakeEnv(options, options.Env.NumEnvs, recorders);
                // A later phase, or a resume without the envs' state, continues the statistics where they stood.
                _normalization?.Restore(env);
                _trainingEnv = env;
                if (options.Env.Curriculum is { } curriculum)
                {
                    _curriculum ??= TaskCurriculum.For(curriculum, env, _runner.Curriculum);
                    _curriculum.Apply(env);
                }
                source = RolloutCollector.Started(env, agent.Policy, AgentFactory.CollectorRng(options, Phase),
                    unchecked((long)Rng.DeriveSeed(_seed, "env", Phase)));
            }
            else
            {
                source = Experience.Create(new ExperiencePhase(options, Phase, phase, agent.Policy, AgentFactory.CollectorRng(options, Phase),
                    midPhase is null ? EnvSteps : PhaseStart().Item1, midPhase is not null));
            }
            using var algorithm = AgentFactory.CreateAlgorithm(options, phase, Phase, agent, source);
            if (recorders is not null) algorithm.Collector.Recorders = recorders;
            var t = options.Training;
            ClearRow();
            if (midPhase is not null)
            {
                algorithm.LoadState(resumeFrom!.Tensors, midPhase, resumeFrom.WeightsPath);
                if (algorithm.CheckpointsReplay && resumeFrom.ReplayPath is { } replay)
                {
                    using var stream = File.OpenRead(replay);
                    algorithm.LoadReplay(stream, replay);
                }
                else if (algorithm.CheckpointsReplay)
                {
                    notice?.Invoke($"checkpoint {resumeFrom.Id} has no replay buffer beside it: DQN resumes with an empty one, so this run differs from an uninterrupted one from here on");
                }
                if (midPhase.Rollout is { } rollout)
                {
                    // The envs, their episodes in progress and the recorders' open episodes, as the checkpoint left them.
                    // The envs replay their episodes in progress under the saved statistics, frozen (the saved ones already
                    // count those observations, so the current observation comes out as it was); then the statistics and
                    // the reward wrappers' discounted returns are put back as saved and resume updating.
                    if (env is not null) _normalization?.Restore(env, frozen: true);
                    algorithm.Collector.RestoreState(rollout);
                    if (env is not null) _normalization?.Restore(env);
                }
                else
                {
                    // A checkpoint without the envs' state (an env that cannot save it): they restart, seeded from the step.
                    notice?.Invoke($"resuming at step {EnvSteps} without the envs' state: episodes in progress restart, so this run differs from an uninterrupted one from here on");
                    algorithm.Collector.Reset(unchecked((long)Rng.DeriveSeed(_seed, "env-resume", EnvSteps)));
                }
                if (_runner.Row is { } row)
                {
                    foreach (var (k, v) in row.Sums) _rowSums[k] = v;
                    foreach (var (k, c) in row.Counts) _rowCounts[k] = c;
                    _rowReturns.AddRange(row.Returns);
                    _rowLengths.AddRange(row.Lengths);
                }
            }
            else
            {
                _runner = _runner with { NextLog = Next(0, t.LogInterval), NextEval = Next(0, t.EvalInterval), NextCheckpoint = Next(0, t.CheckpointInterval) };
            }
            algorithm.Collector.CheckSteps = t.CheckEnvSteps;
            if (algorithm.Collector is RolloutCollector local) local.EnvReturns = options.Env.NormalizeReward is not null;
            // Demonstrations an RL algorithm replays (DQfD) count once, when the phase starts.
            if (midPhase is null) Demonstrations += algorithm.Demonstrations;
            long phaseStart = EnvSteps - algorithm.Steps, updatesBefore = _runner.Updates - algorithm.OptimizerSteps;
            long rowSteps = EnvSteps;
            double rowTime = _clock.Elapsed.TotalSeconds;
            EvaluationReport? phaseEvaluation = null;
            bool solved = false;
            while (algorithm.Steps < phase.Steps)
            {
                // Episodes started in this iteration are acted by the weights of this step (the checkpoint of that id, when one is written).
                if (recorders is not null) recorders.CheckpointId = CheckpointId;
                IReadOnlyDictionary<string, double> m;
                try
                {
                    m = algorithm.Iterate(phase.Steps);
                }
                catch (EnvFaultException e)
                {
                    // The vector step that faulted: the collector counts steps after each one.
                    throw Fault(e.Message, e, phaseStart + algorithm.Collector.Steps + algorithm.Collector.NumEnvs);
                }
                _weightsPhase = Phase;
                EnvSteps = phaseStart + algorithm.Steps;
                _runner = _runner with { Updates = updatesBefore + algorithm.OptimizerSteps };
                WorkDone = true;
                if (algorithm.NonFinite is { } nonFinite && t.NonFinite == NonFiniteMode.Stop)
                    throw Fault($"{nonFinite} (the update was not applied; training.nonFinite: skipUpdate would skip such updates and count them)", null);
                foreach (var (k, v) in m)
                {
                    if (double.IsNaN(v)) continue;
                    _rowSums[k] = _rowSums.GetValueOrDefault(k) + v;
                    _rowCounts[k] = _rowCounts.GetValueOrDefault(k) + 1;
                }
                foreach (var e in algorithm.Collector.DrainEpisodes())
                {
                    EnvEpisodes++;
                    _rowReturns.Add(e.Return);
                    _rowLengths.Add(e.Length);
                    Push(_returns, e.Return);
                    Push(_successes, e.Success);
                    _curriculum?.Observe(e);
                }
                if (_curriculum?.TryAdvance() == true && env is not null) _curriculum.Apply(env);
                if (_runner.SolvedAtStep is null && t.StopAtMeanReturn is double goal && _returns.Count >= t.ReturnWindow && RollingReturn >= goal)
                {
                    _runner = _runner with { SolvedAtStep = EnvSteps };
                    (_solvedSeconds, _solvedCpu) = (_clock.Elapsed.TotalSeconds, Cpu());
                    solved = true;
                }
                bool last = algorithm.Steps >= phase.Steps;
                // Reported before the stop check, so a progress handler's stop request takes effect at this very step.
                Report(phase, "training", algorithm.Steps, phase.Steps);
                // A stop request mid-phase: checkpoint below, and evaluate what the run reached for the caller only (no
                // metrics row, its own seed stream), so a resumed run writes exactly what an uninterrupted one would.
                bool interrupt = !last && !solved && cancellation.IsCancellationRequested;
                EvaluationReport? evaluation = null;
                if ((t.EvalInterval > 0 && algorithm.Steps >= _runner.NextEval) || last || solved)
                {
                    evaluation = phaseEvaluation = Evaluate(label);
                    _runner = _runner with { NextEval = Next(algorithm.Steps, t.EvalInterval) };
                    if (evaluation.SuccessRate >= t.StopAtSuccessRate) Stopped = true;
                }
                if (algorithm.Steps >= _runner.NextLog || evaluation is not null)
                {
                    double now = _clock.Elapsed.TotalSeconds;
                    var row = Row(phase, algorithm.Steps).Metric("episode_return_mean", _rowReturns.Count > 0 ? _rowReturns.Average() : null)
                        .Metric("episode_length_mean", _rowLengths.Count > 0 ? _rowLengths.Average() : null)
                        .Metric("rolling_return", RollingReturn).Metric("rolling_success", RollingSuccess)
                        .Metric("curriculum_tasks", _curriculum?.Active).Metrics(_curriculum?.Metrics() ?? [])
                        .Metrics(_rowSums.Select(p => KeyValuePair.Create(p.Key, p.Value / _rowCounts[p.Key])))
                        .Histogram("action_probability", algorithm.Collector.ActionProbabilities)
                        .Wall("sps", Math.Round((EnvSteps - rowSteps) / Math.Max(1e-9, now - rowTime), 1));
                    algorithm.Collector.ActionProbabilities.Clear();
                    WriteRow(WithEvaluation(row, evaluation));
                    ClearRow();
                    (rowSteps, rowTime) = (EnvSteps, now);
                    _runner = _runner with { NextLog = Next(algorithm.Steps, t.LogInterval) };
                }
                if (solved || Stopped) { Stopped = true; break; }
                // A scheduled checkpoint due at this step is the same whether or not a stop request came with it.
                bool due = !last && t.CheckpointInterval > 0 && algorithm.Steps >= _runner.NextCheckpoint;
                if (due) _runner = _runner with { NextCheckpoint = Next(algorithm.Steps, t.CheckpointInterval) };
                if (due || interrupt) WriteCheckpoint(algorithm);
                if (interrupt)
                {
                    Evaluate(label, counted: false);
                    Interrupted = true;
                    return;
                }
            }
            if (env is not null) _normalization = NormalizationStatistics.Capture(env) ?? _normalization;
            FinishPhase(phase, phaseEvaluation, start, before);
            _trainingEnv = null;
        }

        public void RunSft(PhaseOptions phase)
        {
            double start = Seconds;
            var before = (EnvSteps, EnvEpisodes, Demonstrations);
            agent.SetTrainable(phase.Trainable);
            var sft = phase.Sft;
            var space = agent.Policy.ObservationSpace;
            if (_resumed && _earlier is null && _schedule.Any(p => p.Kind == AlgorithmKind.Sft && p.Sft.KeepEarlierData)) _earlier = EarlierData(space);
            var data = new DemonstrationSet(space);
            if (sft.ExpertEpisodes > 0) Report(phase, "demonstrations", 0, sft.ExpertEpisodes);
            var given = AgentFactory.LoadDemonstrations(options, space, sft.ExpertEpisodes, sft.DemonstrationsFile, sft.FileEpisodes, Rng.DeriveSeed(_seed, "bot-demos", Phase), sft.Gamma,
                kept => Report(phase, "demonstrations", kept, sft.ExpertEpisodes));
            data.AddAll(given);
            Demonstrations += given.Episodes;
            if (sft.OwnEpisodes > 0)
            {
                Report(phase, "demonstrations", 0, sft.OwnEpisodes);
                using var env = AgentFactory.MakeEnv(options, options.Env.NumEnvs);
                var (own, ownSteps) = DemonstrationSet.FromOwnEpisodes(agent.Policy, env, sft.OwnEpisodes, sft.MinReturn, Rng.DeriveSeed(_seed, "own-episodes", Phase), sft.Gamma);
                data.AddAll(own);
                EnvSteps += ownSteps;
                EnvEpisodes += sft.OwnEpisodes;
            }
            var daggerMetrics = new Dictionary<string, double>();
            if (sft.DaggerEpisodes > 0)
            {
                Report(phase, "dagger episodes", 0, sft.DaggerEpisodes);
                var labelled = DemonstrationSet.FromExpertLabels(agent.Policy, () => AgentFactory.MakeActingEnv(options), options.Env.NumEnvs,
                    sft.DaggerEpisodes, sft.DaggerExpertFraction, Rng.DeriveSeed(_seed, "dagger", Phase), sft.Gamma);
                data.AddAll(labelled.Set);
                EnvSteps += labelled.Steps;
                EnvEpisodes += sft.DaggerEpisodes;
                daggerMetrics["dagger_agreement"] = labelled.Agreement;
                daggerMetrics["dagger_steps"] = labelled.Steps;
                daggerMetrics["dagger_expert_failures"] = labelled.ExpertFailures;
                // Later phases that keep this data need it again after a resume, when the weights that played it are gone.
                if (_schedule.Any(p => p.Kind == AlgorithmKind.Sft && p.Sft.KeepEarlierData))
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(DaggerFile(Phase))!);
                    AtomicFile.WriteText(DaggerFile(Phase), JsonSerializer.Serialize(labelled.Episodes));
                }
            }
            // Later phases may train on everything earlier SFT phases saw (e.g. demonstrations plus own successes).
            var training = data;
            if (sft.KeepEarlierData && _earlier is not null)
            {
                training = new DemonstrationSet(space);
                training.AddAll(_earlier);
                training.AddAll(data);
            }
            if (_schedule.Any(p => p.Kind == AlgorithmKind.Sft && p.Sft.KeepEarlierData))
            {
                _earlier ??= new DemonstrationSet(space);
                _earlier.AddAll(data);
            }
            var rng = new Rng(Rng.DeriveSeed(_seed, "sft", Phase));
            long updatesBefore = _runner.Updates;
            Dictionary<string, double>? final = null;
            _weightsPhase = Phase;
            BehaviourCloning.Train(agent.Policy, training, sft, rng, logEvery: Math.Max(1, sft.Updates / 10), (update, m) =>
            {
                _runner = _runner with { Updates = updatesBefore + update };
                var withData = new Dictionary<string, double>(m) { ["data_steps"] = training.Count, ["data_episodes"] = training.Episodes };
                foreach (var (k, v) in daggerMetrics) withData[k] = v;
                // The last update's row waits for the phase's evaluation: one row per step and update.
                if (update == sft.Updates) final = withData;
                else WriteRow(Row(phase, update).Metrics(withData));
                Report(phase, "training", update, sft.Updates);
            });
            WorkDone = true;
            agent.SnapshotReference();
            var evaluation = Evaluate(phase.Label(Phase));
            if (evaluation.SuccessRate >= options.Training.StopAtSuccessRate) Stopped = true;
            WriteRow(WithEvaluation(Row(phase, sft.Updates).Metrics(final ?? []), evaluation));
            FinishPhase(phase, evaluation, start, before);
        }

        /// <summary>
        /// The data the SFT phases completed before a resume drew, for later phases that keep it: bot
        /// episodes are seeded by their phase and files read alike, so drawing them again gives the same
        /// episodes, and DAgger episodes replay from the seeds and actions saved in <see cref="DaggerFolder"/>. Own
        /// episodes came from weights no longer at hand, so such a run cannot resume.
        /// </summary>
        /// <summary>Where phase <paramref name="phase"/>'s DAgger episodes (seeds and applied actions) are kept for a resume.</summary>
        private string DaggerFile(int phase) => Path.Combine(runDirectory, DaggerFolder, $"phase-{phase:D3}.json");

        private DemonstrationSet EarlierData(ObservationSpace space)
        {
            var earlier = new DemonstrationSet(space);
            for (int i = 0; i < Phase; i++)
            {
                var sft = _schedule[i].Sft;
                if (_schedule[i].Kind != AlgorithmKind.Sft) continue;
                string key = $"phases[{i % Math.Max(1, options.Phases?.Length ?? 1)}].sft";
                if (sft.OwnEpisodes > 0)
                    throw new ConfigurationException($"{key}.ownEpisodes",
                        $"phase {i} kept its own episodes for later phases (keepEarlierData), which a resumed run cannot draw again; start the run over");
                Report(_schedule[i], "demonstrations", 0, sft.ExpertEpisodes);
                earlier.AddAll(AgentFactory.LoadDemonstrations(options, space, sft.ExpertEpisodes, sft.DemonstrationsFile, sft.FileEpisodes, Rng.DeriveSeed(_seed, "bot-demos", i), sft.Gamma));
                if (sft.DaggerEpisodes == 0) continue;
                // DAgger episodes replay from their seeds and applied actions: the expert's labels follow from the states.
                string file = DaggerFile(i);
                if (!File.Exists(file))
                    throw new ConfigurationException($"{key}.daggerEpisodes", $"phase {i}'s DAgger episodes were not saved ({file} is missing), so a resumed run cannot draw them again; start the run over");
                Report(_schedule[i], "dagger episodes", 0, sft.DaggerEpisodes);
                List<DaggerEpisode>? played;
                try
                {
                    played = JsonSerializer.Deserialize<List<DaggerEpisode>>(File.ReadAllText(file));
                }
                catch (JsonException e)
                {
                    throw new InvalidDataException($"{file}: not the DAgger episodes this run saved (line {e.LineNumber + 1}, byte {e.BytePositionInLine} of it: {e.Message.Split(". ")[0]})", e);
                }
                if (played is null || played.Any(e => e is null || e.Applied is null)) throw new InvalidDataException($"{file}: an episode without its seed and actions");
                earlier.AddAll(DemonstrationSet.ReplayExpertLabels(() => AgentFactory.MakeActingEnv(options), space, played, sft.Gamma, file));
            }
            return earlier;
        }

        private void ClearRow()
        {
            _rowSums.Clear();
            _rowCounts.Clear();
            _rowReturns.Clear();
            _rowLengths.Clear();
        }

        // Resumed mid-phase: the phase began where the previous phase's record ended.
        private (long, long, long) PhaseStart() => (_completed.Sum(p => p.EnvSteps), _completed.Sum(p => p.EnvEpisodes), _completed.Sum(p => p.Demonstrations));

        /// <summary>
        /// Evaluates the current policy. Counted evaluations (the schedule's) draw their seed from the evaluation count and
        /// may be recorded; an uncounted one (at an interruption) draws from its step and leaves no trace in the run.
        /// </summary>
        private EvaluationReport Evaluate(string phaseLabel, bool counted = true)
        {
            var t = options.Training;
            var recorders = counted && options.Recording?.IncludeEvaluations == true ? Recorders?.CreateSibling() : null;
            if (recorders is not null)
            {
                recorders.Phase = "eval";
                recorders.Evaluation = true;
                recorders.CheckpointId = CheckpointId;
            }
            Report(_schedule[Phase], "evaluation", 0, t.EvalEpisodes);
            using var env = AgentFactory.MakeEnv(options, Math.Min(t.EvalEpisodes, Math.Max(options.Env.NumEnvs, 16)), recorders, evaluation: true);
            // Observations normalised as training normalises them now, without changing the statistics.
            (_trainingEnv is null ? _normalization : NormalizationStatistics.Capture(_trainingEnv))?.ApplyFrozen(env);
            long evalSeed = unchecked((long)(counted ? Rng.DeriveSeed(_seed, "eval", _runner.Evaluations) : Rng.DeriveSeed(_seed, "eval-interrupted", EnvSteps)));
            if (counted) _runner = _runner with { Evaluations = _runner.Evaluations + 1 };
            var selection = t.GreedyEvaluation || agent.Policy is QNetworkPolicy ? ActionSelection.Greedy : ActionSelection.Sample;
            agent.Policy.eval();
            var outcomes = Evaluator.RunEpisodes(agent.Policy, env, t.EvalEpisodes, evalSeed, selection, recorders,
                done => Report(_schedule[Phase], "evaluation", done, t.EvalEpisodes));
            // The same episode seeds with reworded missions (counted evaluations only: an interruption's leaves no trace).
            var paraphrased = Paraphrases is null || !counted ? null
                : Evaluator.RunParaphrased(agent.Policy, AgentFactory.MakeEnv(options, env.NumEnvs), Paraphrases, t.EvalEpisodes, evalSeed, selection, step: EnvSteps);
            agent.Policy.train();
            _lastEvaluation = EvaluationReport.Of(null, EnvSteps, evalSeed, outcomes) with { Paraphrased = paraphrased };
            if (_lastEvaluation.SuccessRate is null && t.StopAtSuccessRate is not null)
                throw new ConfigurationException("training.stopAtSuccessRate", $"{options.Env.Plugin ?? options.Env.Id} does not report success (StepInfo.IsSuccess); stop on training.stopAtMeanReturn instead");
            return _lastEvaluation;
        }

        private void FinishPhase(PhaseOptions phase, EvaluationReport? evaluation, double start, (long Steps, long Episodes, long Demos) before)
        {
            evaluation ??= _lastEvaluation ?? Evaluate(phase.Label(Phase));
            _completed.Add(new PhaseResult(Phase, phase.Label(Phase), phase.Kind, EnvSteps - before.Steps, EnvEpisodes - before.Episodes,
                Demonstrations - before.Demos, Seconds - start, evaluation.ToSummary()));
            Phase++;
            WorkDone = true;
            WriteCheckpoint(null);
        }

        // phase_step counts the phase's own progress: env steps in an RL phase, updates in an SFT phase.
        private MetricsRow Row(PhaseOptions phase, long phaseStep) => new MetricsRow()
            .Set("step", EnvSteps).Set("update", _runner.Updates)
            .Set("phase", phase.Label(Phase)).Set("phase_index", Phase).Set("kind", phase.Kind.ToString().ToLowerInvariant()).Set("phase_step", phaseStep)
            .Set("episodes", EnvEpisodes).Set("demonstrations", Demonstrations);

        private static MetricsRow WithEvaluation(MetricsRow row, EvaluationReport? e)
        {
            if (e is null) return row;
            var s = e.Summary;
            row.Metric("eval_return_mean", s.Mean.Value).Metric("eval_return_median", s.Median.Value)
                .Metric("eval_return_iqm", s.InterquartileMean.Value).Metric("eval_return_iqm_low", s.InterquartileMean.Lower).Metric("eval_return_iqm_high", s.InterquartileMean.Upper)
                .Metric("eval_length_mean", e.Outcomes.Lengths.Average()).Metric("eval_success", e.SuccessRate)
                .Metric("eval_paraphrased_return_mean", e.Paraphrased?.Summary.Mean.Value).Metric("eval_paraphrased_success", e.Paraphrased?.SuccessRate);
            // A task mixture's evaluation also reports each task: eval_success_<task> (e.g. eval_success_go_to_local).
            foreach (var (task, _, success) in e.Outcomes.ByTask()) row.Metric("eval_success_" + MetricsRow.ToKeyPart(task), success);
            return row;
        }

        private void WriteRow(MetricsRow row) => metrics.Write(row.Wall("time_s", Math.Round(Seconds, 3)));

        private void WriteCheckpoint(IAlgorithm? midPhase)
        {
            var tensors = (midPhase?.CheckpointTensors() ?? ModelWeights.Named(agent.Policy, "policy."))
                .Concat(agent.Reference is null ? [] : ModelWeights.Named(agent.Reference, "reference."));
            using var experiment = JsonDocument.Parse(OptionsBinder.Serialize(options));
            var algorithm = midPhase?.SaveState();
            if (midPhase is not null)
            {
                var rollout = midPhase.Collector.CaptureState(out string? reason);
                if (rollout is null && !_inexactNoted)
                {
                    _inexactNoted = true;
                    notice?.Invoke($"this run's checkpoints cannot hold its envs' state ({reason}): a resume restarts their episodes");
                }
                algorithm = algorithm! with { Rollout = rollout };
                if (_trainingEnv is not null) _normalization = NormalizationStatistics.Capture(_trainingEnv) ?? _normalization;
            }
            var row = midPhase is null || (_rowCounts.Count == 0 && _rowReturns.Count == 0) ? null
                : new PartialRow(new(_rowSums), new(_rowCounts), [.. _rowReturns], [.. _rowLengths]);
            var log = EpisodeLog is null ? null : new EpisodeLogPosition(EpisodeLog.BytesWritten, Recorders!.LastIndexDrawn);
            var runState = new RunState(Checkpoint.Format, Phase, EnvSteps, EnvEpisodes, Demonstrations, Seconds, algorithm,
                agent.Reference is not null, [.. _completed], Stopped,
                _runner with { RecentReturns = [.. _returns], RecentSuccesses = [.. _successes], Row = row, Curriculum = _curriculum?.State ?? _runner.Curriculum }, experiment.RootElement.Clone(), log, _normalization);
            _lastCheckpoint = Checkpoint.Write(runDirectory, CheckpointId, tensors, runState,
                midPhase is { CheckpointsReplay: true } ? midPhase.SaveReplay : null);
            _goodCheckpoint = CheckpointId;
        }

        private void Report(PhaseOptions phase, string stage, long done, long total) =>
            progress?.Invoke(new RunProgress(Phase, _schedule.Count, phase.Label(Phase), phase.Kind, stage, done, total, EnvSteps, EnvEpisodes,
                _clock.Elapsed, RollingReturn, RollingSuccess, _lastEvaluation?.ToSummary()));

        private void Push<T>(Queue<T> window, T value)
        {
            window.Enqueue(value);
            if (window.Count > options.Training.ReturnWindow) window.Dequeue();
        }

        /// <summary>The first multiple of <paramref name="interval"/> above <paramref name="step"/> (every iteration when 0).</summary>
        private static long Next(long step, long interval) => interval <= 0 ? step + 1 : (step / interval + 1) * interval;
    }
}
