using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json;
using RLAgents.Agents.Algorithms;
using RLAgents.Environments.Configuration;
using RLAgents.EpisodeLogs;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;
using RLAgents.Policies;

namespace RLAgents.Agents.Training;

/// <summary>
/// An experiment file: what to train on, with which agent and algorithm, for how long. Bound from
/// JSON by <see cref="OptionsBinder"/> (camelCase keys, unknown keys rejected) and validated at start.
/// </summary>
public sealed class ExperimentOptions
{
    /// <summary>Experiment name (used in run-directory names and reports).</summary>
    [Required, MinLength(1)]
    public string Name { get; set; } = "experiment";

    /// <summary>The one seed every other seed derives from (envs, network init, action draws, minibatches, evaluation).</summary>
    [Range(0L, long.MaxValue)]
    public long Seed { get; set; } = 1;

    /// <summary>The training environments.</summary>
    public EnvironmentOptions Env { get; set; } = new();

    /// <summary>The policy networks.</summary>
    public PolicyOptions Policy { get; set; } = new();

    /// <summary>The learning algorithm and its options.</summary>
    public AlgorithmOptions Algorithm { get; set; } = new();

    /// <summary>Budget, logging, evaluation and checkpoint cadence.</summary>
    public TrainingOptions Training { get; set; } = new();

    /// <summary>
    /// Record episodes to <c>episodes.arrow</c> in the run directory (an Arrow IPC episode log that
    /// <c>rlagents replay --verify</c> re-simulates exactly); null records nothing. Training
    /// episodes have phase <c>rl</c>, periodic evaluations (with <c>includeEvaluations</c>) phase
    /// <c>eval</c>; <c>mode</c> picks all, every Nth, evaluations only, or by filter. Each step carries
    /// the acting distribution and value estimate. Needs <c>sync</c> or <c>threaded</c> vectorization.
    /// </summary>
    public EpisodeRecorderOptions? Recording { get; set; }

    /// <summary>Validates this object and every nested options object, naming the failing key path.</summary>
    public void Validate()
    {
        ValidateTree(this, "");
        if (Recording is not null && Env.Vectorization == VectorizationMode.Batched)
            throw new ConfigurationException("env.vectorization", "recording needs sync or threaded vectorization (a batched env has no per-episode hook)");
        if (Recording is { Mode: RecordMode.EvaluationOnly, IncludeEvaluations: false })
            throw new ConfigurationException("recording.includeEvaluations", "mode evaluationOnly records a training run's evaluations; with includeEvaluations false it would record nothing");
    }

    private static void ValidateTree(object target, string path)
    {
        OptionsBinder.Validate(target, path);
        foreach (var prop in target.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var type = prop.PropertyType;
            if (!type.IsClass || type == typeof(string) || type.IsArray || prop.GetIndexParameters().Length > 0) continue;
            if (prop.GetValue(target) is { } child)
                ValidateTree(child, path.Length == 0 ? JsonNamingPolicy.CamelCase.ConvertName(prop.Name) : $"{path}.{JsonNamingPolicy.CamelCase.ConvertName(prop.Name)}");
        }
    }
}

/// <summary>The environment section of an experiment.</summary>
public sealed class EnvironmentOptions
{
    /// <summary>Registered id such as <c>CartPole-v1</c> (ignored when <see cref="Plugin"/> is given).</summary>
    [Required, MinLength(1)]
    public string Id { get; set; } = "CartPole-v1";

    /// <summary>The environment's own options, bound to its registration's options type (keys checked there); null = defaults.</summary>
    public JsonElement? Options { get; set; }

    /// <summary>Number of environments stepped together.</summary>
    [Range(1, 4096)]
    public int NumEnvs { get; set; } = 4;

    /// <summary>How the environments are stepped: <c>sync</c>, <c>threaded</c>, or <c>batched</c> (a native batched implementation, CartPole-v1).</summary>
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
}

/// <summary>Budget and cadence of a training run.</summary>
public sealed class TrainingOptions
{
    /// <summary>Env steps (summed over envs) to train for.</summary>
    [Range(1L, long.MaxValue)]
    public long TotalSteps { get; set; } = 100_000;

    /// <summary>Env steps between greedy evaluations; 0 evaluates only at the end.</summary>
    [Range(0L, long.MaxValue)]
    public long EvalInterval { get; set; } = 25_000;

    /// <summary>Episodes per evaluation.</summary>
    [Range(1, 100_000)]
    public int EvalEpisodes { get; set; } = 10;

    /// <summary>Env steps between checkpoints; 0 writes only the final one.</summary>
    [Range(0L, long.MaxValue)]
    public long CheckpointInterval { get; set; } = 50_000;

    /// <summary>Env steps between metrics.jsonl rows (metrics in between are averaged); 0 logs every iteration.</summary>
    [Range(0L, long.MaxValue)]
    public long LogInterval { get; set; } = 2_000;

    /// <summary>Episodes in the rolling mean of training returns that metrics and stopping read.</summary>
    [Range(1, 100_000)]
    public int ReturnWindow { get; set; } = 20;

    /// <summary>Stop as soon as the rolling mean return reaches this (benchmarks: 475 on CartPole-v1); null trains the full budget.</summary>
    public double? StopAtMeanReturn { get; set; }

    /// <summary>
    /// TorchSharp intra-op threads. Small MLPs are dominated by per-call overhead, and a second
    /// thread on a shared 2-core machine only adds synchronisation, so 1 is the measured best for
    /// CartPole-sized networks (see the closing note of the agents issue); raise it for wide networks.
    /// </summary>
    [Range(1, 256)]
    public int Threads { get; set; } = 1;
}
