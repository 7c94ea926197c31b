using RLAgents.Environments;

namespace RLAgents.TestPlugin;

/// <summary>
/// A plug-in with no options and no <see cref="EnvironmentInfoAttribute"/>: it registers as
/// <c>CoinFlip-v0</c> with no step limit. Guess the seeded coin (observation: <c>round</c>,
/// float32 [1] in [0, 1]); the episode terminates after 10 guesses.
/// </summary>
public sealed class CoinFlip : Env
{
    private static readonly ObservationSpace Space = ObservationSpace.Single("round", new BoxSpace(0f, 1f, [1]));
    private static readonly DiscreteSpace Guesses = new(2);
    private readonly Observation _observation = new(Space);
    private int _round;

    /// <inheritdoc />
    public override EnvId Id => new("CoinFlip", 0);

    /// <inheritdoc />
    public override ObservationSpace ObservationSpace => Space;

    /// <inheritdoc />
    public override DiscreteSpace ActionSpace => Guesses;

    /// <inheritdoc />
    protected override ResetResult ResetCore()
    {
        _round = 0;
        _observation.Floats(0)[0] = 0;
        return new ResetResult(_observation, default);
    }

    /// <inheritdoc />
    protected override StepResult StepCore(int action)
    {
        bool right = Random.NextInt(2) == action;
        _round++;
        _observation.Floats(0)[0] = _round / 10f;
        return new StepResult(_observation, right ? 1 : 0, _round == 10, false, default);
    }
}

/// <summary>A plug-in whose declared id is malformed, for the registry's error-path tests.</summary>
[EnvironmentInfo("no version here")]
public sealed class BadIdEnv : Env
{
    /// <inheritdoc />
    public override EnvId Id => new("BadId", 0);

    /// <inheritdoc />
    public override ObservationSpace ObservationSpace => throw new NotSupportedException();

    /// <inheritdoc />
    public override DiscreteSpace ActionSpace => throw new NotSupportedException();

    /// <inheritdoc />
    protected override ResetResult ResetCore() => throw new NotSupportedException();

    /// <inheritdoc />
    protected override StepResult StepCore(int action) => throw new NotSupportedException();
}
