using RLAgents.Environments;

namespace RLAgents.Agents.Buffers;

/// <summary>
/// One on-policy rollout of T steps from N envs as plain preallocated arrays, time-major
/// (index t·N + i). Every field is a contiguous array, so a rollout can be packed as bytes and
/// shipped from a worker to a learner unchanged.
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
