using RLAgents.Environments.GridWorld.Bot;
using RLAgents.Environments.GridWorld.Rendering;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.GridWorld;

/// <summary>GridWorld's optional abilities: pictures and text of the grid, pixel observations, action names, the BabyAI vocabulary,
/// the expert bot and start states (an episode's layout, so that recording an unseeded reset leaves the level's random stream alone).</summary>
public sealed partial class GridWorldEnv : IRenderFrame, IRenderText, IActionNames, ITextVocabulary, IExpertEnv, IPixelObservationEnv, IStartStateEnv
{
    private static readonly string[] s_actionNames = ["left", "right", "forward", "pickup", "drop", "toggle", "done"];
    private TileRenderer? _frameRenderer;

    /// <summary>Pixels per tile of <see cref="RenderFrame"/> (16 by default).</summary>
    public int RenderTileSize
    {
        get => _frameRenderer?.TileSize ?? 16;
        set => _frameRenderer = value == _frameRenderer?.TileSize ? _frameRenderer : new TileRenderer(value);
    }

    /// <inheritdoc />
    public IReadOnlyList<string> ActionNames => s_actionNames;

    /// <summary>
    /// False for levels whose agent starts carrying the object to move (PutNext…Carrying): a layout holds the grid only, so
    /// recorders seed those levels' resets instead. Set by <see cref="Levels.BabyAILevels.Make"/>.
    /// </summary>
    public bool CanCaptureStartState { get; init; } = true;

    /// <summary>The current episode's start as a format-2 layout (<see cref="GridWorldLayout.ToJson"/>); call right after a reset.</summary>
    public string CaptureStartState() => GridWorldLayout.Capture(this).ToJson();

    /// <summary>Starts the episode <paramref name="startState"/> (a layout) describes, with new objects, and returns its first observation.</summary>
    public Observation RestoreStartState(string startState)
    {
        GridWorldEpisode episode;
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(startState);
            episode = GridWorldLayout.FromJson(json.RootElement).Build(Options.UseDoneActions);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException or ArgumentException)
        {
            throw new FormatException($"{Id}: the start state is not a grid-world layout: {e.Message}", e);
        }
        Start(episode);
        return CurrentObservation;
    }

    /// <inheritdoc />
    public IReadOnlyList<string> TextVocabulary => GridWorldVocabulary.Words;

    /// <summary>The whole grid with the agent and its highlighted field of view, [height·tile, width·tile, 3].</summary>
    public RgbFrame RenderFrame()
    {
        _frameRenderer ??= new TileRenderer(16);
        var (w, h) = Size;
        return new RgbFrame(w * _frameRenderer.TileSize, h * _frameRenderer.TileSize, _frameRenderer.RenderEnv(this));
    }

    /// <inheritdoc />
    public string RenderText() => RenderAscii();

    /// <summary>Minigrid's RGB observations (<see cref="GridWorldPixels"/>); full views take the grid size from the BabyAI level id.</summary>
    public IEnv AddPixelObservation(IEnv env, PixelObservationOptions options, string path) => new GridWorldPixels(env, options, path: path);

    /// <summary>The BabyAI bot, planning on this environment's current state.</summary>
    public IExpert CreateExpert() => new BotExpert(this);

    private sealed class BotExpert(GridWorldEnv env) : IExpert
    {
        private readonly ExpertPolicy _policy = new();

        public int Act(int? actionTaken = null) => _policy.Act(env, actionTaken);
    }
}
