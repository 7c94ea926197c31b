using RLAgents.Environments;

namespace RLAgents.Agents.Buffers;

/// <summary>
/// One on-policy rollout of T steps from N envs as plain preallocated arrays, time-major
/// (index t·N + i). Every field is a contiguous array, so a rollout packs as bytes (<see cref="Write"/>,
/// text observations as UTF-8 through <see cref="ObservationPacking"/>) and a learner unpacks a worker's
/// rollout into its own env columns (<see cref="ReadColumns"/>).
/// </summary>
public sealed class RolloutBuffer
{
    /// <summary>Allocates a rollout of <paramref name="steps"/> × <paramref name="envs"/> for <paramref name="space"/> and a Discrete action space.</summary>
    public RolloutBuffer(ObservationSpace space, int steps, int envs) : this(space, steps, envs, new DiscreteSpace(2).ActionLayout) { }

    /// <summary>Allocates a rollout of <paramref name="steps"/> × <paramref name="envs"/> for <paramref name="space"/> and actions of <paramref name="actions"/>.</summary>
    public RolloutBuffer(ObservationSpace space, int steps, int envs, ActionLayout actions)
    {
        if (steps <= 0 || envs <= 0) throw new ArgumentOutOfRangeException(nameof(steps), "A rollout needs at least one step and one env.");
        Steps = steps;
        Envs = envs;
        int n = steps * envs;
        Observations = new ObservationBatch(space, n);
        DiscreteCount = actions.DiscreteCount;
        ContinuousCount = actions.ContinuousCount;
        Actions = new int[n * DiscreteCount];
        ContinuousActions = new float[n * ContinuousCount];
        LogProbs = new float[n];
        Values = new float[n];
        Rewards = new float[n];
        NextValues = new float[n];
        Terminated = new bool[n];
        Ended = new bool[n];
        Advantages = new float[n];
        Returns = new float[n];
    }

    /// <summary>Steps per env, T.</summary>
    public int Steps { get; }

    /// <summary>Envs, N.</summary>
    public int Envs { get; }

    /// <summary>T · N.</summary>
    public int Count => Steps * Envs;

    /// <summary>s_t of each step.</summary>
    public ObservationBatch Observations { get; }

    /// <summary>Integers per action, Kd (1 for a Discrete space).</summary>
    public int DiscreteCount { get; }

    /// <summary>Floats per action, Kc.</summary>
    public int ContinuousCount { get; }

    /// <summary>a_t's integers, [T·N × Kd] (zero-based per element).</summary>
    public int[] Actions { get; }

    /// <summary>a_t's floats, [T·N × Kc], exactly as the env received them.</summary>
    public float[] ContinuousActions { get; }

    /// <summary>log π_old(a_t|s_t) at collection time.</summary>
    public float[] LogProbs { get; }

    /// <summary>V_old(s_t) at collection time.</summary>
    public float[] Values { get; }

    /// <summary>r_t.</summary>
    public float[] Rewards { get; }

    /// <summary>V_old(s_{t+1}) of the true next state (the final observation on truncation; unused on termination).</summary>
    public float[] NextValues { get; }

    /// <summary>The episode terminated at step t (no bootstrap).</summary>
    public bool[] Terminated { get; }

    /// <summary>The episode ended at step t (terminated or truncated).</summary>
    public bool[] Ended { get; }

    /// <summary>Advantage estimates, filled after collection.</summary>
    public float[] Advantages { get; }

    /// <summary>Value targets, filled after collection.</summary>
    public float[] Returns { get; }

    /// <summary>A recurrent policy's memory of each env entering the rollout, [N × H] row-major; null for memoryless policies.</summary>
    public float[]? InitialMemory { get; private set; }

    /// <summary><see cref="InitialMemory"/>, allocated for <paramref name="size"/> units per env on first use.</summary>
    public float[] InitialMemoryFor(int size)
    {
        if (InitialMemory is null || InitialMemory.Length != Envs * size) InitialMemory = new float[Envs * size];
        return InitialMemory;
    }

    /// <summary>
    /// float [T × N]: 0 where step t of env i begins an episode inside the rollout (the previous step ended one), else 1.
    /// A rollout's first step continues from <see cref="InitialMemory"/>, already cleared where an episode ended before it.
    /// </summary>
    public float[] ContinueFlags()
    {
        var flags = new float[Count];
        for (int k = 0; k < Count; k++) flags[k] = k < Envs || !Ended[k - Envs] ? 1 : 0;
        return flags;
    }

    /// <summary>
    /// Writes the collected fields (observations, actions, log-probabilities, values, rewards, next values,
    /// flags; not the advantages and returns, which the learner computes) as T, N, the action layout (Kd
    /// integers and Kc floats per action) and then each field's [T·N] values (actions [T·N × Kd] and [T·N × Kc]),
    /// then a recurrent policy's memory entering the rollout: H (0 for none) and [N × H] floats.
    /// </summary>
    public void Write(BinaryWriter w)
    {
        w.Write(Steps);
        w.Write(Envs);
        w.Write(DiscreteCount);
        w.Write(ContinuousCount);
        ObservationPacking.Write(w, Observations, 0, Count);
        ObservationPacking.Write<int>(w, Actions);
        ObservationPacking.Write<float>(w, ContinuousActions);
        ObservationPacking.Write<float>(w, LogProbs);
        ObservationPacking.Write<float>(w, Values);
        ObservationPacking.Write<float>(w, Rewards);
        ObservationPacking.Write<float>(w, NextValues);
        ObservationPacking.Write<bool>(w, Terminated);
        ObservationPacking.Write<bool>(w, Ended);
        // The learner replays each env's sequence from the memory it was collected with (PPO's ratio starts at 1).
        w.Write(InitialMemory is null ? 0 : InitialMemory.Length / Envs);
        if (InitialMemory is not null) ObservationPacking.Write<float>(w, InitialMemory);
    }

    /// <summary>
    /// Reads a rollout written by <see cref="Write"/> (same T and action layout, <paramref name="scratch"/>.Envs envs) into env
    /// columns [<paramref name="firstEnv"/>, firstEnv + scratch.Envs) of this buffer; <paramref name="scratch"/> is a buffer of
    /// the writer's shape that receives the data first. <paramref name="source"/> names the data in errors.
    /// </summary>
    public void ReadColumns(BinaryReader r, RolloutBuffer scratch, int firstEnv, string source)
    {
        int steps = r.ReadInt32(), envs = r.ReadInt32(), kd = r.ReadInt32(), kc = r.ReadInt32();
        if (steps != Steps || envs != scratch.Envs || scratch.Steps != Steps || firstEnv < 0 || firstEnv + envs > Envs)
            throw new InvalidDataException($"{source}: a rollout of {steps} steps × {envs} envs does not fit columns {firstEnv}.. of {Steps} × {Envs}.");
        if (kd != DiscreteCount || kc != ContinuousCount || scratch.DiscreteCount != kd || scratch.ContinuousCount != kc)
            throw new InvalidDataException($"{source}: a rollout with actions of {kd} integers and {kc} floats; this buffer holds {DiscreteCount} and {ContinuousCount}.");
        ObservationPacking.Read(r, scratch.Observations, 0, scratch.Count);
        ObservationPacking.Read<int>(r, scratch.Actions);
        ObservationPacking.Read<float>(r, scratch.ContinuousActions);
        ObservationPacking.Read<float>(r, scratch.LogProbs);
        ObservationPacking.Read<float>(r, scratch.Values);
        ObservationPacking.Read<float>(r, scratch.Rewards);
        ObservationPacking.Read<float>(r, scratch.NextValues);
        ObservationPacking.Read<bool>(r, scratch.Terminated);
        ObservationPacking.Read<bool>(r, scratch.Ended);
        int memory = r.ReadInt32();
        if (memory < 0 || memory > 1 << 20) throw new InvalidDataException($"{source}: a memory of {memory} units per env.");
        if (memory > 0)
        {
            var rows = scratch.InitialMemoryFor(memory);
            ObservationPacking.Read<float>(r, rows);
            rows.CopyTo(InitialMemoryFor(memory), firstEnv * memory);
        }
        for (int t = 0; t < Steps; t++)
            for (int j = 0; j < envs; j++)
            {
                int from = t * envs + j, to = t * Envs + firstEnv + j;
                scratch.Observations.CopySlot(from, Observations, to);
                scratch.Actions.AsSpan(from * kd, kd).CopyTo(Actions.AsSpan(to * kd, kd));
                scratch.ContinuousActions.AsSpan(from * kc, kc).CopyTo(ContinuousActions.AsSpan(to * kc, kc));
                LogProbs[to] = scratch.LogProbs[from];
                Values[to] = scratch.Values[from];
                Rewards[to] = scratch.Rewards[from];
                NextValues[to] = scratch.NextValues[from];
                Terminated[to] = scratch.Terminated[from];
                Ended[to] = scratch.Ended[from];
            }
    }

    /// <summary>Fills <see cref="Advantages"/> and <see cref="Returns"/> with GAE(λ).</summary>
    public void ComputeGae(double gamma, double lambda) =>
        Buffers.Returns.Gae(Steps, Envs, Rewards, Values, NextValues, Terminated, Ended, gamma, lambda, Advantages, Returns);

    /// <summary>Fills <see cref="Returns"/> with bootstrapped discounted returns and <see cref="Advantages"/> with G − V.</summary>
    public void ComputeDiscountedReturns(double gamma)
    {
        Buffers.Returns.Discounted(Steps, Envs, Rewards, NextValues, Terminated, Ended, gamma, Returns);
        for (int k = 0; k < Count; k++) Advantages[k] = Returns[k] - Values[k];
    }
}
