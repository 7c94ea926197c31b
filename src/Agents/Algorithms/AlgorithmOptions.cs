using System.ComponentModel.DataAnnotations;
using RLAgents.Agents.Losses;
using RLAgents.LanguageModel.FineTuning;
using RLAgents.Policies.Selection;

namespace RLAgents.Agents.Algorithms;

/// <summary>The learning algorithms: what a phase of a schedule (or a plain experiment's one phase) runs.</summary>
public enum AlgorithmKind
{
    /// <summary>Proximal policy optimisation (clipped).</summary>
    Ppo,
    /// <summary>Deep Q-network (with Double DQN, n-step, target network); the agent is a Q-network.</summary>
    Dqn,
    /// <summary>Synchronous advantage actor-critic.</summary>
    A2c,
    /// <summary>REINFORCE with a learned baseline.</summary>
    Reinforce,
    /// <summary>Supervised fine-tuning: behaviour cloning on expert demonstrations and/or the agent's own successful episodes.</summary>
    Sft,
    /// <summary>Soft actor-critic (continuous actions); the agent is a squashed-Gaussian actor, the twin critics belong to the algorithm.</summary>
    Sac,
    /// <summary>Twin delayed DDPG (continuous actions); the agent is a deterministic actor, the twin critics belong to the algorithm.</summary>
    Td3,
}

/// <summary>Which algorithm runs, and each algorithm's own options (only the chosen one is used).</summary>
public class AlgorithmOptions
{
    /// <summary>The algorithm: <c>ppo</c>, <c>dqn</c>, <c>a2c</c>, <c>reinforce</c>, <c>sft</c>, <c>sac</c> or <c>td3</c>.</summary>
    public AlgorithmKind Kind { get; set; } = AlgorithmKind.Ppo;

    /// <summary>PPO options.</summary>
    public PpoOptions Ppo { get; set; } = new();

    /// <summary>DQN options.</summary>
    public DqnOptions Dqn { get; set; } = new();

    /// <summary>SAC options.</summary>
    public SacOptions Sac { get; set; } = new();

    /// <summary>TD3 options.</summary>
    public Td3Options Td3 { get; set; } = new();

    /// <summary>A2C options.</summary>
    public A2cOptions A2c { get; set; } = new();

    /// <summary>REINFORCE options.</summary>
    public ReinforceOptions Reinforce { get; set; } = new();

    /// <summary>Supervised fine-tuning: where the demonstrations come from, and the optimisation.</summary>
    public SftOptions Sft { get; set; } = new();
}

/// <summary>What PPO, A2C and REINFORCE share: rollouts, discounting, the loss weights and Adam.</summary>
public abstract class OnPolicyOptions
{
    /// <summary>Steps per env per rollout (T); the batch is T × numEnvs.</summary>
    [Range(1, 1_000_000)] public int RolloutSteps { get; set; } = 128;
    /// <summary>Discount γ.</summary>
    [Range(0.0, 1.0)] public double Gamma { get; set; } = 0.99;
    /// <summary>Normalise advantages (per minibatch for PPO, over the batch otherwise) to zero mean and unit variance.</summary>
    public bool NormalizeAdvantages { get; set; } = true;
    /// <summary>Entropy bonus coefficient.</summary>
    [Range(0.0, 10.0)] public double EntropyCoefficient { get; set; }
    /// <summary>Value (baseline) loss coefficient.</summary>
    [Range(0.0, 100.0)] public double ValueCoefficient { get; set; } = 0.5;
    /// <summary>Global gradient-norm clip; 0 disables.</summary>
    [Range(0.0, 1e6)] public double MaxGradNorm { get; set; } = 0.5;
    /// <summary>Adam learning rate.</summary>
    [Range(1e-8, 1.0)] public double LearningRate { get; set; } = 2.5e-4;
    /// <summary>Anneal the learning rate linearly to 0 over the phase.</summary>
    public bool AnnealLearningRate { get; set; }
    /// <summary>Adam ε.</summary>
    [Range(1e-12, 1.0)] public double AdamEpsilon { get; set; } = 1e-5;
}

/// <summary>PPO (Schulman et al. 2017). Defaults are CleanRL's ppo.py.</summary>
public sealed class PpoOptions : OnPolicyOptions
{
    /// <summary>Creates the options with CleanRL's defaults (entropy 0.01, annealed learning rate 2.5e-4).</summary>
    public PpoOptions()
    {
        EntropyCoefficient = 0.01;
        AnnealLearningRate = true;
    }

    /// <summary>GAE λ.</summary>
    [Range(0.0, 1.0)] public double GaeLambda { get; set; } = 0.95;
    /// <summary>Passes over each rollout.</summary>
    [Range(1, 1000)] public int Epochs { get; set; } = 4;
    /// <summary>Minibatches per pass (the batch is split evenly).</summary>
    [Range(1, 100_000)] public int Minibatches { get; set; } = 4;
    /// <summary>Clip range ε of the probability ratio.</summary>
    [Range(0.0, 10.0)] public double ClipRange { get; set; } = 0.2;
    /// <summary>Anneal the clip range linearly to 0 with training progress (rl-baselines3-zoo's <c>lin_0.2</c>).</summary>
    public bool AnnealClipRange { get; set; }
    /// <summary>Clip the value update around the old value with the same ε (PPO2's value clipping).</summary>
    public bool ClipValueLoss { get; set; } = true;
    /// <summary>Stop the epochs of an update once a minibatch's approximate KL exceeds 1.5 × this (SB3's rule); null = never.</summary>
    [Range(0.0, 10.0)] public double? TargetKl { get; set; }
}

/// <summary>A2C (Mnih et al. 2016, synchronous). Defaults follow SB3's A2C, with Adam instead of RMSprop.</summary>
public sealed class A2cOptions : OnPolicyOptions
{
    /// <summary>Creates the options with SB3's defaults (5-step rollouts, learning rate 7e-4, raw advantages).</summary>
    public A2cOptions()
    {
        RolloutSteps = 5;
        LearningRate = 7e-4;
        NormalizeAdvantages = false;
    }

    /// <summary>GAE λ (1 = plain n-step advantages).</summary>
    [Range(0.0, 1.0)] public double GaeLambda { get; set; } = 1.0;
}

/// <summary>REINFORCE with a learned value baseline (Williams 1992; Sutton and Barto §13.4).</summary>
public sealed class ReinforceOptions : OnPolicyOptions
{
    /// <summary>
    /// Creates the options: 500-step rollouts (returns are Monte Carlo inside the rollout, bootstrapped
    /// only where an episode was cut), learning rate 1e-3, normalised advantages G − b.
    /// </summary>
    public ReinforceOptions()
    {
        RolloutSteps = 500;
        LearningRate = 1e-3;
    }
}

/// <summary>
/// Supervised fine-tuning of the agent by behaviour cloning: where its episodes come from (any
/// combination, at least one) and the optimisation.
/// </summary>
public sealed class SftOptions : SupervisedOptions
{
    /// <summary>Expert demonstrations generated on the fly by the environment's expert (<see cref="Environments.IExpertEnv"/>, e.g. the BabyAI bot); each phase draws fresh episodes.</summary>
    [Range(0, 10_000_000)] public int ExpertEpisodes { get; set; }

    /// <summary>An episode log of demonstrations (<c>rlagents demos generate</c>, <c>episodes to-sft</c>, or a training run's <c>episodes.arrows</c>); null for none.</summary>
    public string? DemonstrationsFile { get; set; }

    /// <summary>Episodes read from <see cref="DemonstrationsFile"/> (the first ones); 0 reads all.</summary>
    [Range(0, 10_000_000)] public int FileEpisodes { get; set; }

    /// <summary>Episodes the agent plays with its current policy (sampling); those with return ≥ <see cref="MinReturn"/> are kept.</summary>
    [Range(0, 10_000_000)] public int OwnEpisodes { get; set; }

    /// <summary>Return threshold for own episodes (BabyAI: any success has return &gt; 0).</summary>
    public double MinReturn { get; set; } = 1e-9;

    /// <summary>
    /// DAgger episodes: the agent plays them (sampling) and the environment's expert labels every state it reaches with
    /// the action it would take there; all are kept. Cloning then learns to recover from the agent's own mistakes, which
    /// expert demonstrations never show. Needs an env with an expert (<see cref="Environments.IExpertEnv"/>). Metrics:
    /// <c>dagger_agreement</c> (the share of steps where the applied action was the expert's), <c>dagger_steps</c>,
    /// <c>dagger_expert_failures</c> (episodes cut where the expert could not act, e.g. after the agent opened a box).
    /// When later phases keep earlier data, each episode's seed and applied actions are saved in the run directory
    /// (<c>dagger/</c>), from which a resumed run plays them again.
    /// </summary>
    [Range(0, 10_000_000)] public int DaggerEpisodes { get; set; }

    /// <summary>DAgger's β: the probability that the expert's action, not the agent's, is applied at each step of a DAgger episode.</summary>
    [Range(0.0, 1.0)] public double DaggerExpertFraction { get; set; }

    /// <summary>Also train on every episode earlier SFT phases of this run used (a growing dataset).</summary>
    public bool KeepEarlierData { get; set; }

    /// <summary>
    /// Anneal the learning rate linearly to 0 over the phase's updates (as the policy-gradient and DQN options); false
    /// keeps it constant. Cloning's minibatches are small and noisy (a recurrent one is a few whole episodes), so the
    /// decay lets the last updates settle on the data instead of on the latest minibatch.
    /// </summary>
    public bool AnnealLearningRate { get; set; }

    /// <summary>
    /// Weight of the value regression onto each step's discounted return in the episode (actor-critic
    /// agents), so a following RL phase starts with a critic that matches the cloned policy; 0 trains the policy only.
    /// </summary>
    [Range(0.0, 100.0)] public double ValueCoefficient { get; set; } = 0.5;

    /// <summary>Discount of those returns.</summary>
    [Range(0.0, 1.0)] public double Gamma { get; set; } = 0.99;
}

/// <summary>DQN (Mnih et al. 2015) with Double DQN and n-step returns. Defaults are rl-baselines3-zoo's CartPole-v1 settings.</summary>
public sealed class DqnOptions
{
    /// <summary>Replay capacity (transitions).</summary>
    [Range(1, 100_000_000)] public int BufferSize { get; set; } = 100_000;
    /// <summary>Env steps before learning starts.</summary>
    [Range(0, long.MaxValue)] public long LearningStarts { get; set; } = 1000;
    /// <summary>Transitions per gradient step.</summary>
    [Range(1, 1_000_000)] public int BatchSize { get; set; } = 64;
    /// <summary>Discount γ.</summary>
    [Range(0.0, 1.0)] public double Gamma { get; set; } = 0.99;
    /// <summary>Env steps collected between training rounds (rounded up to whole vector steps).</summary>
    [Range(1, 1_000_000)] public int TrainFrequency { get; set; } = 256;
    /// <summary>Gradient steps per training round.</summary>
    [Range(1, 1_000_000)] public int GradientSteps { get; set; } = 128;
    /// <summary>Env steps between target-network updates.</summary>
    [Range(1, long.MaxValue)] public long TargetUpdateInterval { get; set; } = 10;
    /// <summary>Target update factor τ: 1 copies the online network (hard), &lt;1 is Polyak averaging.</summary>
    [Range(0.0, 1.0)] public double Tau { get; set; } = 1.0;
    /// <summary>Double DQN: the online network picks the next action, the target network values it (van Hasselt et al. 2016).</summary>
    public bool DoubleDqn { get; set; } = true;
    /// <summary>Steps n of the n-step return.</summary>
    [Range(1, 1000)] public int NStep { get; set; } = 1;
    /// <summary>TD loss.</summary>
    public TdLossKind Loss { get; set; } = TdLossKind.Huber;
    /// <summary>ε of ε-greedy exploration over training.</summary>
    public LinearSchedule Exploration { get; set; } = new() { Start = 1.0, End = 0.04, Fraction = 0.16 };
    /// <summary>Adam learning rate.</summary>
    [Range(1e-8, 1.0)] public double LearningRate { get; set; } = 2.3e-3;
    /// <summary>Anneal the learning rate linearly to 0 over the phase (as the policy-gradient algorithms' option); false keeps it constant.</summary>
    public bool AnnealLearningRate { get; set; }
    /// <summary>Adam ε.</summary>
    [Range(1e-12, 1.0)] public double AdamEpsilon { get; set; } = 1e-8;
    /// <summary>Global gradient-norm clip; 0 disables (SB3 uses 10).</summary>
    [Range(0.0, 1e6)] public double MaxGradNorm { get; set; } = 10;
    /// <summary>
    /// Checkpoints carry the replay buffer (a <c>.replay</c> file beside the newest checkpoint only),
    /// so <c>--resume</c> continues sampling from the same data; off saves disk for huge buffers.
    /// </summary>
    public bool CheckpointReplay { get; set; } = true;

    /// <summary>
    /// Demonstrations in replay (DQfD, Hester et al. 2018): expert or logged episodes become n-step
    /// transitions in a buffer of their own that is never overwritten; a fraction of every minibatch comes
    /// from it, and on those rows a large-margin supervised loss pushes Q(s, a_E) above every other action
    /// by the margin. Optional pre-training updates on demonstrations alone run before the first env step.
    /// No demonstrations (the default) is plain DQN.
    /// </summary>
    public DqfdOptions Demonstrations { get; set; } = new();
}

/// <summary>DQfD's demonstrations and losses (bound from <c>dqn.demonstrations</c>).</summary>
public sealed class DqfdOptions
{
    /// <summary>Expert episodes (the env's <see cref="Environments.IExpertEnv"/>, e.g. the BabyAI bot) generated when the phase starts; failed ones are dropped.</summary>
    [Range(0, 10_000_000)] public int ExpertEpisodes { get; set; }

    /// <summary>An episode log of demonstrations (<c>rlagents demos generate</c>, <c>play</c>, <c>episodes to-sft</c>); null for none.</summary>
    public string? DemonstrationsFile { get; set; }

    /// <summary>Episodes read from <see cref="DemonstrationsFile"/> (the first ones); 0 reads all.</summary>
    [Range(0, 10_000_000)] public int FileEpisodes { get; set; }

    /// <summary>Fraction of every minibatch drawn from the demonstrations (the rest from the agent's replay).</summary>
    [Range(0.0, 1.0)] public double BatchFraction { get; set; } = 0.25;

    /// <summary>Margin l(a_E, a) of the supervised loss max_a[Q(s, a) + l(a_E, a)] − Q(s, a_E) (DQfD: 0.8).</summary>
    [Range(0.0, 1000.0)] public double Margin { get; set; } = 0.8;

    /// <summary>Weight λ₂ of that large-margin loss on demonstration rows (DQfD: 1); 0 keeps demonstrations for TD only.</summary>
    [Range(0.0, 1000.0)] public double MarginWeight { get; set; } = 1.0;

    /// <summary>
    /// Gradient steps on demonstrations alone before the first env step (DQfD's pre-training); the target
    /// network follows every as many updates as a <c>targetUpdateInterval</c> of collection would bring.
    /// </summary>
    [Range(0, 10_000_000)] public int PretrainUpdates { get; set; }

    /// <summary>True when any demonstrations are configured.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Enabled => ExpertEpisodes > 0 || DemonstrationsFile is not null;
}

/// <summary>What SAC and TD3 share: the replay, the collection cadence, twin critics with Polyak targets, and Adam.</summary>
public abstract class ContinuousControlOptions
{
    /// <summary>Replay capacity (transitions).</summary>
    [Range(1, 100_000_000)] public int BufferSize { get; set; } = 1_000_000;
    /// <summary>Env steps of uniformly random actions before learning starts.</summary>
    [Range(0, long.MaxValue)] public long LearningStarts { get; set; } = 5000;
    /// <summary>Transitions per gradient step.</summary>
    [Range(1, 1_000_000)] public int BatchSize { get; set; } = 256;
    /// <summary>Discount γ.</summary>
    [Range(0.0, 1.0)] public double Gamma { get; set; } = 0.99;
    /// <summary>Polyak factor τ of the target networks, applied after every gradient step (every actor step for TD3).</summary>
    [Range(0.0, 1.0)] public double Tau { get; set; } = 0.005;
    /// <summary>Env steps collected between training rounds (rounded up to whole vector steps).</summary>
    [Range(1, 1_000_000)] public int TrainFrequency { get; set; } = 1;
    /// <summary>Gradient steps per training round.</summary>
    [Range(1, 1_000_000)] public int GradientSteps { get; set; } = 1;
    /// <summary>Steps n of the n-step return (1 in both papers).</summary>
    [Range(1, 1000)] public int NStep { get; set; } = 1;
    /// <summary>Adam learning rate of the actor.</summary>
    [Range(1e-8, 1.0)] public double ActorLearningRate { get; set; } = 3e-4;
    /// <summary>Adam learning rate of the two critics.</summary>
    [Range(1e-8, 1.0)] public double CriticLearningRate { get; set; } = 1e-3;
    /// <summary>Checkpoints carry the replay buffer (a <c>.replay</c> file beside the newest checkpoint), so <c>--resume</c> continues exactly.</summary>
    public bool CheckpointReplay { get; set; } = true;
}

/// <summary>
/// Soft actor-critic (Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications"): a
/// tanh-squashed Gaussian actor, twin Q critics with Polyak targets, and automatic entropy tuning.
/// Defaults are CleanRL's sac_continuous_action.py.
/// </summary>
public sealed class SacOptions : ContinuousControlOptions
{
    /// <summary>The entropy coefficient α; null tunes it automatically towards <see cref="TargetEntropy"/>.</summary>
    [Range(0.0, 100.0)] public double? EntropyCoefficient { get; set; }
    /// <summary>α at the start of automatic tuning.</summary>
    [Range(1e-8, 100.0)] public double InitialEntropyCoefficient { get; set; } = 1.0;
    /// <summary>The entropy target H̄ of automatic tuning; null is −dim(A), the paper's heuristic.</summary>
    public double? TargetEntropy { get; set; }
    /// <summary>Adam learning rate of log α (automatic tuning).</summary>
    [Range(1e-8, 1.0)] public double EntropyLearningRate { get; set; } = 1e-3;
}

/// <summary>Where TD3's exploration draws come from.</summary>
public enum ExplorationNoiseProcess
{
    /// <summary>An independent N(0, 1) draw per step and action element.</summary>
    Gaussian,
    /// <summary>An Ornstein–Uhlenbeck process per env slot and action element (<see cref="Policies.Selection.OrnsteinUhlenbeckNoise"/>).</summary>
    OrnsteinUhlenbeck,
}

/// <summary>
/// Twin delayed DDPG (Fujimoto et al. 2018): a deterministic actor, clipped double-Q targets with
/// target-policy smoothing, and actor and target updates every <see cref="PolicyDelay"/> critic steps.
/// Defaults are the paper's and CleanRL's td3_continuous_action.py.
/// </summary>
public sealed class Td3Options : ContinuousControlOptions
{
    /// <summary>Creates the options with the paper's learning rate 3e-4 for both networks.</summary>
    public Td3Options()
    {
        CriticLearningRate = 3e-4;
        LearningStarts = 25_000;
    }

    /// <summary>Scale of the exploration noise, in units of half the action range: the std of the Gaussian noise, or σ of the Ornstein–Uhlenbeck process.</summary>
    [Range(0.0, 10.0)] public double ExplorationNoise { get; set; } = 0.1;
    /// <summary>
    /// Where the exploration draws come from: independent normals each step (the paper), or an Ornstein–Uhlenbeck
    /// process per env slot, restarted each episode (DDPG's; rl-baselines3-zoo's choice for MountainCarContinuous-v0).
    /// </summary>
    public ExplorationNoiseProcess NoiseProcess { get; set; } = ExplorationNoiseProcess.Gaussian;
    /// <summary>Mean reversion θ of the Ornstein–Uhlenbeck process (SB3's 0.15).</summary>
    [Range(0.0, 10.0)] public double NoiseTheta { get; set; } = 0.15;
    /// <summary>Time step dt of the Ornstein–Uhlenbeck process (SB3's 0.01); draws are correlated over about 1/(θ·dt) env steps.</summary>
    [Range(1e-6, 0.09)] public double NoiseDt { get; set; } = 0.01;
    /// <summary>Std σ̃ of the target-policy smoothing noise, in units of half the action range.</summary>
    [Range(0.0, 10.0)] public double PolicyNoise { get; set; } = 0.2;
    /// <summary>The smoothing noise is clipped to ±c (same units).</summary>
    [Range(0.0, 10.0)] public double NoiseClip { get; set; } = 0.5;
    /// <summary>Critic steps per actor (and target) step, d.</summary>
    [Range(1, 1000)] public int PolicyDelay { get; set; } = 2;
}
