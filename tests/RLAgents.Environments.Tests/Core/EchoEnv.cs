namespace RLAgents.Environments.Tests.Core;

/// <summary>
/// An env of any action space that writes the action it received into its observation (integers,
/// then floats, as float32), so tests can see exactly what reached it; episodes last
/// <paramref name="length"/> steps and the reward is the step number.
/// </summary>
internal sealed class EchoEnv(Space actionSpace, int length = 5) : Env
{
    private readonly ObservationSpace _space = ObservationSpace.Single("echo",
        new BoxSpace(float.NegativeInfinity, float.PositiveInfinity, [Math.Max(1, actionSpace.ActionLayout.DiscreteCount + actionSpace.ActionLayout.ContinuousCount)]));
    private Observation? _obs;
    private int _t;

    public static readonly DictSpace GearAndSteering = new(
        ("gear", new DiscreteSpace(3, start: -1)),
        ("steer", new BoxSpace(-1f, 1f, [2])),
        ("lights", new MultiDiscreteSpace(2, 4)));

    public override EnvId Id => new("Echo", 0);
    public override ObservationSpace ObservationSpace => _space;
    public override Space ActionSpace => actionSpace;

    /// <summary>The action of the latest step, as received.</summary>
    public (int[] Discrete, float[] Continuous) Last { get; private set; } = ([], []);

    protected override ResetResult ResetCore()
    {
        _t = 0;
        _obs ??= new Observation(_space);
        _obs.Floats(0).Clear();
        return new ResetResult(_obs, default);
    }

    protected override StepResult StepCore(EnvAction action)
    {
        _t++;
        Last = (action.Discrete.ToArray(), action.Continuous.ToArray());
        var o = _obs!.Floats(0);
        for (int i = 0; i < action.Discrete.Length; i++) o[i] = action.Discrete[i];
        for (int i = 0; i < action.Continuous.Length; i++) o[action.Discrete.Length + i] = action.Continuous[i];
        return new StepResult(_obs, _t, _t == length, false, default);
    }
}
