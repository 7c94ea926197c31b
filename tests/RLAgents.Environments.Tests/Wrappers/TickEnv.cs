namespace RLAgents.Environments.Tests.Wrappers;

/// <summary>
/// An env whose every value identifies (episode, step): frame uint8 (default [2,2,1], bounds 0..255)
/// with element i = <see cref="Value"/>(episode, t, i) = 1 + 16·episode + t + i, heading
/// Discrete(4, start 1) = 1 + t mod 4, pos float32 [2] = (t, −episode), a text note "e&lt;episode&gt;".
/// Action 1 terminates the episode; action 0 continues. Steps allocate nothing.
/// </summary>
internal sealed class TickEnv : Env
{
    /// <summary>The space with the default [2, 2, 1] frame.</summary>
    public static readonly ObservationSpace Space = SpaceFor([2, 2, 1]);

    private readonly Observation _obs;
    private int _episode = -1, _t;
    private string _note = "";

    /// <summary>Creates the env; <paramref name="frameShape"/> gives the frame's shape (e.g. [3, 2, 3] for RGB, [2, 2] without a channel axis).</summary>
    public TickEnv(int[]? frameShape = null)
    {
        ObservationSpace = frameShape is null ? Space : SpaceFor(frameShape);
        _obs = new Observation(ObservationSpace);
    }

    public override EnvId Id => new("Tick", 0);
    public override ObservationSpace ObservationSpace { get; }
    public override DiscreteSpace ActionSpace { get; } = new(2);

    /// <summary>Element <paramref name="i"/> of the frame at step <paramref name="t"/> of episode <paramref name="episode"/>.</summary>
    public static byte Value(int episode, int t, int i) => (byte)(1 + 16 * episode + t + i);

    private static ObservationSpace SpaceFor(int[] frameShape) => new(
        new Modality("frame", new BoxSpace(0f, 255f, frameShape, DType.UInt8)),
        new Modality("heading", new DiscreteSpace(4, start: 1)),
        new Modality("note", new TextSpace(16)),
        new Modality("pos", new BoxSpace(-1000f, 1000f, [2])));

    protected override ResetResult ResetCore()
    {
        _episode++;
        _t = 0;
        _note = $"e{_episode}";
        return new ResetResult(Write(), default);
    }

    protected override StepResult StepCore(int action)
    {
        _t++;
        return new StepResult(Write(), 1, action == 1, false, default);
    }

    private Observation Write()
    {
        var frame = _obs.Bytes(0);
        for (int i = 0; i < frame.Length; i++) frame[i] = Value(_episode, _t, i);
        _obs.SetInt(1, 1 + _t % 4);
        _obs.SetText(2, _note);
        _obs.Floats(3)[0] = _t;
        _obs.Floats(3)[1] = -_episode;
        return _obs;
    }
}
