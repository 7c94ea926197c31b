namespace RLAgents.Environments.Wrappers;

/// <summary>
/// Clips every continuous action element into the inner environment's Box bounds before stepping it
/// (Gymnasium's <c>ClipAction</c>); discrete elements pass through. The action space stays the
/// inner one, whose bounds are the meaningful range: finite values beyond them are valid input
/// everywhere (only NaN and ±∞ are rejected), and this wrapper maps them to the nearest bound.
/// </summary>
public sealed class ClipAction : Wrapper
{
    private readonly float[] _low;
    private readonly float[] _high;
    private readonly float[] _clipped; // the action passed on, [Kc]

    /// <summary>Wraps <paramref name="inner"/>, whose action space must have continuous elements (a Box, or a Dict with Box parts).</summary>
    public ClipAction(IEnv inner) : base(inner)
    {
        var layout = inner.ActionSpace.ActionLayout;
        if (layout.ContinuousCount == 0) throw new UnsupportedActionSpaceException(nameof(ClipAction), "a Box (or a Dict with Box parts)", inner.ActionSpace);
        _low = layout.Low.ToArray();
        _high = layout.High.ToArray();
        _clipped = new float[layout.ContinuousCount];
    }

    /// <inheritdoc />
    protected override StepResult StepCore(EnvAction action)
    {
        var values = action.Continuous;
        for (int i = 0; i < _clipped.Length; i++) _clipped[i] = Math.Clamp(values[i], _low[i], _high[i]);
        return Inner.Step(new EnvAction(action.Discrete, _clipped));
    }
}
