using System.ComponentModel.DataAnnotations;
using RLAgents.Environments;

namespace RLAgents.TestPlugin;

/// <summary>Options of <see cref="Corridor"/>.</summary>
public sealed class CorridorOptions
{
    /// <summary>Number of cells in the corridor.</summary>
    [Range(2, 1000)]
    public int Length { get; set; } = 8;

    /// <summary>Reward on every step that does not reach the goal.</summary>
    [Range(-1.0, 0.0)]
    public double StepPenalty { get; set; } = -0.01;
}

/// <summary>
/// A user-style plug-in environment with three modalities: walk a corridor to the goal at one
/// end. Observation: <c>position</c> (Box float32 [1] in [0, 1]), <c>goal</c> (Discrete(2): 0 left
/// end, 1 right end) and <c>mission</c> (text). Actions: 0 left, 1 right. Reaching the goal
/// terminates with reward 1. It offers the optional capabilities generic tools use (pictures,
/// text, action names, its vocabulary and an expert), the way a user's env family would.
/// </summary>
[EnvironmentInfo("Corridor-v0", MaxEpisodeSteps = 50, Description = "Test plug-in: walk a corridor to the goal end.")]
public sealed class Corridor : Env, IRenderFrame, IRenderText, IActionNames, ITextVocabulary, IExpertEnv
{
    private const int CellPixels = 8;

    private static readonly EnvId CorridorId = new("Corridor", 0);
    private static readonly DiscreteSpace Moves = new(2);

    private readonly CorridorOptions _options;
    private readonly ObservationSpace _space;
    private readonly Observation _observation;
    private int _cell;
    private int _goal;

    /// <summary>Creates the corridor.</summary>
    public Corridor(CorridorOptions options)
    {
        _options = options;
        _space = new ObservationSpace(
            new Modality("position", new BoxSpace(0f, 1f, [1])),
            new Modality("goal", new DiscreteSpace(2)),
            new Modality("mission", new TextSpace(32)));
        _observation = new Observation(_space);
    }

    /// <inheritdoc />
    public override EnvId Id => CorridorId;

    /// <inheritdoc />
    public override ObservationSpace ObservationSpace => _space;

    /// <inheritdoc />
    public override DiscreteSpace ActionSpace => Moves;

    /// <inheritdoc />
    protected override ResetResult ResetCore()
    {
        _goal = Random.NextInt(2);
        // Start anywhere but the goal cell.
        int goalCell = _goal == 0 ? 0 : _options.Length - 1;
        do _cell = Random.NextInt(_options.Length); while (_cell == goalCell);
        _observation.SetInt(1, _goal);
        _observation.SetText(2, _goal == 0 ? "go to the left end" : "go to the right end");
        Write();
        return new ResetResult(_observation, default);
    }

    /// <inheritdoc />
    protected override StepResult StepCore(int action)
    {
        _cell = Math.Clamp(_cell + (action == 1 ? 1 : -1), 0, _options.Length - 1);
        Write();
        bool reached = _cell == (_goal == 0 ? 0 : _options.Length - 1);
        return new StepResult(_observation, reached ? 1.0 : _options.StepPenalty, reached, false, new StepInfo(IsSuccess: reached));
    }

    /// <inheritdoc />
    public IReadOnlyList<string> ActionNames { get; } = ["left", "right"];

    /// <inheritdoc />
    public IReadOnlyList<string> TextVocabulary { get; } = ["go", "to", "the", "left", "right", "end"];

    /// <summary>One row of cells: the goal green, the walker red, the rest grey.</summary>
    public RgbFrame RenderFrame()
    {
        int w = _options.Length * CellPixels, h = CellPixels;
        var pixels = new byte[w * h * 3];
        int goalCell = _goal == 0 ? 0 : _options.Length - 1;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int cell = x / CellPixels, i = (y * w + x) * 3;
                (pixels[i], pixels[i + 1], pixels[i + 2]) = cell == _cell ? ((byte)220, (byte)40, (byte)40)
                    : cell == goalCell ? ((byte)40, (byte)200, (byte)60) : ((byte)90, (byte)90, (byte)90);
            }
        return new RgbFrame(w, h, pixels);
    }

    /// <summary>The corridor as text: <c>A</c> the walker, <c>G</c> the goal.</summary>
    public string RenderText()
    {
        var cells = Enumerable.Repeat('.', _options.Length).ToArray();
        cells[_goal == 0 ? 0 : _options.Length - 1] = 'G';
        cells[_cell] = 'A';
        return "[" + new string(cells) + "]";
    }

    /// <summary>An expert that walks straight to the goal.</summary>
    public IExpert CreateExpert() => new WalkToGoal(this);

    private sealed class WalkToGoal(Corridor env) : IExpert
    {
        public int Act(int? actionTaken = null) => env._goal;
    }

    private void Write() => _observation.Floats(0)[0] = _cell / (float)(_options.Length - 1);
}
