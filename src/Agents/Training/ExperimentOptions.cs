using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Phases;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;
using RLAgents.EpisodeLogs;
using RLAgents.Policies;

namespace RLAgents.Agents.Training;

/// <summary>
/// An experiment file: what to train on, with which agent, and how. A plain experiment names one
/// <see cref="Algorithm"/> and a <see cref="TrainingOptions.TotalSteps"/> budget; a schedule lists
/// <see cref="Phases"/> (RL and SFT, repeated <see cref="Repeat"/> times). Both are the same thing to
/// the runner: a plain experiment is a schedule of one phase (<see cref="Schedule"/>). Bound from
/// JSON by <see cref="OptionsBinder"/> (camelCase keys, unknown keys rejected) and validated at start.
/// </summary>
public sealed class ExperimentOptions
{
    /// <summary>Experiment name, used in run-directory names and reports: one folder name (no <c>/</c>, <c>\</c> or <c>..</c>).</summary>
    [Required, MinLength(1)]
    public string Name { get; set; } = "experiment";

    /// <summary>The one seed every other seed derives from (envs, network init, action draws, minibatches, evaluation).</summary>
    [Range(0L, long.MaxValue)]
    public long Seed { get; set; } = 1;

    /// <summary>The training environments.</summary>
    public EnvironmentOptions Env { get; set; } = new();

    /// <summary>The agent's networks.</summary>
    public PolicyOptions Policy { get; set; } = new();

    /// <summary>A plain experiment's algorithm (one phase of <see cref="TrainingOptions.TotalSteps"/> env steps); leave it out when <see cref="Phases"/> are given.</summary>
    public AlgorithmOptions? Algorithm { get; set; }

    /// <summary>A schedule of RL and SFT phases, in order, on one agent; leave it out for a plain experiment.</summary>
    [MinLength(1)]
    public PhaseOptions[]? Phases { get; set; }

    /// <summary>
    /// A checkpoint whose policy weights this run starts from instead of a fresh initialisation: a <c>.safetensors</c>
    /// checkpoint, its <c>.json</c>, or a run directory (its latest). The policy must be built the same way (every tensor's
    /// name and shape are checked); the KL anchor's reference is these weights until an SFT phase sets its own. Fine-tunes a
    /// clone with RL in a new run, or continues a finished one under another schedule. Null starts from scratch.
    /// </summary>
    [MinLength(1)]
    public string? InitFrom { get; set; }

    /// <summary>How many times the whole list of phases runs.</summary>
    [Range(1, 100_000)]
    public int Repeat { get; set; } = 1;

    /// <summary>Budget, logging, evaluation and checkpoint cadence.</summary>
    public TrainingOptions Training { get; set; } = new();

    /// <summary>
    /// Record the RL phases' episodes to <c>episodes.arrows</c> in the run directory (an Arrow IPC episode
    /// log that <c>rlagents replay --verify</c> re-simulates exactly; appended on resume), each tagged with
    /// its phase's name and the checkpoint its weights come from; with <c>includeEvaluations</c>, the
    /// periodic evaluations too (phase <c>eval</c>). <c>mode</c> picks all, every Nth, evaluations only,
    /// or by filter. Each step carries the acting distribution and value estimate. Null records nothing.
    /// Needs <c>sync</c> or <c>threaded</c> vectorization.
    /// </summary>
    public EpisodeRecorderOptions? Recording { get; set; }

    /// <summary>Train with rollout workers in other processes or on other machines (see <see cref="DistributedOptions"/>); null trains in this process.</summary>
    public DistributedOptions? Distributed { get; set; }

    /// <summary>The phases in execution order: <see cref="Phases"/> <see cref="Repeat"/> times, or the one phase of a plain experiment.</summary>
    [JsonIgnore]
    public IReadOnlyList<PhaseOptions> Schedule => Phases is { } phases
        ? Enumerable.Repeat(phases, Repeat).SelectMany(p => p).ToArray()
        : [PlainPhase()];

    /// <summary>True when the agent is a Q-network (its RL phases are DQN).</summary>
    [JsonIgnore]
    public bool UsesQNetwork => AgentKind == AgentKind.QNetwork;

    /// <summary>The kind of network the schedule's RL phases train: a Q-network (DQN), an off-policy actor (SAC, TD3) or an actor-critic.</summary>
    [JsonIgnore]
    public AgentKind AgentKind => AgentKindOf(Schedule);

    private static AgentKind AgentKindOf(IEnumerable<PhaseOptions> schedule) =>
        schedule.Any(p => p.Kind == AlgorithmKind.Dqn) ? AgentKind.QNetwork
        : schedule.Any(p => p.Kind is AlgorithmKind.Sac or AlgorithmKind.Td3) ? AgentKind.ContinuousActor
        : AgentKind.ActorCritic;

    /// <summary>Validates this object and every nested options object, naming the failing key path; then the rules across keys.</summary>
    public void Validate()
    {
        ValidateTree(this, "");
        if (RLAgents.Core.UserPaths.FolderNameProblem(Name) is { } name) throw new ConfigurationException("name", name);
        if (Env.Plugin is null && string.IsNullOrWhiteSpace(Env.Id)) throw new ConfigurationException("env.id", "give a registered environment id, or env.plugin");
        if (!Env.Images.IsEmpty && Env.Vectorization == VectorizationMode.Batched)
            throw new ConfigurationException("env.vectorization", "image observation wrappers (pixels, grayscale, resize, frameStack) wrap each environment; use sync or threaded vectorization");
        if (!Env.Control.IsEmpty && Env.Vectorization == VectorizationMode.Batched)
            throw new ConfigurationException("env.vectorization", "action and normalisation wrappers (clipAction, rescaleAction, normalizeObservation, normalizeReward) wrap each environment; use sync or threaded vectorization");
        if (Env.RescaleAction is { } rescale && !(float.IsFinite(rescale.Min) && float.IsFinite(rescale.Max) && rescale.Min < rescale.Max))
            throw new ConfigurationException("env.rescaleAction", $"min {rescale.Min} and max {rescale.Max} must be finite with min < max");
        if (Recording is not null && Env.Vectorization == VectorizationMode.Batched)
            throw new ConfigurationException("env.vectorization", "recording needs sync or threaded vectorization (a batched env has no per-episode hook)");
        if (Distributed is { } distributed)
        {
            if (Env.NumEnvs % distributed.Workers != 0)
                throw new ConfigurationException("distributed.workers", $"env.numEnvs ({Env.NumEnvs}) must split evenly into {distributed.Workers} worker shards");
            if (Recording is not null && Recording.Mode != RecordMode.EvaluationOnly)
                throw new ConfigurationException("recording.mode", "distributed training records evaluations only (mode evaluationOnly): training episodes are stepped by the workers");
            if (Env.Curriculum is not null)
                throw new ConfigurationException("env.curriculum", "a task curriculum steers the learner's own envs; distributed workers do not follow it yet");
            // Each worker's envs would keep running statistics of their own, and checkpoints hold the learner's envs' only.
            if (Env.NormalizeObservation is not null)
                throw new ConfigurationException("env.normalizeObservation", "distributed workers do not share running observation statistics yet; normalise inside the env or train in one process");
            if (Env.NormalizeReward is not null)
                throw new ConfigurationException("env.normalizeReward", "distributed workers do not share running reward statistics yet; train in one process");
        }
        if (Recording is { Mode: RecordMode.EvaluationOnly, IncludeEvaluations: false })
            throw new ConfigurationException("recording.includeEvaluations", "mode evaluationOnly records a training run's evaluations; with includeEvaluations false it would record nothing");
        if (Phases is not null)
        {
            if (Algorithm is not null)
                throw new ConfigurationException("algorithm", "give either algorithm (one phase of training.totalSteps) or phases (a schedule), not both");
            if (Training.TotalSteps is not null)
                throw new ConfigurationException("training.totalSteps", "a schedule's budget is its phases' steps; leave totalSteps out with phases");
        }
        else if (Repeat != 1)
        {
            throw new ConfigurationException("repeat", "repeat applies to a schedule of phases");
        }
        var schedule = Phases ?? [PlainPhase()];
        var agentKind = AgentKindOf(schedule);
        bool qNetwork = agentKind == AgentKind.QNetwork;
        if (Policy.Recurrent)
        {
            if (agentKind != AgentKind.ActorCritic)
                throw new ConfigurationException("policy.recurrent", $"a recurrent memory trains with PPO, A2C, REINFORCE and SFT; {(qNetwork ? "DQN's replay buffer" : "SAC/TD3's replay buffer")} keeps no memory");
            foreach (var p in schedule)
                if (p.Kind == AlgorithmKind.Ppo && p.Ppo.Minibatches > Env.NumEnvs)
                    throw new ConfigurationException("policy.recurrent", $"a recurrent policy's PPO minibatches are whole env sequences: {Env.NumEnvs} envs cannot be split into {p.Ppo.Minibatches} minibatches");
        }
        for (int i = 0; i < schedule.Length; i++)
        {
            var p = schedule[i];
            string path = Phases is null ? "algorithm" : $"phases[{i}]";
            if (agentKind != AgentKind.ActorCritic && p.Kind is AlgorithmKind.Ppo or AlgorithmKind.A2c or AlgorithmKind.Reinforce)
                throw new ConfigurationException($"{path}.kind", $"{p.Kind} needs an actor-critic agent, but {(qNetwork ? "DQN phases make this agent a Q-network" : "SAC/TD3 phases make this agent an off-policy actor")}; one schedule trains one agent");
            if (qNetwork && p.Kind is AlgorithmKind.Sac or AlgorithmKind.Td3)
                throw new ConfigurationException($"{path}.kind", $"{p.Kind} trains a continuous actor, but DQN phases make this agent a Q-network; one schedule trains one agent");
            if (agentKind == AgentKind.ContinuousActor && p.Kind == AlgorithmKind.Sft)
                throw new ConfigurationException($"{path}.kind", "SFT phases clone discrete demonstrations; SAC/TD3 agents have continuous actions");
            if (p.Kind == AlgorithmKind.Sft && p.Sft.ExpertEpisodes == 0 && p.Sft.DemonstrationsFile is null && p.Sft.OwnEpisodes == 0 && p.Sft.DaggerEpisodes == 0 && !p.Sft.KeepEarlierData)
                throw new ConfigurationException($"{path}.sft", "an SFT phase needs data: expertEpisodes, demonstrationsFile, ownEpisodes or daggerEpisodes");
            if (p.Kind == AlgorithmKind.Sft && p.Sft.DemonstrationsFile is { } f && !File.Exists(f))
                throw new ConfigurationException($"{path}.sft.demonstrationsFile", $"file '{f}' does not exist");
            if (p.Kind == AlgorithmKind.Dqn && p.Dqn.Demonstrations.DemonstrationsFile is { } dq && !File.Exists(dq))
                throw new ConfigurationException($"{path}.dqn.demonstrations.demonstrationsFile", $"file '{dq}' does not exist");
            if (p.Kind != AlgorithmKind.Sft && p.Steps == 0)
                throw new ConfigurationException(Phases is null ? "training.totalSteps" : $"{path}.steps", "an RL phase needs steps > 0");
            if (p.Kind == AlgorithmKind.Ppo && (long)p.Ppo.RolloutSteps * Env.NumEnvs < p.Ppo.Minibatches)
                throw new ConfigurationException($"{path}.ppo.minibatches", $"a rollout of {p.Ppo.RolloutSteps} steps × {Env.NumEnvs} envs cannot be split into {p.Ppo.Minibatches} minibatches");
            // Workers act with the phase's selection but keep no exploration state between batches.
            if (Distributed is not null && p.Kind == AlgorithmKind.Td3 && p.Td3.NoiseProcess != ExplorationNoiseProcess.Gaussian)
                throw new ConfigurationException($"{path}.td3.noiseProcess", $"{p.Td3.NoiseProcess} noise keeps a state per env that distributed workers do not carry yet; use gaussian or train in one process");
            if (p.KlAnchor > 0 && agentKind != AgentKind.ActorCritic)
                throw new ConfigurationException($"{path}.klAnchor", "the KL anchor applies to actor-critic agents only");
            // The reference is the policy an SFT phase ended with, or initFrom's: without either the anchor would do nothing.
            if (p.KlAnchor > 0 && InitFrom is null && !schedule.Take(i).Any(q => q.Kind == AlgorithmKind.Sft))
                throw new ConfigurationException($"{path}.klAnchor", "the KL anchor pulls towards a reference policy, and nothing sets one before this phase: put an SFT phase before it, or start from a checkpoint with initFrom");
            foreach (var group in p.Trainable ?? [])
                if (string.IsNullOrWhiteSpace(group)) throw new ConfigurationException($"{path}.trainable", "empty group name");
        }
    }

    // A plain experiment's one phase: the algorithm's options for TotalSteps env steps, labelled by the algorithm.
    private PhaseOptions PlainPhase()
    {
        var a = Algorithm ?? new AlgorithmOptions();
        return new PhaseOptions
        {
            Name = a.Kind.ToString().ToLowerInvariant(),
            Kind = a.Kind, Ppo = a.Ppo, Dqn = a.Dqn, A2c = a.A2c, Reinforce = a.Reinforce, Sft = a.Sft, Sac = a.Sac, Td3 = a.Td3,
            Steps = Training.TotalSteps ?? TrainingOptions.DefaultTotalSteps,
        };
    }

    private static void ValidateTree(object target, string path)
    {
        OptionsBinder.Validate(target, path);
        foreach (var prop in target.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var type = prop.PropertyType;
            if (prop.GetIndexParameters().Length > 0 || prop.GetCustomAttribute<JsonIgnoreAttribute>() is not null) continue;
            string child = path.Length == 0 ? JsonNamingPolicy.CamelCase.ConvertName(prop.Name) : $"{path}.{JsonNamingPolicy.CamelCase.ConvertName(prop.Name)}";
            if (type.IsArray && prop.GetValue(target) is object?[] items && type.GetElementType() is { IsClass: true } element && element != typeof(string))
            {
                for (int i = 0; i < items.Length; i++)
                    if (items[i] is { } item) ValidateTree(item, $"{child}[{i}]");
                continue;
            }
            if (!type.IsClass || type == typeof(string) || type.IsArray) continue;
            if (prop.GetValue(target) is { } value) ValidateTree(value, child);
        }
    }
}

/// <summary>The network an experiment's agent is, decided by the algorithms of its schedule.</summary>
public enum AgentKind
{
    /// <summary>An actor-critic policy (PPO, A2C, REINFORCE, SFT).</summary>
    ActorCritic,
    /// <summary>A Q-network (DQN).</summary>
    QNetwork,
    /// <summary>An off-policy continuous actor whose critics belong to the algorithm (SAC, TD3).</summary>
    ContinuousActor,
}

/// <summary>The environment section of an experiment.</summary>
public sealed class EnvironmentOptions
{
    /// <summary>Registered id such as <c>CartPole-v1</c>. With <see cref="Plugin"/> it is not needed: the run sets it to the plug-in's own id.</summary>
    public string Id { get; set; } = "CartPole-v1";

    /// <summary>The environment's own options, bound to its registration's options type (keys checked there); null = defaults.</summary>
    public JsonElement? Options { get; set; }

    /// <summary>Number of environments stepped together.</summary>
    [Range(1, 4096)]
    public int NumEnvs { get; set; } = 4;

    /// <summary>
    /// How the environments are stepped: <c>sync</c>, <c>threaded</c>, or <c>batched</c> (a native batched implementation:
    /// CartPole-v1, MountainCar-v0, MountainCarContinuous-v0, Acrobot-v1, Pendulum-v1). An env without a batched implementation (every plug-in) falls back to <c>sync</c> with a warning.
    /// </summary>
    public VectorizationMode Vectorization { get; set; } = VectorizationMode.Sync;

    /// <summary>A plug-in environment <c>path/to/Assembly.dll:Namespace.Type</c>, loaded and used instead of <see cref="Id"/>.</summary>
    public string? Plugin { get; set; }

    /// <summary>Overrides the registration's time limit (truncation); null keeps it.</summary>
    [Range(1, int.MaxValue)]
    public int? MaxEpisodeSteps { get; set; }

    /// <summary>
    /// Memory across steps: <c>steps</c> previous values of the listed <c>modalities</c> ride along in every
    /// observation (<c>x_history</c> and <c>history_mask</c>), so buffers and update rules see the history the
    /// agent acted on. <c>steps: 0</c> (the default) turns it off.
    /// </summary>
    public ObservationHistoryOptions Memory { get; set; } = new();

    /// <summary>
    /// Pictures as observations: the environment family draws the agent's view or the whole scene
    /// (<c>view</c>, <c>tileSize</c>) as a uint8 [H, W, 3] modality that replaces <c>image</c> or is added
    /// under another <c>modality</c> name. Null keeps the environment's own observations. The image
    /// sections apply to each environment in the order pixels, grayscale, resize, frameStack, outside its
    /// episode recorder (logs stay as the environment emits them, so replay re-simulates them) and inside memory.
    /// </summary>
    public PixelObservationOptions? Pixels { get; set; }

    /// <summary>RGB pixel modalities to one luma channel (<c>weights</c> rec601 or gymnasium); null keeps colour.</summary>
    public GrayscaleOptions? Grayscale { get; set; }

    /// <summary>Pixel modalities resized to <c>height</c> × <c>width</c> (<c>interpolation</c> area or bilinear); null keeps their size.</summary>
    public ResizeOptions? Resize { get; set; }

    /// <summary>The last <c>frames</c> frames of each image modality stacked along its channels ([H, W, N·C]); null stacks nothing.</summary>
    public FrameStackOptions? FrameStack { get; set; }

    /// <summary>The image sections as one pipeline (empty when none is given).</summary>
    [JsonIgnore]
    public ImagePipeline Images => new(Pixels, Grayscale, Resize, FrameStack, "env");

    /// <summary>
    /// Clip continuous actions into the environment's Box bounds (Gymnasium's <c>ClipAction</c>) before they reach it.
    /// Like every action and normalisation wrapper it wraps each environment outside its episode recorder, so logs
    /// hold the actions the environment received; needs sync or threaded vectorization.
    /// </summary>
    public bool ClipAction { get; set; }

    /// <summary>
    /// Present the continuous actions on new bounds <c>{ "min": -1, "max": 1 }</c> (Gymnasium's <c>RescaleAction</c>),
    /// mapped affinely onto the environment's; applied before <see cref="ClipAction"/>. Null (the default) keeps the env's bounds.
    /// </summary>
    public RescaleActionOptions? RescaleAction { get; set; }

    /// <summary>
    /// Normalise float observations to running zero mean and unit variance, then clip (<c>epsilon</c>, <c>clip</c>;
    /// Gymnasium's <c>NormalizeObservation</c>, one set of statistics per environment). The statistics are saved in
    /// checkpoints and frozen in evaluation. Null (the default) leaves observations as they are.
    /// </summary>
    public NormalizeObservationOptions? NormalizeObservation { get; set; }

    /// <summary>
    /// Scale rewards by the running standard deviation of the discounted return (<c>gamma</c>, <c>epsilon</c>;
    /// Gymnasium's <c>NormalizeReward</c>, per environment); returns reported in metrics stay the environment's.
    /// Saved in checkpoints like <see cref="NormalizeObservation"/>. Null (the default) leaves rewards as they are.
    /// </summary>
    public NormalizeRewardOptions? NormalizeReward { get; set; }

    /// <summary>The action and normalisation sections as one pipeline (empty when none is given).</summary>
    [JsonIgnore]
    public ControlPipeline Control => new(ClipAction, RescaleAction, NormalizeObservation, NormalizeReward, "env");

    /// <summary>
    /// A curriculum over a task mixture's tasks (e.g. <c>BabyAI-Mixture-v0</c>'s levels, in <c>env.options.ids</c>
    /// order): RL training episodes start on the first <c>startTasks</c>, and the next task joins once every
    /// active task's success over its latest <c>window</c> training episodes reaches <c>threshold</c>.
    /// Evaluations and demonstrations always cover every task. Null (the default) trains on every task from the start.
    /// </summary>
    public CurriculumOptions? Curriculum { get; set; }
}

/// <summary>When tasks join a curriculum over a task mixture (bound from <c>env.curriculum</c>).</summary>
public sealed class CurriculumOptions
{
    /// <summary>Tasks (the first ones of the mixture) training starts on.</summary>
    [Range(1, 100_000)]
    public int StartTasks { get; set; } = 1;

    /// <summary>Success rate every active task must reach over its latest <see cref="Window"/> training episodes before the next task joins.</summary>
    [Range(0.0, 1.0)]
    public double Threshold { get; set; } = 0.9;

    /// <summary>Training episodes per task in that success rate (a task must have played this many).</summary>
    [Range(1, 100_000)]
    public int Window { get; set; } = 100;
}

/// <summary>Budget, logging, evaluation and checkpoint cadence of a run (bound from <c>training</c>).</summary>
public sealed class TrainingOptions
{
    /// <summary>The env-step budget of a plain experiment when <see cref="TotalSteps"/> is left out.</summary>
    public const long DefaultTotalSteps = 100_000;

    /// <summary>A plain experiment's budget: env steps (summed over envs) of its one phase (default 100000); leave it out with phases.</summary>
    [Range(1L, long.MaxValue)]
    public long? TotalSteps { get; set; }

    /// <summary>Env steps between evaluations inside RL phases; 0 evaluates only at the end of each phase (every phase ends with one).</summary>
    [Range(0L, long.MaxValue)]
    public long EvalInterval { get; set; } = 25_000;

    /// <summary>Episodes per evaluation.</summary>
    [Range(1, 1_000_000)]
    public int EvalEpisodes { get; set; } = 10;

    /// <summary>
    /// Evaluate the argmax action (true) or sample from the policy (false, as BabyAI's evaluation does:
    /// a deterministic memoryless policy can loop forever when the goal is out of view). Q-network
    /// agents are always evaluated greedily.
    /// </summary>
    public bool GreedyEvaluation { get; set; } = true;

    /// <summary>Env steps between checkpoints inside RL phases; 0 writes them only at phase ends (every phase ends with one).</summary>
    [Range(0L, long.MaxValue)]
    public long CheckpointInterval { get; set; } = 50_000;

    /// <summary>Env steps between metrics rows inside RL phases (metrics in between are averaged); 0 logs every iteration.</summary>
    [Range(0L, long.MaxValue)]
    public long LogInterval { get; set; } = 2_000;

    /// <summary>
    /// Also write the metrics rows as a TensorBoard event file (scalars and π(a|s) histograms) beside metrics.jsonl;
    /// false writes metrics.jsonl only (<c>rlagents plot</c> reads that).
    /// </summary>
    public bool TensorBoard { get; set; } = true;

    /// <summary>Episodes in the rolling mean of training returns (and successes) that metrics and stopping read.</summary>
    [Range(1, 100_000)]
    public int ReturnWindow { get; set; } = 20;

    /// <summary>Stop as soon as the rolling mean training return reaches this (benchmarks: 475 on CartPole-v1); null never stops early on return.</summary>
    public double? StopAtMeanReturn { get; set; }

    /// <summary>Stop the schedule once an evaluation's success rate reaches this (envs that report success); null never stops early on success.</summary>
    [Range(0.0, 1.0)]
    public double? StopAtSuccessRate { get; set; }

    /// <summary>
    /// TorchSharp intra-op threads. Small MLPs are dominated by per-call overhead, and a second
    /// thread on a shared 2-core machine only adds synchronisation, so 1 is the measured best for
    /// CartPole-sized networks; raise it for wide networks.
    /// </summary>
    [Range(1, 256)]
    public int Threads { get; set; } = 1;

    /// <summary>
    /// Check every env step: every reward finite, every observation (final ones included) inside the observation space,
    /// which rules out NaN and infinities in float32 boxes. A violation stops the run with one line naming the step,
    /// the env and the value. Cheap (see the step-check benchmark); turn off only for a measured reason.
    /// </summary>
    public bool CheckEnvSteps { get; set; } = true;

    /// <summary>
    /// What a minibatch whose loss or gradient is not finite does: <c>stop</c> the run (naming the step and the
    /// quantity; the run keeps its last good checkpoint), or <c>skipUpdate</c>: leave the weights as they were and
    /// count it in the <c>skipped_updates</c> metric. Non-finite rewards and observations always stop the run.
    /// </summary>
    public NonFiniteMode NonFinite { get; set; } = NonFiniteMode.Stop;

    /// <summary>
    /// A paraphrase table (<see cref="Environments.Wrappers.ParaphraseTable"/>, a JSON file) for evaluations: each one
    /// then also plays the same episode seeds with the missions reworded, and its row carries
    /// <c>eval_paraphrased_success</c> and <c>eval_paraphrased_return_mean</c>. Null: no paraphrased evaluation.
    /// </summary>
    public string? Paraphrases { get; set; }
}

/// <summary>What a non-finite loss or gradient does to a run (<see cref="TrainingOptions.NonFinite"/>).</summary>
public enum NonFiniteMode
{
    /// <summary>Stop the run with one line; the run directory keeps its last good checkpoint.</summary>
    Stop,
    /// <summary>Skip the update (no weight change) and count it in <c>skipped_updates</c>.</summary>
    SkipUpdate,
}
