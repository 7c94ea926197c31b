using System.ComponentModel.DataAnnotations;
using RLAgents.Environments;

namespace RLAgents.TestPlugin;

/// <summary>The contract violation a <see cref="Faulty"/> env commits.</summary>
public enum FaultKind
{
    /// <summary>None: a healthy env, the baseline.</summary>
    None,
    /// <summary>Step throws once the instance has taken <see cref="FaultyOptions.After"/> steps.</summary>
    StepThrows,
    /// <summary>Reset throws from the instance's <see cref="FaultyOptions.After"/>-th reset on.</summary>
    ResetThrows,
    /// <summary>The constructor rejects its options with an ArgumentException.</summary>
    ConstructorThrows,
    /// <summary>Every <see cref="FaultyOptions.After"/>-th step's reward is NaN.</summary>
    NaNReward,
    /// <summary>Every <see cref="FaultyOptions.After"/>-th step's reward is +∞.</summary>
    InfiniteReward,
    /// <summary>Every <see cref="FaultyOptions.After"/>-th step's observation holds a NaN.</summary>
    NaNObservation,
    /// <summary>Every <see cref="FaultyOptions.After"/>-th step's observation lies outside the declared bounds.</summary>
    OutOfSpace,
    /// <summary>Observations are uint8 although the space declares float32.</summary>
    WrongDtype,
    /// <summary>Observations are shaped [3, 2] although the space declares [2, 3] (same size).</summary>
    TransposedShape,
    /// <summary>Step returns no observation.</summary>
    NullObservation,
    /// <summary>Episodes end with terminated and truncated both true (no time limit involved).</summary>
    BothFlags,
    /// <summary>Every instance writes into one static observation buffer.</summary>
    SharedBuffer,
}

/// <summary>Options of <see cref="Faulty"/>.</summary>
public sealed class FaultyOptions
{
    /// <summary>The violation to commit.</summary>
    public FaultKind Fault { get; set; }

    /// <summary>When (steps or resets, see <see cref="FaultKind"/>) the fault shows.</summary>
    [Range(1, int.MaxValue)]
    public int After { get; set; } = 1;

    /// <summary>Add a character-level text modality <c>note</c> (no vocabulary: policies tokenize its bytes).</summary>
    public bool Text { get; set; }
}

/// <summary>
/// A deliberately wrong plug-in env for the error-path tests (checker, runner, command line): a healthy
/// 20-step walk over a float32 [2, 3] observation in [0, 1] until it commits the <see cref="FaultyOptions.Fault"/> chosen.
/// </summary>
[EnvironmentInfo("Faulty-v0", Description = "Test plug-in: commits one chosen contract violation.")]
public sealed class Faulty : Env
{
    private static readonly DiscreteSpace Moves = new(2);
    private static Observation? s_shared;

    private readonly FaultyOptions _options;
    private readonly ObservationSpace _space;
    private readonly Observation _observation, _wrong;
    private int _t, _steps, _resets;

    /// <summary>Creates the env.</summary>
    public Faulty(FaultyOptions options)
    {
        if (options.Fault == FaultKind.ConstructorThrows) throw new ArgumentException("Faulty: this constructor rejects its options (fault constructorThrows).", nameof(options));
        _options = options;
        var state = new Modality("state", new BoxSpace(0f, 1f, [2, 3]));
        _space = options.Text ? new ObservationSpace(state, new Modality("note", new TextSpace(16))) : new ObservationSpace(state);
        _observation = options.Fault == FaultKind.SharedBuffer ? s_shared ??= new Observation(_space) : new Observation(_space);
        _wrong = new Observation(options.Fault switch
        {
            FaultKind.WrongDtype => ObservationSpace.Single("state", new BoxSpace(0, 1, [2, 3], DType.UInt8)),
            FaultKind.TransposedShape => ObservationSpace.Single("state", new BoxSpace(0f, 1f, [3, 2])),
            _ => _space,
        });
    }

    /// <inheritdoc />
    public override EnvId Id => new("Faulty", 0);

    /// <inheritdoc />
    public override ObservationSpace ObservationSpace => _space;

    /// <inheritdoc />
    public override DiscreteSpace ActionSpace => Moves;

    /// <inheritdoc />
    protected override ResetResult ResetCore()
    {
        _resets++;
        if (_options.Fault == FaultKind.ResetThrows && _resets >= _options.After) throw new InvalidOperationException($"Faulty: reset {_resets} fails.");
        _t = 0;
        Write(Random.NextInt(1000) / 1000f);
        return new ResetResult(Returned(), default);
    }

    /// <inheritdoc />
    protected override StepResult StepCore(int action)
    {
        _steps++;
        _t++;
        bool due = _steps % _options.After == 0;
        if (_options.Fault == FaultKind.StepThrows && _steps >= _options.After) throw new InvalidOperationException($"Faulty: step {_steps} fails.");
        Write(action == 1 ? 0.9f : Random.NextInt(1000) / 1000f);
        if (due && _options.Fault == FaultKind.NaNObservation) _observation.Floats(0)[4] = float.NaN;
        if (due && _options.Fault == FaultKind.OutOfSpace) _observation.Floats(0)[2] = 1.5f;
        double reward = due && _options.Fault == FaultKind.NaNReward ? double.NaN : due && _options.Fault == FaultKind.InfiniteReward ? double.PositiveInfinity : action;
        bool end = _t == 20;
        if (_options.Fault == FaultKind.NullObservation) return new StepResult(null!, reward, end, false, default);
        return new StepResult(Returned(), reward, end, end && _options.Fault == FaultKind.BothFlags, new StepInfo(IsSuccess: end));
    }

    private void Write(float first)
    {
        var state = _observation.Floats(0);
        for (int i = 0; i < state.Length; i++) state[i] = i == 0 ? first : (_t + i) % 7 / 7f;
        if (_options.Text) _observation.SetText(1, $"step {_t}");
    }

    private Observation Returned() => _options.Fault is FaultKind.WrongDtype or FaultKind.TransposedShape ? _wrong : _observation;
}
