using RLAgents.Core.Metrics;
using RLAgents.Agents.Buffers;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Checking;
using RLAgents.EpisodeLogs;
using RLAgents.Policies;
using RLAgents.Policies.Networks;
using RLAgents.Policies.Selection;
using static TorchSharp.torch;

namespace RLAgents.Agents.Collection;

/// <summary>A finished episode's undiscounted return, length and success (the last step's <see cref="StepInfo.IsSuccess"/>), as seen by the collector.</summary>
/// <param name="Return">Undiscounted return.</param>
/// <param name="Length">Steps.</param>
/// <param name="Success">The last step's <see cref="StepInfo.IsSuccess"/>.</param>
/// <param name="Task">The last step's <see cref="StepInfo.Task"/>: the episode's task in a mixture of tasks, else null.</param>
public readonly record struct EpisodeRecord(double Return, int Length, bool? Success, string? Task = null);

/// <summary>Where a collector stands between iterations, for checkpoints: its envs, the sums of the episodes in progress, and its recorders.</summary>
/// <param name="Env">The vector env's state (<see cref="IRestorableVectorEnv"/>).</param>
/// <param name="EpisodeReturns">Per env: the return of its episode so far.</param>
/// <param name="EpisodeLengths">Per env: the length of its episode so far.</param>
/// <param name="Recorders">The recorders' state, when the collector records episodes.</param>
/// <param name="Memory">A recurrent policy's memory of each env's episode in progress, [N × H] row-major; null for memoryless policies.</param>
public sealed record RolloutState(VectorEnvState Env, double[] EpisodeReturns, int[] EpisodeLengths, RecorderGroupState? Recorders, float[]? Memory = null);

/// <summary>
/// Drives an <see cref="IVectorEnv"/> (same-step autoreset) with a policy and fills buffers. It
/// knows nothing of update rules: on-policy learners read a <see cref="RolloutBuffer"/>,
/// off-policy learners a <see cref="ReplayBuffer"/>. Random action draws use its own
/// <see cref="Rng"/>, whose state is part of checkpoints. The local <see cref="IExperienceSource"/>:
/// it owns its env and disposes it.
/// </summary>
public sealed class RolloutCollector : IExperienceSource
{
    private readonly IVectorEnv _env;
    private ActResult _act;
    private EpisodeRecorderGroup? _recorders;
    private readonly ObservationBatch _truncated;
    private readonly ActionBatch _actions;
    private readonly ActionLayout _layout;
    private readonly int[] _zeroBased;
    private readonly int[] _truncatedIndex;
    private readonly int[] _truncatedSlot;
    private readonly RecurrentMemory? _memory;
    private float[] _values = []; // V of a step input's rows (truncations, the rollout's last step)
    private readonly double[] _episodeReturn;
    private readonly int[] _episodeLength;
    private readonly List<EpisodeRecord> _finished = [];
    private StepChecker? _checker;

    /// <summary>Creates the collector; call <see cref="Reset"/> before collecting.</summary>
    public RolloutCollector(IVectorEnv env, Policy policy, Rng rng)
    {
        if (env.AutoresetMode != AutoresetMode.SameStep)
            throw new ArgumentException($"The collector needs a vector env in SameStep autoreset mode (final observations for bootstrapping); got {env.AutoresetMode}.");
        _env = env;
        Policy = policy;
        Rng = rng;
        int n = env.NumEnvs;
        _layout = env.SingleActionSpace.ActionLayout;
        _act = new ActResult(n, _layout);
        _truncated = new ObservationBatch(env.SingleObservationSpace, n);
        _actions = new ActionBatch(env.SingleActionSpace, n);
        _zeroBased = new int[_layout.DiscreteCount];
        _truncatedIndex = new int[n];
        _truncatedSlot = new int[n];
        _memory = RecurrentMemory.For(policy, n);
        _episodeReturn = new double[n];
        _episodeLength = new int[n];
    }

    /// <summary>A collector over <paramref name="env"/> whose envs are reset with <paramref name="envSeed"/>.</summary>
    public static RolloutCollector Started(IVectorEnv env, Policy policy, Rng rng, long envSeed)
    {
        var collector = new RolloutCollector(env, policy, rng);
        collector.Reset(envSeed);
        return collector;
    }

    /// <summary>The acting policy.</summary>
    public Policy Policy { get; }

    /// <summary>The generator of action draws.</summary>
    public Rng Rng { get; }

    /// <summary>The environments.</summary>
    public IVectorEnv Env => _env;

    /// <inheritdoc />
    public ObservationSpace ObservationSpace => _env.SingleObservationSpace;

    /// <inheritdoc />
    public int NumEnvs => _env.NumEnvs;

    /// <inheritdoc />
    public Space ActionSpace => _env.SingleActionSpace;

    /// <summary>Disposes the environments.</summary>
    public void Dispose() => _env.Dispose();

    /// <summary>
    /// The recorders wrapping the env's sub-environments (slot i = sub-env i), or null. When set,
    /// each step's action distribution and value estimate (V(s) for actor-critics, Q(s, a) of the
    /// chosen action for Q-networks) go to the episode log with the step, taken from the forward
    /// pass that chose the action.
    /// </summary>
    public EpisodeRecorderGroup? Recorders
    {
        get => _recorders;
        set
        {
            _recorders = value;
            _act = new ActResult(_env.NumEnvs, _layout, describe: value is not null);
        }
    }

    /// <summary>Env steps taken (summed over envs).</summary>
    public long Steps { get; set; }

    /// <summary>
    /// π(a|s) of every discrete action taken since the caller last cleared it, as a 20-bin histogram over [0, 1]: how sure the
    /// acting distribution was (near 1: nearly deterministic; near 1/K: uniform). Filled from the log-probabilities
    /// the acting forward pass already computed; the runner writes it with each metrics row.
    /// </summary>
    public MetricsHistogram ActionProbabilities { get; } = new(0, 1, 20);

    /// <summary>
    /// Check every step's rewards and observations (<see cref="StepChecker"/>): a violation throws
    /// <see cref="EnvFaultException"/> before the policy sees the value. Turning it on checks the current observations.
    /// </summary>
    public bool CheckSteps
    {
        get => _checker is not null;
        set
        {
            _checker = value ? new StepChecker(_env) : null;
            _checker?.CheckReset(_env);
        }
    }

    /// <summary>Resets every env with <paramref name="seed"/> and forgets partial episodes.</summary>
    public void Reset(long seed)
    {
        _env.Reset(seed);
        _checker?.CheckReset(_env);
        _memory?.Clear();
        Array.Clear(_episodeReturn);
        Array.Clear(_episodeLength);
    }

    /// <summary>Where the envs, the episodes in progress and the recorders stand, or null when the env cannot save its state (<paramref name="reason"/> says why).</summary>
    public RolloutState? CaptureState(out string? reason)
    {
        reason = _env is IRestorableVectorEnv ? null : $"{_env.GetType().Name} cannot save its state";
        if (_env is not IRestorableVectorEnv restorable || restorable.CaptureState(out reason) is not { } env) return null;
        return new RolloutState(env, [.. _episodeReturn], [.. _episodeLength], _recorders?.CaptureState(), _memory?.Values.ToArray());
    }

    /// <summary>
    /// Puts the envs, the episodes in progress and the recorders back where <see cref="CaptureState"/> found them:
    /// the recorders reopen their episodes as the envs replay them.
    /// </summary>
    public void RestoreState(RolloutState state)
    {
        if (_env is not IRestorableVectorEnv restorable) throw new InvalidOperationException($"{_env.GetType().Name} cannot restore its state.");
        if (state.EpisodeReturns.Length != _env.NumEnvs || state.EpisodeLengths.Length != _env.NumEnvs)
            throw new InvalidDataException($"The saved rollout has {state.EpisodeReturns.Length} envs; this collector has {_env.NumEnvs}.");
        if (state.Recorders is { } recorders) _recorders?.PrepareRestore(recorders);
        restorable.RestoreState(state.Env);
        _checker?.CheckReset(_env);
        state.EpisodeReturns.CopyTo(_episodeReturn, 0);
        state.EpisodeLengths.CopyTo(_episodeLength, 0);
        if (_memory is not null)
        {
            if (state.Memory is not { } memory || memory.Length != _memory.Values.Length)
                throw new InvalidDataException($"The saved rollout holds {state.Memory?.Length ?? 0} memory values; this recurrent policy needs {_memory.Values.Length} ({_env.NumEnvs} envs × {_memory.Size}).");
            memory.CopyTo(_memory.Values);
        }
    }

    /// <summary>
    /// Report each finished episode's return as the environment's episode statistics (<see cref="StepInfo.Episode"/>)
    /// give it rather than the sum of the rewards the agent received: true when a wrapper outside them rescales
    /// rewards (<c>env.normalizeReward</c>), so that metrics and stopping read the environment's own returns.
    /// </summary>
    public bool EnvReturns { get; set; }

    /// <summary>Returns and clears the episodes finished since the last call.</summary>
    public IReadOnlyList<EpisodeRecord> DrainEpisodes()
    {
        var result = _finished.ToArray();
        _finished.Clear();
        return result;
    }

    /// <summary>
    /// Fills <paramref name="buffer"/> with T steps of every env, acting with <paramref name="selection"/>.
    /// V(s_{t+1}) is recorded per step: the next step's value, V(final observation) on truncation,
    /// and V(s_T) after the last step, so advantages need no further network calls.
    /// </summary>
    public void CollectRollout(RolloutBuffer buffer, ActionSelection selection)
    {
        var policy = Policy as ActorCriticPolicy ?? throw new InvalidOperationException("On-policy collection needs an actor-critic policy.");
        int n = _env.NumEnvs;
        if (buffer.Envs != n) throw new ArgumentException($"The buffer is for {buffer.Envs} envs; the vector env has {n}.");
        // Each env's memory entering the rollout: PPO replays the rollout's sequences from it.
        if (_memory is not null) _memory.Values.CopyTo(buffer.InitialMemoryFor(_memory.Size));
        for (int t = 0; t < buffer.Steps; t++)
        {
            long clock = IterationProfile.Start();
            var obs = _env.Observations;
            int row = t * n;
            for (int i = 0; i < n; i++) obs.CopySlot(i, buffer.Observations, row + i);
            // Spaces with text may fall back to fresh tensors, which a scope frees; in-place inputs need none (a scope is an
            // allocation per step, and Act scopes its own tensor calls).
            using (var scope = policy.Tensorizer.StepInputInPlace && _memory is null ? null : NewDisposeScope())
            {
                var input = policy.Tensorizer.ToStepInput(obs);
                _memory?.Attach(input, n);
                clock = IterationProfile.Stop(ProfileSection.Tensorize, clock);
                policy.Act(input, selection, Rng, _act);
                _memory?.Commit(input);
            }
            clock = IterationProfile.Stop(ProfileSection.Act, clock);
            TakeActions();
            int kd = _layout.DiscreteCount, kc = _layout.ContinuousCount;
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < kd; j++) buffer.Actions[(row + i) * kd + j] = _act.Actions[i * kd + j] - _layout.DiscreteStarts[j];
                _act.ContinuousOf(i).CopyTo(buffer.ContinuousActions.AsSpan((row + i) * kc, kc));
                buffer.LogProbs[row + i] = _act.LogProbs[i];
                buffer.Values[row + i] = _act.Values[i];
                if (t > 0 && !buffer.Ended[row - n + i]) buffer.NextValues[row - n + i] = _act.Values[i];
            }
            AttachAgentOutputs();
            StepEnvs();
            int truncatedCount = 0;
            for (int i = 0; i < n; i++)
            {
                int k = row + i;
                buffer.Rewards[k] = (float)_env.Rewards[i];
                buffer.Terminated[k] = _env.Terminated[i];
                buffer.Ended[k] = _env.Terminated[i] || _env.Truncated[i];
                buffer.NextValues[k] = 0;
                if (_env.Truncated[i] && !_env.Terminated[i])
                {
                    _env.FinalObservations.CopySlot(i, _truncated, truncatedCount);
                    _truncatedSlot[truncatedCount] = i;
                    _truncatedIndex[truncatedCount++] = k;
                }
            }
            clock = IterationProfile.Stop(ProfileSection.Env, clock);
            // Truncation bootstraps from V(final observation); a batched call over the truncated envs only (a recurrent
            // policy reads it with the memory the episode ended with, cleared just after).
            if (truncatedCount > 0) WriteValues(policy, _truncated, truncatedCount, buffer.NextValues, _truncatedIndex, _truncatedSlot);
            if (_memory is not null)
                for (int i = 0; i < n; i++)
                    if (buffer.Ended[row + i]) _memory.EndEpisode(i);
            IterationProfile.Stop(ProfileSection.Act, clock);
        }
        long last0 = IterationProfile.Start();
        // V(s_T) for the envs whose last step did not end an episode.
        int last = (buffer.Steps - 1) * n;
        int open = 0;
        for (int i = 0; i < n; i++)
            if (!buffer.Ended[last + i]) { _env.Observations.CopySlot(i, _truncated, open); _truncatedSlot[open] = i; _truncatedIndex[open++] = last + i; }
        if (open > 0) WriteValues(policy, _truncated, open, buffer.NextValues, _truncatedIndex, _truncatedSlot);
        IterationProfile.Stop(ProfileSection.Act, last0);
    }

    /// <summary>
    /// Takes <paramref name="steps"/> vector steps acting with <paramref name="selection"/> (called per
    /// step with the global step count, e.g. an ε schedule) and feeds every transition through
    /// <paramref name="nStep"/> into <paramref name="replay"/>.
    /// </summary>
    public void CollectTransitions(int steps, Func<long, ActionSelection> selection, NStepAccumulator nStep, ReplayBuffer replay)
    {
        if (_memory is not null) throw new InvalidOperationException("A recurrent policy (policy.recurrent) learns on-policy only: a replay buffer keeps no memory.");
        int n = _env.NumEnvs;
        for (int s = 0; s < steps; s++)
        {
            long clock = IterationProfile.Start();
            var obs = _env.Observations;
            ActionSelection chosen;
            // s_t must survive the step (the env rewrites its batch in place).
            for (int i = 0; i < n; i++) obs.CopySlot(i, _truncated, i);
            using (var scope = Policy.Tensorizer.StepInputInPlace ? null : NewDisposeScope())
            {
                var input = Policy.Tensorizer.ToStepInput(obs); // as in CollectRollout
                clock = IterationProfile.Stop(ProfileSection.Tensorize, clock);
                chosen = selection(Steps);
                Policy.Act(input, chosen, Rng, _act, withValues: _recorders is not null);
            }
            clock = IterationProfile.Stop(ProfileSection.Act, clock);
            TakeActions();
            AttachAgentOutputs();
            StepEnvs();
            int kd = _layout.DiscreteCount, kc = _layout.ContinuousCount;
            for (int i = 0; i < n; i++)
            {
                bool term = _env.Terminated[i], trunc = _env.Truncated[i];
                // A stateful exploration process restarts with the slot's episode.
                if (term || trunc) chosen.Noise?.EndEpisode(i);
                var next = term || trunc ? _env.FinalObservations : _env.Observations;
                for (int j = 0; j < kd; j++) _zeroBased[j] = _actions.Discrete[i * kd + j] - _layout.DiscreteStarts[j];
                nStep.Add(replay, i, _truncated, i, _zeroBased, _actions.Continuous.AsSpan(i * kc, kc), (float)_env.Rewards[i], next, i, term, trunc);
            }
            IterationProfile.Stop(ProfileSection.Env, clock);
        }
    }

    // The chosen actions become the step's batch (integers and floats as the policy wrote them).
    private void TakeActions() => _act.CopyTo(_actions);

    /// <summary>Hands each slot's distribution and value to its recorder, before the step that records them.</summary>
    private void AttachAgentOutputs()
    {
        if (_recorders is null) return;
        for (int i = 0; i < _env.NumEnvs; i++) _recorders.AttachAgentOutput(i, _act.ProbabilitiesOf(i), _act.Values[i]);
    }

    private void StepEnvs()
    {
        if (_layout.ContinuousCount == 0)
        {
            // π(a|s) is a probability only for discrete actions (a continuous log-density exponentiates past 1).
            for (int i = 0; i < _env.NumEnvs; i++) ActionProbabilities.Add(MathF.Exp(_act.LogProbs[i]));
            _env.Step(_actions.Discrete); // integer actions keep the integer fast path
        }
        else _env.Step(_actions);
        _checker?.CheckStep(_env);
        Steps += _env.NumEnvs;
        for (int i = 0; i < _env.NumEnvs; i++)
        {
            _episodeReturn[i] += _env.Rewards[i];
            _episodeLength[i]++;
            if (_env.Terminated[i] || _env.Truncated[i])
            {
                double episodeReturn = EnvReturns && _env.Infos[i].Episode is { } episode ? episode.Return : _episodeReturn[i];
                _finished.Add(new EpisodeRecord(episodeReturn, _episodeLength[i], _env.Infos[i].IsSuccess, _env.Infos[i].Task));
                _episodeReturn[i] = 0;
                _episodeLength[i] = 0;
            }
        }
    }

    private void WriteValues(ActorCriticPolicy policy, ObservationBatch batch, int count, float[] destination, int[] indices, int[] slots)
    {
        // The whole (env-sized) batch through the preallocated step input, rows ≥ count ignored: no per-rollout
        // copies that grow with the number of envs. values [N].
        using var scope = policy.Tensorizer.StepInputInPlace && _memory is null ? null : NewDisposeScope();
        var input = policy.Tensorizer.ToStepInput(batch, count);
        int rows = (int)input.Count;
        _memory?.AttachRows(input, slots.AsSpan(0, count), rows);
        if (_values.Length < rows) _values = new float[rows];
        policy.ValuesInto(input, rows, _values);
        input.Sequence = null; // the step input is persistent: the next pass attaches its own
        for (int j = 0; j < count; j++) destination[indices[j]] = _values[j];
    }
}
