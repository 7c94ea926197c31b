using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Training;
using RLAgents.Environments.Configuration;
using RLAgents.EpisodeLogs;
using RLAgents.Policies;
using RLAgents.Policies.Multimodal;

namespace RLAgents.Agents.Phases;

/// <summary>What one phase of a schedule does.</summary>
public enum PhaseKind
{
    /// <summary>PPO on the agent's own rollouts.</summary>
    Ppo,
    /// <summary>A2C on the agent's own rollouts.</summary>
    A2c,
    /// <summary>REINFORCE with baseline on the agent's own rollouts.</summary>
    Reinforce,
    /// <summary>DQN (the agent must be a Q-network: every RL phase of the schedule is DQN).</summary>
    Dqn,
    /// <summary>Supervised fine-tuning: behaviour cloning on demonstrations and/or filtered own episodes.</summary>
    Sft,
}

/// <summary>The network family of a phased agent.</summary>
public enum PolicyArchitecture
{
    /// <summary>Per-modality encoders and an MLP backbone (text as bags of tokens): the baseline.</summary>
    Mlp,
    /// <summary>The multimodal Transformer state estimator on the GPT backbone.</summary>
    Transformer,
}

/// <summary>The agent's networks (bound from <c>policy</c>).</summary>
public sealed class PhasePolicyOptions
{
    /// <summary>MLP baseline or multimodal Transformer.</summary>
    public PolicyArchitecture Architecture { get; set; } = PolicyArchitecture.Transformer;

    /// <summary>
    /// Heads and MLP options: <c>hiddenSizes</c> and <c>activation</c> of the MLP backbone, <c>orthogonalInit</c>
    /// of the heads, and <c>shareStateEstimator</c> (one estimator for actor and critic; recommended for Transformers).
    /// </summary>
    public PolicyOptions Network { get; set; } = new() { ShareStateEstimator = true };

    /// <summary>The Transformer state estimator (with <see cref="PolicyArchitecture.Transformer"/>).</summary>
    public MultimodalOptions Multimodal { get; set; } = new();
}

/// <summary>Where a supervised phase's episodes come from (any combination; at least one).</summary>
public sealed class SftOptions
{
    /// <summary>Expert-bot demonstrations generated on the fly (BabyAI levels); each phase draws fresh episodes.</summary>
    [Range(0, 10_000_000)] public int BotEpisodes { get; set; }

    /// <summary>A demonstrations file (GridWorld JSON Lines, <c>rlagents-demos-v1</c>); null for none.</summary>
    public string? DemonstrationsFile { get; set; }

    /// <summary>Episodes read from <see cref="DemonstrationsFile"/> (the first ones); 0 reads all.</summary>
    [Range(0, 10_000_000)] public int FileEpisodes { get; set; }

    /// <summary>Episodes the agent plays with its current policy (sampling); those with return ≥ <see cref="MinReturn"/> are kept.</summary>
    [Range(0, 10_000_000)] public int OwnEpisodes { get; set; }

    /// <summary>Return threshold for own episodes (BabyAI: any success has return &gt; 0).</summary>
    public double MinReturn { get; set; } = 1e-9;

    /// <summary>Also train on every episode earlier SFT phases of this run used (a growing dataset).</summary>
    public bool KeepEarlierData { get; set; }

    /// <summary>Gradient updates of the phase (minibatches drawn with replacement).</summary>
    [Range(1, 100_000_000)] public int Updates { get; set; } = 500;

    /// <summary>Transitions per minibatch.</summary>
    [Range(1, 1_000_000)] public int BatchSize { get; set; } = 256;

    /// <summary>Adam learning rate.</summary>
    [Range(1e-8, 1.0)] public double LearningRate { get; set; } = 1e-3;

    /// <summary>Global gradient-norm clip (0 disables it).</summary>
    [Range(0.0, 1e6)] public double MaxGradNorm { get; set; } = 1.0;

    /// <summary>
    /// Weight of the value regression onto each step's discounted return in the episode (actor-critic
    /// agents), so a following RL phase starts with a critic that matches the cloned policy; 0 trains the policy only.
    /// </summary>
    [Range(0.0, 100.0)] public double ValueCoefficient { get; set; } = 0.5;

    /// <summary>Discount of those returns.</summary>
    [Range(0.0, 1.0)] public double Gamma { get; set; } = 0.99;
}

/// <summary>One phase of a schedule (bound from <c>phases[i]</c>).</summary>
public sealed class PhaseOptions
{
    /// <summary>Label in metrics (default: the kind and the index).</summary>
    public string? Name { get; set; }

    /// <summary>RL algorithm or SFT.</summary>
    public PhaseKind Kind { get; set; } = PhaseKind.Ppo;

    /// <summary>RL phases: env steps (summed over envs) of the phase.</summary>
    [Range(0L, long.MaxValue)] public long Steps { get; set; } = 100_000;

    /// <summary>PPO settings (with <see cref="PhaseKind.Ppo"/>).</summary>
    public PpoOptions Ppo { get; set; } = new();

    /// <summary>A2C settings.</summary>
    public A2cOptions A2c { get; set; } = new();

    /// <summary>REINFORCE settings.</summary>
    public ReinforceOptions Reinforce { get; set; } = new();

    /// <summary>DQN settings.</summary>
    public DqnOptions Dqn { get; set; } = new();

    /// <summary>SFT data and optimisation (with <see cref="PhaseKind.Sft"/>).</summary>
    public SftOptions Sft { get; set; } = new();

    /// <summary>
    /// Parameter groups that train in this phase (<c>all</c>, <c>backbone</c>, <c>adapters</c>, <c>encoders</c>,
    /// <c>heads</c>, or a substring of parameter names); null keeps the agent's default (per <c>backbone.fineTune</c>).
    /// </summary>
    public string[]? Trainable { get; set; }

    /// <summary>
    /// RL phases of actor-critic agents: weight of KL(π_SFT ‖ π), the policy's divergence from a frozen
    /// copy taken at the end of the latest SFT phase (0 disables it; no anchor before the first SFT phase).
    /// </summary>
    [Range(0.0, 1000.0)] public double KlAnchor { get; set; }
}

/// <summary>Logging, evaluation and checkpoint cadence of a phased run (bound from <c>training</c>).</summary>
public sealed class PhaseTrainingOptions
{
    /// <summary>Env steps between metrics rows within RL phases (0: every iteration).</summary>
    [Range(0L, long.MaxValue)] public long LogInterval { get; set; } = 5_000;

    /// <summary>Env steps between evaluations within RL phases (0: only at phase ends). Every phase ends with one.</summary>
    [Range(0L, long.MaxValue)] public long EvalInterval { get; set; }

    /// <summary>Episodes per evaluation.</summary>
    [Range(1, 1_000_000)] public int EvalEpisodes { get; set; } = 100;

    /// <summary>Env steps between checkpoints within RL phases (0: only at phase ends).</summary>
    [Range(0L, long.MaxValue)] public long CheckpointInterval { get; set; }

    /// <summary>
    /// Evaluate the argmax action (true) or sample from the policy (false, as BabyAI's evaluation does:
    /// a deterministic memoryless policy can loop forever when the goal is out of view). Q-network agents are always evaluated greedily.
    /// </summary>
    public bool GreedyEvaluation { get; set; }

    /// <summary>Stop the schedule once an evaluation reaches this success rate (episodes with positive return); null runs every phase.</summary>
    [Range(0.0, 1.0)] public double? StopAtSuccessRate { get; set; }

    /// <summary>TorchSharp intra-op threads.</summary>
    [Range(1, 256)] public int Threads { get; set; } = 1;
}

/// <summary>
/// A phased experiment: one agent trained by a schedule of RL and SFT phases, repeated
/// <see cref="Repeat"/> times, in one run directory.
/// </summary>
public sealed class PhasedExperimentOptions
{
    /// <summary>Experiment name.</summary>
    [Required, MinLength(1)] public string Name { get; set; } = "phased";

    /// <summary>The one seed every other seed derives from.</summary>
    [Range(0L, long.MaxValue)] public long Seed { get; set; } = 1;

    /// <summary>The environments (id, options, numEnvs, vectorization).</summary>
    public EnvironmentOptions Env { get; set; } = new();

    /// <summary>The agent's networks.</summary>
    public PhasePolicyOptions Policy { get; set; } = new();

    /// <summary>The phases, in order.</summary>
    [MinLength(1)] public PhaseOptions[] Phases { get; set; } = [new()];

    /// <summary>How many times the whole list of phases runs.</summary>
    [Range(1, 100_000)] public int Repeat { get; set; } = 1;

    /// <summary>Logging, evaluation and checkpoints.</summary>
    public PhaseTrainingOptions Training { get; set; } = new();

    /// <summary>
    /// Record the RL phases' episodes to <c>episodes.arrow</c> in the run directory (appended on
    /// resume), each tagged with its phase's name and the schedule checkpoint its weights start
    /// from; with <c>includeEvaluations</c>, the evaluations after each phase too (phase
    /// <c>eval</c>). Null records nothing. Needs <c>sync</c> or <c>threaded</c> vectorization.
    /// </summary>
    public EpisodeRecorderOptions? Recording { get; set; }

    /// <summary>Phases in execution order (the list <see cref="Repeat"/> times).</summary>
    [JsonIgnore]
    public IReadOnlyList<PhaseOptions> Schedule => Enumerable.Repeat(Phases, Repeat).SelectMany(p => p).ToArray();

    /// <summary>True when the agent is a Q-network (the schedule's RL phases are DQN).</summary>
    [JsonIgnore]
    public bool UsesQNetwork => Phases.Any(p => p.Kind == PhaseKind.Dqn);

    /// <summary>Cross-field rules the attributes cannot express; throws <see cref="ConfigurationException"/> naming the key.</summary>
    public void Validate()
    {
        OptionsBinder.Validate(this);
        // The environment-and-recording rules are the single-run experiment's.
        new ExperimentOptions { Env = Env, Recording = Recording }.Validate();
        for (int i = 0; i < Phases.Length; i++)
        {
            var p = Phases[i];
            string path = $"phases[{i}]";
            if (UsesQNetwork && p.Kind is PhaseKind.Ppo or PhaseKind.A2c or PhaseKind.Reinforce)
                throw new ConfigurationException($"{path}.kind", $"{p.Kind} needs an actor-critic agent, but DQN phases make this agent a Q-network; one schedule trains one agent");
            if (p.Kind == PhaseKind.Sft && p.Sft.BotEpisodes == 0 && p.Sft.DemonstrationsFile is null && p.Sft.OwnEpisodes == 0 && !p.Sft.KeepEarlierData)
                throw new ConfigurationException($"{path}.sft", "an SFT phase needs data: botEpisodes, demonstrationsFile or ownEpisodes");
            if (p.Kind == PhaseKind.Sft && p.Sft.DemonstrationsFile is { } f && !File.Exists(f))
                throw new ConfigurationException($"{path}.sft.demonstrationsFile", $"file '{f}' does not exist");
            if (p.Kind != PhaseKind.Sft && p.Steps == 0)
                throw new ConfigurationException($"{path}.steps", "an RL phase needs steps > 0");
            if (p.KlAnchor > 0 && UsesQNetwork)
                throw new ConfigurationException($"{path}.klAnchor", "the KL anchor applies to actor-critic agents only");
            foreach (var group in p.Trainable ?? [])
                if (string.IsNullOrWhiteSpace(group)) throw new ConfigurationException($"{path}.trainable", "empty group name");
        }
    }
}
