using RLAgents.Environments;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Agents.Tests;

/// <summary>
/// A scripted environment: the observation is the step count within the episode, the reward is 1
/// per step, and the episode terminates after <c>terminateAt</c> steps (if set); a time limit
/// wrapper truncates it otherwise.
/// </summary>
internal sealed class CounterEnv(int? terminateAt) : Env
{
    private static readonly ObservationSpace Space = ObservationSpace.Single("count", new BoxSpace(0, 1000, [1]));
    private readonly Observation _obs = new(Space);
    private int _t;

    public override EnvId Id => new("Counter", 0);
    public override ObservationSpace ObservationSpace => Space;
    public override DiscreteSpace ActionSpace { get; } = new(2);

    protected override ResetResult ResetCore()
    {
        _t = 0;
        _obs.Floats(0)[0] = 0;
        return new ResetResult(_obs, default);
    }

    protected override StepResult StepCore(int action)
    {
        _t++;
        _obs.Floats(0)[0] = _t;
        return new StepResult(_obs, 1.0, terminateAt == _t, false, default);
    }

    /// <summary>Two envs in same-step autoreset: env 0 terminates after 3 steps, env 1 is truncated after 2.</summary>
    public static IVectorEnv TerminatingAndTruncating() => new SyncVectorEnv(i => i == 0
        ? new TimeLimit(new CounterEnv(3), 100)
        : new TimeLimit(new CounterEnv(null), 2), 2, AutoresetMode.SameStep);
}

/// <summary>
/// A one-step continuous bandit: the observation is a constant, the action a ∈ [−1, 1], the reward
/// −(a − 0.5)², and every episode terminates after its one step. The best action is 0.5.
/// </summary>
internal sealed class TargetEnv : Env
{
    private static readonly ObservationSpace Space = ObservationSpace.Single("state", new BoxSpace(-1, 1, [1]));
    private readonly Observation _obs = new(Space);

    public override EnvId Id => new("Target", 0);
    public override ObservationSpace ObservationSpace => Space;
    public override BoxSpace ActionSpace { get; } = new(-1, 1, [1]);

    protected override ResetResult ResetCore()
    {
        _obs.Floats(0)[0] = 1;
        return new ResetResult(_obs, default);
    }

    protected override StepResult StepCore(EnvAction action)
    {
        double d = action.Continuous[0] - 0.5;
        return new StepResult(_obs, NanRewards ? double.NaN : -d * d, true, false, default);
    }

    /// <summary>Every reward NaN: a broken env whose values reach the learner (step checks off).</summary>
    public bool NanRewards { get; init; }

    public static IVectorEnv Vector(int n, bool nanRewards = false) => new SyncVectorEnv(_ => new TargetEnv { NanRewards = nanRewards }, n, AutoresetMode.SameStep);
}
