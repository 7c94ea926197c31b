namespace RLAgents.Environments.GridWorld.Levels;

/// <summary>
/// A BabyAI level: a room-grid shape and a mission generator (Minigrid's <c>RoomGridLevel</c>).
/// <see cref="Generate"/> retries until a level passes every check (rejection sampling), then
/// sets the step budget as BabyAI does: room_size² × rooms × navigations the mission needs, unless
/// the level fixes it (<see cref="FixedMaxSteps"/>). Level objects hold no per-episode state, so
/// one instance serves every environment and thread.
/// </summary>
public abstract class BabyAILevel
{
    /// <summary>Attempts before generation gives up (BabyAI retries forever; this is a safety net).</summary>
    public const int MaxAttempts = 10_000;

    /// <summary>Creates a level of <paramref name="numRows"/> × <paramref name="numCols"/> rooms of side <paramref name="roomSize"/>.</summary>
    /// <param name="name">Registered name without the <c>BabyAI-</c> prefix and version, e.g. <c>GoToLocalS5N2</c>.</param>
    /// <param name="roomSize">Side of a room, walls included (BabyAI's default 8).</param>
    /// <param name="numRows">Rows of rooms (RoomGrid's default 3).</param>
    /// <param name="numCols">Columns of rooms (RoomGrid's default 3).</param>
    protected BabyAILevel(string name, int roomSize = 8, int numRows = 3, int numCols = 3)
    {
        if (roomSize < 3 || numRows < 1 || numCols < 1)
            throw new ArgumentOutOfRangeException(nameof(roomSize), $"Level {name}: need roomSize >= 3 and at least one row and column of rooms.");
        Name = name;
        RoomSize = roomSize;
        NumRows = numRows;
        NumCols = numCols;
    }

    /// <summary>Level name without the <c>BabyAI-</c> prefix and version, e.g. <c>GoToLocal</c>.</summary>
    public string Name { get; }

    /// <summary>Registered version (Minigrid registers <c>GoToObjS6</c> as v1, every other level as v0).</summary>
    public virtual int Version => 0;

    /// <summary>The registered id, <c>BabyAI-&lt;Name&gt;-v&lt;Version&gt;</c>.</summary>
    public string Id => $"BabyAI-{Name}-v{Version}";

    /// <summary>Side of a room, walls included.</summary>
    public int RoomSize { get; }

    /// <summary>Rows of rooms.</summary>
    public int NumRows { get; }

    /// <summary>Columns of rooms.</summary>
    public int NumCols { get; }

    /// <summary>Grid width: (room_size − 1) · columns + 1.</summary>
    public int Width => (RoomSize - 1) * NumCols + 1;

    /// <summary>Grid height: (room_size − 1) · rows + 1.</summary>
    public int Height => (RoomSize - 1) * NumRows + 1;

    /// <summary>A step budget the level fixes whatever the mission, or null for BabyAI's per-mission budget.</summary>
    public virtual int? FixedMaxSteps => null;

    /// <summary>The most navigations a mission of this level can need (2 for put-next, summed over sequence parts).</summary>
    public virtual int MaxNavigations => 1;

    /// <summary>
    /// The largest step budget an episode of this level can get (what the registration's time limit
    /// declares; each episode's own budget, <see cref="GridWorldEnv.MaxSteps"/>, may be smaller).
    /// </summary>
    public int MaxSteps => FixedMaxSteps ?? RoomSize * RoomSize * NumRows * NumCols * MaxNavigations;

    /// <summary>
    /// Whether every mission the level generates can be accomplished under Minigrid's verifier.
    /// False for two strict levels: in OpenDoorsOrderN2Debug/N4Debug a two-door mission fails on the
    /// toggle that opens the first door (the second, strict part is verified with that same toggle
    /// and sees a wrong door in front), and in PickupDistDebug a target walled in by other objects
    /// can only be reached by picking one of them up, which a strict pick-up counts as a failure.
    /// </summary>
    public virtual bool AlwaysSolvable => true;

    /// <summary>True when the agent starts each episode carrying an object (a layout cannot express that start).</summary>
    public virtual bool StartsCarrying => false;

    /// <summary>
    /// Whether the level may need objects moved out of the way (LevelGen's <c>unblocking</c>); such
    /// levels reject missions that mention a key of a locked door's colour.
    /// </summary>
    protected virtual bool Unblocking => false;

    /// <summary>Places the agent and objects and returns the instruction (BabyAI's <c>gen_mission</c>).</summary>
    protected internal abstract Instruction GenerateMission(LevelBuilder b);

    /// <summary>Changes the start after the instruction was matched (e.g. the agent starts carrying the object to move).</summary>
    protected internal virtual void AfterMatching(LevelBuilder b, Instruction instruction)
    {
    }

    /// <summary>Generates a valid episode start.</summary>
    public GridWorldEpisode Generate(Rng rng, bool useDoneActions = false)
    {
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var b = new LevelBuilder(rng, RoomSize, NumRows, NumCols);
            Instruction instr;
            try
            {
                instr = GenerateMission(b);
                foreach (var d in instr.Descriptions) b.Match(d);
                Validate(b, instr, LockedDoorColors(b));
            }
            catch (LevelRejectedException)
            {
                continue;
            }
            instr.UseDoneActions = useDoneActions;
            // The mission's articles come from the matches in the generated state, before any later change.
            string mission = instr.Surface();
            AfterMatching(b, instr);
            int maxSteps = FixedMaxSteps ?? RoomSize * RoomSize * NumRows * NumCols * instr.NavigationsNeeded;
            return new GridWorldEpisode(b.Grid, b.AgentX, b.AgentY, b.AgentDir, instr, mission, maxSteps, b.Carrying);
        }
        throw new InvalidOperationException($"BabyAI level {Name}: no valid level after {MaxAttempts} attempts.");
    }

    private List<GridColor>? LockedDoorColors(LevelBuilder b)
    {
        if (!Unblocking) return null;
        var colors = new List<GridColor>();
        foreach (var room in b.Rooms)
            foreach (var door in room.Doors)
                if (door is { IsLocked: true }) colors.Add(door.Color);
        return colors;
    }

    // RoomGridLevel.validate_instrs, over the whole tree.
    private static void Validate(LevelBuilder b, Instruction instr, List<GridColor>? lockedDoorColors)
    {
        switch (instr)
        {
            case SequenceInstruction seq:
                Validate(b, seq.A, lockedDoorColors);
                Validate(b, seq.B, lockedDoorColors);
                return;
            case PutNextInstruction put:
                foreach (var m in put.Move.Objects)
                    foreach (var f in put.Fixed.Objects)
                        if (ReferenceEquals(f, m)) throw new LevelRejectedException("there are objects that match both lhs and rhs of PutNext");
                if (put.ObjectsNext()) throw new LevelRejectedException("objs already next to each other");
                break;
        }
        if (lockedDoorColors is null) return;
        // Moving or fetching the key of a locked door could strand the bot; BabyAI leaves such missions out.
        foreach (var d in instr.Descriptions)
            if (d.Type == ObjectType.Key && d.Color is GridColor c && lockedDoorColors.Contains(c))
                throw new LevelRejectedException("cannot do anything with/to a key that can be used to open a door");
    }
}
