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

/// <summary>
/// A user-style env that only its text explains: the instruction (<c>mission</c>) says "go left" or "go right",
/// a vector <c>position</c> in [−1, 1] is drawn at random and says nothing about the goal, the action is a
/// velocity a ∈ [−1, 1], and the one step's reward is a toward the instructed side (−a for left): +1 at best,
/// 0 on average for any policy that ignores the text.
/// </summary>
internal sealed class InstructedReachEnv : Env, ITextVocabulary
{
    private static readonly ObservationSpace Space = new(
        new Modality("position", new BoxSpace(-1, 1, [1])),
        new Modality("mission", new TextSpace(16)));
    private readonly Observation _obs = new(Space);
    private int _direction;

    public override EnvId Id => new("InstructedReach", 0);
    public override ObservationSpace ObservationSpace => Space;
    public override BoxSpace ActionSpace { get; } = new(-1, 1, [1]);
    public IReadOnlyList<string> TextVocabulary { get; } = ["go", "left", "right"];

    protected override ResetResult ResetCore()
    {
        _direction = Random.NextInt(2) == 0 ? -1 : 1;
        _obs.Floats(0)[0] = (float)(2 * Random.NextDouble() - 1);
        _obs.SetText(1, _direction < 0 ? "go left" : "go right");
        return new ResetResult(_obs, default);
    }

    protected override StepResult StepCore(EnvAction action) =>
        new(_obs, _direction * Math.Clamp(action.Continuous[0], -1f, 1f), true, false, default);

    public static IVectorEnv Vector(int n) => new SyncVectorEnv(_ => new InstructedReachEnv(), n, AutoresetMode.SameStep);
}
