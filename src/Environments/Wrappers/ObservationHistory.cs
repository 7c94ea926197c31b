namespace RLAgents.Environments.Wrappers;

/// <summary>
/// Adds memory across steps to an environment: every observation also carries the previous K
/// values of the chosen modalities (<c>x_history</c>, most recent first) and <c>history_mask</c>
/// (see <see cref="ObservationHistoryLayout"/>). Reset starts an empty, fully masked history; each
/// step pushes the previous observation in, so the observation that ends an episode (terminated or
/// truncated) carries its own episode's history. For vector environments wrap the vector env with
/// <see cref="ObservationHistoryVectorEnv"/> instead (it also handles autoreset).
/// </summary>
public sealed class ObservationHistory : Wrapper
{
    private readonly ObservationHistoryLayout _layout;
    private readonly ObservationBatch _state; // one slot: current values and history
    private readonly Observation _output;

    /// <summary>Wraps <paramref name="inner"/>; bad options throw a configuration error naming <c>env.memory</c>.</summary>
    public ObservationHistory(IEnv inner, ObservationHistoryOptions options) : base(inner)
    {
        ArgumentNullException.ThrowIfNull(options);
        _layout = ObservationHistoryLayout.Create(inner.ObservationSpace, options.Steps, options.Modalities, anchored: options.Anchored);
        _state = new ObservationBatch(_layout.Space, 1);
        _output = new Observation(_layout.Space);
    }

    /// <summary>The inner space plus the history modalities and the mask.</summary>
    public override ObservationSpace ObservationSpace => _layout.Space;

    /// <summary>The memory layout.</summary>
    public ObservationHistoryLayout Layout => _layout;

    /// <inheritdoc />
    protected override ResetResult ResetCore(long? seed)
    {
        var r = Inner.Reset(seed);
        _layout.Clear(_state, 0);
        return r with { Observation = Emit(r.Observation) };
    }

    /// <inheritdoc />
    protected override StepResult AfterStep(StepResult r)
    {
        _layout.Push(_state, 0);
        return r with { Observation = Emit(r.Observation) };
    }

    private Observation Emit(Observation current)
    {
        ObservationHistoryLayout.CopyBase(current, _state, 0);
        _state.Get(0, _output);
        return _output;
    }
}
