namespace RLAgents.Environments.GridWorld;

/// <summary>
/// A Minigrid / BabyAI grid world with Minigrid 3.1's step semantics, behind the
/// <see cref="IEnv"/> contract. Episodes come from a BabyAI level generator (seeded through the
/// env's <see cref="Rng"/>) or from an explicit layout. Observations, in this fixed order:
/// <c>image</c> (uint8 [7, 7, 3], the egocentric view), <c>direction</c> (Discrete(4)),
/// <c>mission</c> (text) and, unless turned off, <c>description</c> (text).
/// The env truncates by itself when <see cref="StepCount"/> reaches <see cref="MaxSteps"/>, as
/// Minigrid does, because the success reward depends on the step budget.
/// </summary>
public sealed partial class GridWorldEnv : Env, IGridWorldState
{
    private static readonly DiscreteSpace s_actions = new(GridConstants.ActionCount);

    private readonly Func<Rng, GridWorldEpisode> _source;
    private readonly Observation _observation;
    private readonly int _imageIndex, _directionIndex, _missionIndex, _descriptionIndex;
    private readonly ViewDescriber? _describer;
    private int[] _offsets = [];
    private int _offsetsWidth = -1;
    private Grid _grid = null!;
    private Instruction _instruction = null!;

    /// <summary>Creates an environment whose episodes come from <paramref name="source"/>.</summary>
    /// <param name="id">Registry identity.</param>
    /// <param name="source">Builds an episode start from the env's generator.</param>
    /// <param name="options">Observation and verifier options; null means defaults.</param>
    public GridWorldEnv(EnvId id, Func<Rng, GridWorldEpisode> source, GridWorldOptions? options = null)
    {
        Id = id;
        _source = source;
        Options = (options ?? new GridWorldOptions()).Clone();
        ObservationSpace = CreateObservationSpace(Options.IncludeDescription);
        _observation = new Observation(ObservationSpace);
        _imageIndex = ObservationSpace.IndexOf("image");
        _directionIndex = ObservationSpace.IndexOf("direction");
        _missionIndex = ObservationSpace.IndexOf("mission");
        _descriptionIndex = ObservationSpace.TryGetIndex("description", out int d) ? d : -1;
        if (_descriptionIndex >= 0) _describer = new ViewDescriber();
    }

    /// <summary>An environment that replays one explicit layout on every reset.</summary>
    public static GridWorldEnv FromLayout(GridWorldLayout layout, GridWorldOptions? options = null, EnvId? id = null)
    {
        var opts = options ?? new GridWorldOptions();
        return new GridWorldEnv(id ?? new EnvId("GridWorld-Layout", 0), _ => layout.Build(opts.UseDoneActions), opts);
    }

    /// <summary>The observation space for these options.</summary>
    public static ObservationSpace CreateObservationSpace(bool includeDescription)
    {
        // Per-channel upper bounds: object type <= 10, colour <= 5, door state <= 2.
        var high = new float[GridConstants.ViewBytes];
        for (int i = 0; i < high.Length; i += 3) { high[i] = 10; high[i + 1] = 5; high[i + 2] = 2; }
        var image = new BoxSpace(new float[GridConstants.ViewBytes], high, [GridConstants.ViewSize, GridConstants.ViewSize, 3], DType.UInt8);
        var modalities = new List<Modality>
        {
            new("image", image),
            new("direction", new DiscreteSpace(4)),
            new("mission", new TextSpace(512)),
        };
        if (includeDescription) modalities.Add(new Modality("description", new TextSpace(8192)));
        return new ObservationSpace([.. modalities]);
    }

    /// <inheritdoc />
    public override EnvId Id { get; }

    /// <inheritdoc />
    public override ObservationSpace ObservationSpace { get; }

    /// <inheritdoc />
    public override DiscreteSpace ActionSpace => s_actions;

    /// <summary>The options this env was built with.</summary>
    public GridWorldOptions Options { get; }

    /// <inheritdoc />
    public Grid Grid => _grid;

    /// <inheritdoc />
    public int AgentX { get; private set; }

    /// <inheritdoc />
    public int AgentY { get; private set; }

    /// <inheritdoc />
    public int AgentDir { get; private set; }

    /// <inheritdoc />
    public WorldObject? Carrying { get; private set; }

    /// <summary>Number of episodes started so far, by resets and restored start states (identifies the current episode).</summary>
    public long EpisodeCount { get; private set; }

    /// <summary>Steps taken in the current episode.</summary>
    public int StepCount { get; private set; }

    /// <summary>Step budget of the current episode (truncation when reached).</summary>
    public int MaxSteps { get; private set; }

    /// <summary>The mission text of the current episode.</summary>
    public string Mission { get; private set; } = "";

    /// <summary>The instruction (and verifier) of the current episode.</summary>
    public Instruction Instruction => _instruction;

    /// <summary>The current observation (owned by the env, rewritten on every reset and step).</summary>
    public Observation CurrentObservation => _observation;

    /// <summary>Which view cells (bit k for cell k = vx*7 + vy) were visible in the latest observation.</summary>
    public ulong VisibleMask { get; private set; }

    /// <summary>Width and height of the grid.</summary>
    public (int Width, int Height) Size => (_grid.Width, _grid.Height);

    /// <summary>Minigrid's <c>grid.encode()</c> of the current grid (the agent is not in it).</summary>
    public byte[] EncodeFullGrid() => _grid.Encode();

    /// <summary>Writes the full-grid encoding into <paramref name="destination"/> (width × height × 3 bytes).</summary>
    public void EncodeFullGrid(Span<byte> destination) => _grid.Encode(destination);

    /// <summary>ASCII picture of the grid with the agent (Minigrid's <c>str(env)</c>).</summary>
    public string RenderAscii() => _grid.RenderAscii(AgentX, AgentY, AgentDir);

    /// <summary>The current 7×7×3 view (a span over the observation's image).</summary>
    public ReadOnlySpan<byte> Image => _observation.Bytes(_imageIndex);

    /// <inheritdoc />
    protected override ResetResult ResetCore()
    {
        Start(_source(Random));
        return new ResetResult(_observation, default);
    }

    /// <summary>Makes <paramref name="episode"/> the current one (step 0) and writes its first observation.</summary>
    private void Start(GridWorldEpisode episode)
    {
        _grid = episode.Grid;
        AgentX = episode.AgentX;
        AgentY = episode.AgentY;
        AgentDir = episode.AgentDir;
        Carrying = episode.Carrying;
        MaxSteps = episode.MaxSteps;
        Mission = episode.Mission;
        _instruction = episode.Instruction;
        StepCount = 0;
        EpisodeCount++;
        if (_grid.PaddedWidth != _offsetsWidth)
        {
            _offsets = EgocentricView.PackedOffsets(_grid.PaddedWidth);
            _offsetsWidth = _grid.PaddedWidth;
        }
        _instruction.Reset(this);
        _observation.SetText(_missionIndex, Mission);
        WriteObservation();
    }

    /// <inheritdoc />
    protected override StepResult StepCore(int action)
    {
        StepCount++;
        double reward = 0;
        bool terminated = false;
        var act = (GridAction)action;
        int fx = AgentX + GridConstants.DirX[AgentDir], fy = AgentY + GridConstants.DirY[AgentDir];
        // Cells beyond the border behave as walls (Minigrid's levels are walled; it would assert).
        bool inside = _grid.InBounds(fx, fy);
        WorldObject? front = inside ? _grid.GetOrNull(fx, fy) : null;

        switch (act)
        {
            case GridAction.Left:
                AgentDir = (AgentDir + 3) & 3;
                break;
            case GridAction.Right:
                AgentDir = (AgentDir + 1) & 3;
                break;
            case GridAction.Forward:
                if (inside && (front is null || front.CanOverlap))
                {
                    AgentX = fx;
                    AgentY = fy;
                }
                if (front is { Type: ObjectType.Goal })
                {
                    terminated = true;
                    reward = SuccessReward();
                }
                else if (front is { Type: ObjectType.Lava })
                {
                    terminated = true;
                }
                break;
            case GridAction.Pickup:
                if (front is { CanPickup: true } && Carrying is null)
                {
                    Carrying = front;
                    front.Position = (-1, -1);
                    _grid.Set(fx, fy, null);
                }
                break;
            case GridAction.Drop:
                if (inside && front is null && Carrying is not null)
                {
                    _grid.Set(fx, fy, Carrying);
                    Carrying.Position = (fx, fy);
                    Carrying = null;
                }
                break;
            case GridAction.Toggle:
                if (front is not null) Toggle(front, fx, fy);
                break;
            case GridAction.Done:
                break;
        }

        bool truncated = StepCount >= MaxSteps;
        WriteObservation();

        // RoomGridLevel.step: drops move objects, so tracked positions are re-read; then the verifier decides.
        if (act == GridAction.Drop) _instruction.UpdateObjectPositions();
        var status = _instruction.Verify(act);
        if (status == VerifyStatus.Success)
        {
            terminated = true;
            reward = SuccessReward();
        }
        else if (status == VerifyStatus.Failure)
        {
            terminated = true;
            reward = 0;
        }
        return new StepResult(_observation, reward, terminated, truncated, new StepInfo(IsSuccess: status == VerifyStatus.Success));
    }

    /// <summary>Minigrid's <c>_reward</c>: 1 − 0.9 · step_count / max_steps.</summary>
    private double SuccessReward() => 1 - 0.9 * ((double)StepCount / MaxSteps);

    private void Toggle(WorldObject obj, int x, int y)
    {
        switch (obj.Type)
        {
            case ObjectType.Door:
                if (obj.State == DoorState.Locked)
                {
                    if (Carrying is { Type: ObjectType.Key } key && key.Color == obj.Color) obj.State = DoorState.Open;
                }
                else
                {
                    obj.State = obj.State == DoorState.Open ? DoorState.Closed : DoorState.Open;
                }
                _grid.Refresh(x, y);
                break;
            case ObjectType.Box:
                // The box is replaced by its contents (nothing for boxes decoded from an encoding).
                _grid.Set(x, y, obj.Contains);
                obj.Position = (-1, -1);
                if (obj.Contains is { } inner) inner.Position = inner.InitialPosition = (x, y);
                break;
        }
    }

    private void WriteObservation()
    {
        var image = _observation.Bytes(_imageIndex);
        VisibleMask = EgocentricView.Write(_grid, _offsets, AgentX, AgentY, AgentDir, Carrying, image);
        _observation.SetInt(_directionIndex, AgentDir);
        if (_describer is not null) _observation.SetText(_descriptionIndex, _describer.Describe(image));
    }

    /// <summary>World position of view cell k (may lie outside the grid).</summary>
    public (int X, int Y) ViewCellToWorld(int k)
    {
        var (dx, dy) = EgocentricView.WorldOffset(AgentDir, k);
        return (AgentX + dx, AgentY + dy);
    }
}
