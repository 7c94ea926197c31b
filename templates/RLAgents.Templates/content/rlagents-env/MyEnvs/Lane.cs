using System.ComponentModel.DataAnnotations;
using RLAgents.Environments;

namespace MyEnvs;

/// <summary>Options of <see cref="Lane"/>, bound from <c>env.options</c> of an experiment file (unknown keys and out-of-range values are errors).</summary>
public sealed class LaneOptions
{
    /// <summary>Number of cells in the lane.</summary>
    [Range(3, 100)]
    public int Length { get; set; } = 7;

    /// <summary>Reward of every step that does not reach the goal (a small cost for dawdling).</summary>
    [Range(-1.0, 0.0)]
    public double StepPenalty { get; set; } = -0.01;
}

/// <summary>
/// Walk a lane of cells to the goal at one of its ends. Observations: <c>position</c> (Box float32 [1] in [0, 1])
/// and <c>goal</c> (Discrete(2): 0 the left end, 1 the right end). Actions: 0 left, 1 right. Reaching the goal
/// terminates the episode with reward 1 and reports success; the time limit (truncation) comes from
/// <see cref="EnvironmentInfoAttribute.MaxEpisodeSteps"/>. Optional capabilities let RLAgents' generic tools use
/// it: <see cref="IRenderText"/> (ASCII replay), <see cref="IActionNames"/> (names in logs and the viewer) and
/// <see cref="IExpertEnv"/> (expert demonstrations for supervised fine-tuning).
/// </summary>
[EnvironmentInfo("Lane-v0", MaxEpisodeSteps = 40, Description = "Walk a lane to the goal end.")]
public sealed class Lane : Env, IRenderText, IActionNames, IExpertEnv
{
    private static readonly EnvId LaneId = new("Lane", 0);
    private static readonly DiscreteSpace Moves = new(2);

    private readonly LaneOptions _options;
    private readonly ObservationSpace _space;
    private readonly Observation _observation;
    private int _cell, _goal;

    /// <summary>Creates the lane.</summary>
    public Lane(LaneOptions options)
    {
        _options = options;
        _space = new ObservationSpace(new Modality("position", new BoxSpace(0f, 1f, [1])), new Modality("goal", new DiscreteSpace(2)));
        _observation = new Observation(_space);
    }

    /// <inheritdoc />
    public override EnvId Id => LaneId;

    /// <inheritdoc />
    public override ObservationSpace ObservationSpace => _space;

    /// <inheritdoc />
    public override DiscreteSpace ActionSpace => Moves;

    /// <inheritdoc />
    public IReadOnlyList<string> ActionNames { get; } = ["left", "right"];

    /// <inheritdoc />
    protected override ResetResult ResetCore()
    {
        // Random is seeded by Reset(seed): the same seed gives the same episode.
        _goal = Random.NextInt(2);
        int goalCell = GoalCell;
        do _cell = Random.NextInt(_options.Length); while (_cell == goalCell);
        _observation.SetInt(1, _goal);
        Write();
        return new ResetResult(_observation, default);
    }

    /// <inheritdoc />
    protected override StepResult StepCore(int action)
    {
        _cell = Math.Clamp(_cell + (action == 1 ? 1 : -1), 0, _options.Length - 1);
        Write();
        bool reached = _cell == GoalCell;
        return new StepResult(_observation, reached ? 1.0 : _options.StepPenalty, reached, false, new StepInfo(IsSuccess: reached));
    }

    /// <summary>The lane as text: <c>A</c> the walker, <c>G</c> the goal.</summary>
    public string RenderText()
    {
        var cells = Enumerable.Repeat('.', _options.Length).ToArray();
        cells[GoalCell] = 'G';
        cells[_cell] = 'A';
        return "[" + new string(cells) + "]";
    }

    /// <summary>An expert that walks straight to the goal.</summary>
    public IExpert CreateExpert() => new WalkToGoal(this);

    private int GoalCell => _goal == 0 ? 0 : _options.Length - 1;

    private void Write() => _observation.Floats(0)[0] = _cell / (float)(_options.Length - 1);

    private sealed class WalkToGoal(Lane lane) : IExpert
    {
        public int Act(int? actionTaken = null) => lane._goal;
    }
}
