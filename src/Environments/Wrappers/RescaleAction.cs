namespace RLAgents.Environments.Wrappers;

/// <summary>
/// Presents the inner environment's Box action elements on new bounds, by default [−1, 1] (what a
/// tanh-squashed policy emits), and maps each back affinely before stepping (Gymnasium's
/// <c>RescaleAction</c>): <c>a_inner = low + (a − min) / (max − min) · (high − low)</c>, computed in
/// float64, so <c>min</c> maps to <c>low</c> and <c>max</c> to <c>high</c> exactly. Values beyond
/// [min, max] extrapolate (put <see cref="ClipAction"/> inside this wrapper to clip them).
/// Discrete elements pass through; a <see cref="DictSpace"/>'s Box parts are rescaled part by part.
/// </summary>
public sealed class RescaleAction : Wrapper
{
    private readonly Space _space;
    private readonly double[] _min, _low, _scale; // per continuous element: new min, inner low, inner high − low
    private readonly double[] _width;             // max − min per element
    private readonly float[] _mapped;             // the action passed on, [Kc]

    /// <summary>Rescales every continuous element to [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public RescaleAction(IEnv inner, float min = -1f, float max = 1f)
        : this(inner, Fill(inner, min), Fill(inner, max))
    {
    }

    /// <summary>Rescales continuous element i to [<paramref name="min"/>[i], <paramref name="max"/>[i]] (one entry per element, in layout order).</summary>
    public RescaleAction(IEnv inner, float[] min, float[] max) : base(inner)
    {
        ArgumentNullException.ThrowIfNull(min);
        ArgumentNullException.ThrowIfNull(max);
        var layout = inner.ActionSpace.ActionLayout;
        int kc = layout.ContinuousCount;
        if (kc == 0) throw new UnsupportedActionSpaceException(nameof(RescaleAction), "a Box (or a Dict with Box parts)", inner.ActionSpace);
        if (min.Length != kc || max.Length != kc)
            throw new ArgumentException($"{nameof(RescaleAction)} of {inner.ActionSpace}: got {min.Length} minima and {max.Length} maxima for {kc} continuous elements.");
        _min = new double[kc];
        _low = new double[kc];
        _scale = new double[kc];
        _width = new double[kc];
        for (int i = 0; i < kc; i++)
        {
            float lo = layout.Low[i], hi = layout.High[i];
            if (!float.IsFinite(lo) || !float.IsFinite(hi))
                throw new ArgumentException($"{nameof(RescaleAction)} needs finite bounds; continuous element {i} of {inner.ActionSpace} lies in [{lo}, {hi}].");
            if (!(float.IsFinite(min[i]) && float.IsFinite(max[i]) && min[i] < max[i]))
                throw new ArgumentException($"{nameof(RescaleAction)}: element {i}'s new bounds [{min[i]}, {max[i]}] must be finite with min < max.");
            _min[i] = min[i];
            _low[i] = lo;
            _scale[i] = (double)hi - lo;
            _width[i] = (double)max[i] - min[i];
        }
        _mapped = new float[kc];
        _space = Rebound(inner.ActionSpace, layout, min, max);
    }

    /// <summary>The inner action space with every Box part on the new bounds.</summary>
    public override Space ActionSpace => _space;

    /// <inheritdoc />
    protected override StepResult StepCore(EnvAction action)
    {
        var values = action.Continuous;
        for (int i = 0; i < _mapped.Length; i++)
            _mapped[i] = (float)(_low[i] + (values[i] - _min[i]) / _width[i] * _scale[i]);
        return Inner.Step(new EnvAction(action.Discrete, _mapped));
    }

    private static float[] Fill(IEnv inner, float value) => Enumerable.Repeat(value, (inner ?? throw new ArgumentNullException(nameof(inner))).ActionSpace.ActionLayout.ContinuousCount).ToArray();

    private static Space Rebound(Space space, ActionLayout layout, float[] min, float[] max)
    {
        var parts = layout.Parts.Select(p => p.Space is BoxSpace box
            ? new BoxSpace(min[p.ContinuousOffset..(p.ContinuousOffset + p.ContinuousCount)], max[p.ContinuousOffset..(p.ContinuousOffset + p.ContinuousCount)], box.ShapeArray())
            : p.Space).ToArray();
        return space is DictSpace ? new DictSpace(layout.Parts.Select((p, i) => (p.Name, parts[i])).ToArray()) : parts[0];
    }
}

/// <summary>Options of <see cref="RescaleAction"/> as an experiment's <c>env.rescaleAction</c> section gives them.</summary>
public sealed class RescaleActionOptions
{
    /// <summary>The new lower bound of every continuous action element (what the agent emits at the inner env's low).</summary>
    public float Min { get; set; } = -1f;

    /// <summary>The new upper bound of every continuous action element; must exceed <see cref="Min"/>.</summary>
    public float Max { get; set; } = 1f;
}
