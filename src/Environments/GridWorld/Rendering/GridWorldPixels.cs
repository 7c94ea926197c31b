using RLAgents.Environments.Configuration;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.GridWorld.Rendering;

/// <summary>
/// RGB pictures as an observation modality of a GridWorld / BabyAI environment, byte-identical
/// to Minigrid 3.1 (see <see cref="TileRenderer"/>): uint8 [rows, columns, 3], bounds 0..255,
/// channels last. The agent's view is rendered from the inner observation's symbolic
/// <c>image</c>, so it also works over anything that emits Minigrid's 7×7×3 encoding; the full
/// grid is rendered from the <see cref="GridWorldEnv"/> under the wrapper chain, whose grid size
/// must be known when the wrapper is built (BabyAI level ids give it; layouts pass it). Steps
/// only copy cached tiles and allocate nothing. Generic code reaches it through
/// <see cref="GridWorldEnv"/>'s <see cref="IPixelObservationEnv"/> capability (<c>env.pixels</c>).
/// </summary>
public sealed class GridWorldPixels : ObservationWrapper
{
    private readonly ObservationSpace _space;
    private readonly Observation _output;
    private readonly TileRenderer _renderer;
    private readonly PixelView _view;
    private readonly GridWorldEnv? _world;
    private readonly int _symbolic, _pixels; // index of the inner symbolic view; index of the picture in the output
    private readonly bool[] _skip;
    private readonly (int Width, int Height) _gridSize;

    /// <summary>
    /// Wraps <paramref name="inner"/>. For full-grid views <paramref name="gridSize"/> gives the
    /// grid's width and height; null takes them from the BabyAI level of the env's id. Bad options
    /// throw <see cref="ConfigurationException"/> naming <paramref name="path"/>.
    /// </summary>
    public GridWorldPixels(IEnv inner, PixelObservationOptions options, (int Width, int Height)? gridSize = null, string path = "env.pixels") : base(inner)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Enum.IsDefined(options.View)) throw new ConfigurationException($"{path}.view", $"unknown view {options.View}");
        if (options.TileSize is < 1 or > 64) throw new ConfigurationException($"{path}.tileSize", $"must be 1..64 pixels, got {options.TileSize}");
        if (string.IsNullOrWhiteSpace(options.Modality)) throw new ConfigurationException($"{path}.modality", "name the pixel modality (\"image\" replaces the symbolic view)");
        _view = options.View;
        _renderer = new TileRenderer(options.TileSize);
        var source = inner.ObservationSpace;
        if (!source.TryGetIndex("image", out _symbolic) || source[_symbolic].Space is not BoxSpace { DType: DType.UInt8, Shape: [GridConstants.ViewSize, GridConstants.ViewSize, 3] })
            throw new ConfigurationException(path, $"{inner.Id} has no symbolic 7x7x3 'image' to render (observation {source}); wrap a GridWorld environment, once");

        int[] shape;
        if (_view == PixelView.Agent)
        {
            int side = GridConstants.ViewSize * options.TileSize;
            shape = [side, side, 3];
        }
        else
        {
            _world = inner.Find<GridWorldEnv>()
                ?? throw new ConfigurationException($"{path}.view", $"the {_view} view draws the whole grid, which needs a GridWorld environment under the wrappers; {inner.Id} is {inner.Unwrapped().GetType().Name}");
            _gridSize = gridSize ?? LevelGridSize(inner.Id)
                ?? throw new ConfigurationException($"{path}.view", $"the grid size of {inner.Id} is not known before a reset; pass it (only BabyAI level ids give it)");
            if (_gridSize.Width < 3 || _gridSize.Height < 3) throw new ArgumentOutOfRangeException(nameof(gridSize), gridSize, "A grid is at least 3 x 3.");
            shape = [_gridSize.Height * options.TileSize, _gridSize.Width * options.TileSize, 3];
        }
        var picture = new BoxSpace(0f, 255f, shape, DType.UInt8);

        if (options.Modality == "image")
        {
            _pixels = _symbolic;
            _space = ImageModalities.Replace(source, [_symbolic], [picture]);
            _skip = ImageModalities.Mask(source.Count, [_symbolic]);
        }
        else
        {
            if (source.TryGetIndex(options.Modality, out _))
                throw new ConfigurationException($"{path}.modality", $"the observation already has a modality '{options.Modality}'");
            _pixels = source.Count;
            _space = new ObservationSpace([.. source.Modalities, new Modality(options.Modality, picture)]);
            _skip = new bool[source.Count];
        }
        _output = new Observation(_space);
    }

    /// <summary>The observation space: the inner one with the picture in place of, or after, the symbolic view.</summary>
    public override ObservationSpace ObservationSpace => _space;

    /// <summary>The picture rendered.</summary>
    public PixelView View => _view;

    /// <summary>The renderer (its tile size).</summary>
    public TileRenderer Renderer => _renderer;

    /// <summary>Width and height of a BabyAI level's grid ((room − 1)·columns + 1 by (room − 1)·rows + 1), or null for other ids.</summary>
    public static (int Width, int Height)? LevelGridSize(EnvId id) =>
        BabyAILevels.All.TryGetValue(id.ToString(), out var level)
            ? ((level.RoomSize - 1) * level.NumCols + 1, (level.RoomSize - 1) * level.NumRows + 1)
            : null;

    /// <inheritdoc />
    protected override Observation Transform(Observation observation, bool episodeStart)
    {
        ImageModalities.CopyOthers(observation, _output, _skip);
        var pixels = _output.Bytes(_pixels);
        if (_view == PixelView.Agent)
        {
            _renderer.RenderView(observation.Bytes(_symbolic), pixels);
            return _output;
        }
        var world = _world!;
        if (episodeStart && (world.Grid.Width, world.Grid.Height) != _gridSize)
            throw new InvalidOperationException($"{world.Id}: this episode's grid is {world.Grid.Width}x{world.Grid.Height}, but the pixel observation was declared for {_gridSize.Width}x{_gridSize.Height}.");
        _renderer.RenderEnv(world, _view == PixelView.FullHighlighted, pixels);
        return _output;
    }
}
