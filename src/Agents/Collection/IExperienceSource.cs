using RLAgents.Agents.Buffers;
using RLAgents.Core.Metrics;
using RLAgents.Environments;
using RLAgents.EpisodeLogs;
using RLAgents.Policies.Selection;

namespace RLAgents.Agents.Collection;

/// <summary>
/// Where an update rule's experience comes from: the seam between collection and learning. The
/// local <see cref="RolloutCollector"/> steps a vector env in this process; a distributed source
/// (RLAgents.Distributed) fills the same buffers from trajectory batches that rollout workers on
/// other processes or machines sent. Update rules see only buffers and these counters, so every
/// algorithm runs unchanged on either.
/// </summary>
public interface IExperienceSource : IDisposable
{
    /// <summary>Layout of one observation in the buffers this source fills.</summary>
    ObservationSpace ObservationSpace { get; }

    /// <summary>The action space of one env: its <see cref="Space.ActionLayout"/> shapes the buffers' actions (integers and floats).</summary>
    Space ActionSpace { get; }

    /// <summary>Envs per rollout column set: a <see cref="RolloutBuffer"/> filled by this source has this many envs.</summary>
    int NumEnvs { get; }

    /// <summary>Env steps behind the experience delivered so far (summed over envs); restored on resume.</summary>
    long Steps { get; set; }

    /// <summary>The generator of this process's action draws (part of checkpoints).</summary>
    Rng Rng { get; }

    /// <summary>Recorders for the training episodes, or null; a source that cannot record throws when given some.</summary>
    EpisodeRecorderGroup? Recorders { get; set; }

    /// <summary>
    /// π(a|s) of the discrete actions taken since the caller last cleared it (see <see cref="RolloutCollector.ActionProbabilities"/>);
    /// a source whose actors run elsewhere may leave it empty.
    /// </summary>
    MetricsHistogram ActionProbabilities { get; }

    /// <summary>
    /// Check every env step's rewards and observations (<c>training.checkEnvSteps</c>); a violation stops collection with an
    /// <see cref="EnvFaultException"/>. A remote source's workers apply it where the envs run.
    /// </summary>
    bool CheckSteps { get; set; }

    /// <summary>Restarts the episodes with <paramref name="seed"/> (a resumed phase); a remote source leaves that to its workers.</summary>
    void Reset(long seed);

    /// <summary>Where the envs, the episodes in progress and the recorders stand, or null when that cannot be saved (<paramref name="reason"/> says why).</summary>
    RolloutState? CaptureState(out string? reason);

    /// <summary>Puts the envs back where <see cref="CaptureState"/> found them.</summary>
    void RestoreState(RolloutState state);

    /// <summary>Returns and clears the episodes finished since the last call.</summary>
    IReadOnlyList<EpisodeRecord> DrainEpisodes();

    /// <summary>
    /// Fills <paramref name="buffer"/> (T steps × <see cref="NumEnvs"/> envs, with V(s_{t+1}) per step) acted by
    /// the current policy with <paramref name="selection"/>; advances <see cref="Steps"/> by T · N.
    /// </summary>
    void CollectRollout(RolloutBuffer buffer, ActionSelection selection);

    /// <summary>
    /// Adds about <paramref name="steps"/> vector steps of transitions through <paramref name="nStep"/> into
    /// <paramref name="replay"/>, acting with <paramref name="selection"/> (called with the global step count).
    /// </summary>
    void CollectTransitions(int steps, Func<long, ActionSelection> selection, NStepAccumulator nStep, ReplayBuffer replay);
}

/// <summary>One RL phase as an experience source sees it when the runner asks for one.</summary>
/// <param name="Options">The experiment.</param>
/// <param name="Index">The phase's index in the schedule.</param>
/// <param name="Phase">The phase.</param>
/// <param name="Policy">The learner's policy (its weights are what the source's actors must act with).</param>
/// <param name="CollectorRng">The phase's action-draw generator in the learner's process (checkpointed with the phase).</param>
/// <param name="EnvStepsBefore">Env steps of the run before this phase.</param>
/// <param name="Resumed">The phase continues from a mid-phase checkpoint.</param>
public sealed record ExperiencePhase(Training.ExperimentOptions Options, int Index, Phases.PhaseOptions Phase, Policies.Policy Policy, Rng CollectorRng,
    long EnvStepsBefore, bool Resumed);

/// <summary>Supplies each RL phase's experience in place of local envs (distributed training plugs in here).</summary>
public interface IExperienceSourceFactory
{
    /// <summary>The source of <paramref name="phase"/>; the algorithm built on it owns and disposes it.</summary>
    IExperienceSource Create(ExperiencePhase phase);
}
