namespace RLAgents.Environments.GridWorld.Levels;

/// <summary>Instruction shapes LevelGen draws from (BabyAI's <c>instr_kinds</c>).</summary>
public enum InstructionForm
{
    /// <summary>One action.</summary>
    Action,
    /// <summary>"A and B" over two actions.</summary>
    And,
    /// <summary>"P, then Q" or "P after you Q", each part an action or an "and".</summary>
    Sequence,
}

/// <summary>
/// BabyAI's <c>LevelGen</c>: a maze of rooms, optionally one locked room whose key lies elsewhere,
/// unlocked doors connecting everything, distractors anywhere, the agent outside the locked room,
/// and a random instruction from the whole grammar (see the GridWorld README): actions go to /
/// pick up / open / put next to, joined by "and", ", then" and "after you"; descriptions with a
/// colour (6 in 7), and with a location in levels that use them (1 in 2). BossLevel, MiniBossLevel,
/// Synth*, GoToSeq* and PickupLoc are configurations of it.
/// </summary>
public sealed class LevelGenLevel : BabyAILevel
{
    private static readonly ObjectType?[] s_allTypes = [ObjectType.Box, ObjectType.Ball, ObjectType.Key, ObjectType.Door];
    private static readonly ObjectType?[] s_notDoor = [ObjectType.Box, ObjectType.Ball, ObjectType.Key];
    private static readonly ObjectType?[] s_door = [ObjectType.Door];
    private static readonly ObjectLocation[] s_locations = [ObjectLocation.Left, ObjectLocation.Right, ObjectLocation.Front, ObjectLocation.Behind];
    private static readonly InstructionForm[] s_actionOnly = [InstructionForm.Action];
    private static readonly InstructionForm[] s_actionOrAnd = [InstructionForm.Action, InstructionForm.And];
    private static readonly GridColor?[] s_colors = [null, .. GridConstants.SortedColors.Select(c => (GridColor?)c)];

    private readonly InstructionKind[] _actions;
    private readonly InstructionForm[] _forms;

    /// <summary>Creates a configuration; the defaults are BossLevel's.</summary>
    /// <param name="name">Registered name.</param>
    /// <param name="roomSize">Side of a room.</param>
    /// <param name="numRows">Rows of rooms.</param>
    /// <param name="numCols">Columns of rooms.</param>
    /// <param name="numDistractors">Objects scattered over the maze.</param>
    /// <param name="lockedRoomProbability">Chance of one locked room.</param>
    /// <param name="locations">Whether descriptions may name a location relative to the agent.</param>
    /// <param name="unblocking">Whether objects may have to be moved out of the way (else every object must be reachable without).</param>
    /// <param name="implicitUnlock">Whether a target may lie only behind the locked door (else one match must lie outside).</param>
    /// <param name="actions">Action kinds (goto, pickup, open, putnext); null means all four.</param>
    /// <param name="forms">Instruction shapes; null means action, and, sequence.</param>
    public LevelGenLevel(string name = "BossLevel", int roomSize = 8, int numRows = 3, int numCols = 3, int numDistractors = 18,
        double lockedRoomProbability = 0.5, bool locations = true, bool unblocking = true, bool implicitUnlock = true,
        IReadOnlyList<InstructionKind>? actions = null, IReadOnlyList<InstructionForm>? forms = null)
        : base(name, roomSize, numRows, numCols)
    {
        NumDistractors = numDistractors;
        LockedRoomProbability = lockedRoomProbability;
        Locations = locations;
        UsesUnblocking = unblocking;
        ImplicitUnlock = implicitUnlock;
        _actions = actions is null ? [InstructionKind.GoTo, InstructionKind.Pickup, InstructionKind.Open, InstructionKind.PutNext] : [.. actions];
        if (_actions.Length == 0 || _actions.Any(a => a is not (InstructionKind.GoTo or InstructionKind.Pickup or InstructionKind.Open or InstructionKind.PutNext)))
            throw new ArgumentException($"Level {name}: actions must be a non-empty set of goto, pickup, open and putnext.", nameof(actions));
        _forms = forms is null ? [InstructionForm.Action, InstructionForm.And, InstructionForm.Sequence] : [.. forms];
        if (_forms.Length == 0) throw new ArgumentException($"Level {name}: at least one instruction form is needed.", nameof(forms));
    }

    /// <summary>Objects scattered over the maze.</summary>
    public int NumDistractors { get; }

    /// <summary>Chance of one locked room.</summary>
    public double LockedRoomProbability { get; }

    /// <summary>Whether descriptions may name a location.</summary>
    public bool Locations { get; }

    /// <summary>Whether objects may have to be moved out of the way.</summary>
    public bool UsesUnblocking { get; }

    /// <summary>Whether a target may lie only behind the locked door.</summary>
    public bool ImplicitUnlock { get; }

    /// <inheritdoc />
    protected override bool Unblocking => UsesUnblocking;

    /// <inheritdoc />
    public override int MaxNavigations
    {
        get
        {
            int action = _actions.Contains(InstructionKind.PutNext) ? 2 : 1;
            return action * (_forms.Contains(InstructionForm.Sequence) ? 4 : _forms.Contains(InstructionForm.And) ? 2 : 1);
        }
    }

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        Room? lockedRoom = null;
        if (b.RandFloat(0, 1) < LockedRoomProbability) lockedRoom = AddLockedRoom(b);
        b.ConnectAll();
        b.AddDistractors(count: NumDistractors, allUnique: false);
        do b.PlaceAgent(); while (lockedRoom is not null && b.RoomFromPos(b.AgentX, b.AgentY) == lockedRoom);
        if (!UsesUnblocking) b.CheckObjectsReachable();
        return RandomInstruction(b, lockedRoom, _forms);
    }

    // A locked door on an inner wall of a random room; its key in another room.
    private static Room AddLockedRoom(LevelBuilder b)
    {
        Room room;
        WorldObject door;
        while (true)
        {
            int i = b.RandInt(0, b.NumCols), j = b.RandInt(0, b.NumRows), k = b.RandInt(0, 4);
            room = b.GetRoom(i, j);
            if (room.Neighbors[k] is null) continue;
            door = b.AddDoor(i, j, k, locked: true).Door;
            break;
        }
        while (true)
        {
            int i = b.RandInt(0, b.NumCols), j = b.RandInt(0, b.NumRows);
            if (b.GetRoom(i, j) == room) continue;
            b.AddObject(i, j, ObjectType.Key, door.Color);
            return room;
        }
    }

    private Instruction RandomInstruction(LevelBuilder b, Room? lockedRoom, InstructionForm[] forms)
    {
        // A choice among one option draws nothing (Minigrid draws; the streams differ anyway), which
        // keeps PickupLoc's levels what they were before it became a LevelGen configuration.
        switch (forms.Length == 1 ? forms[0] : b.RandElem(forms))
        {
            case InstructionForm.Action:
                return (_actions.Length == 1 ? _actions[0] : b.RandElem(_actions)) switch
                {
                    InstructionKind.GoTo => new GoToInstruction(RandomDescription(b, lockedRoom, s_allTypes)),
                    InstructionKind.Pickup => new PickupInstruction(RandomDescription(b, lockedRoom, s_notDoor)),
                    InstructionKind.Open => new OpenInstruction(RandomDescription(b, lockedRoom, s_door)),
                    _ => new PutNextInstruction(RandomDescription(b, lockedRoom, s_notDoor), RandomDescription(b, lockedRoom, s_allTypes)),
                };
            case InstructionForm.And:
                return new AndInstruction(RandomInstruction(b, lockedRoom, s_actionOnly), RandomInstruction(b, lockedRoom, s_actionOnly));
            default:
                var first = RandomInstruction(b, lockedRoom, s_actionOrAnd);
                var second = RandomInstruction(b, lockedRoom, s_actionOrAnd);
                return b.RandBool() ? new BeforeInstruction(first, second) : new AfterInstruction(first, second);
        }
    }

    /// <summary>
    /// LevelGen's <c>rand_obj</c>: a random description (colour absent 1 in 7; a location 1 in 2
    /// when the level uses them) redrawn until it matches an object, and, without implicit
    /// unlocking, one outside the locked room; 100 failed draws reject the layout.
    /// </summary>
    private ObjectDescription RandomDescription(LevelBuilder b, Room? lockedRoom, ObjectType?[] types)
    {
        for (int tries = 0; ; tries++)
        {
            if (tries > 100) throw new LevelRejectedException("failed to find suitable object");
            var color = b.RandElem(s_colors);
            var type = b.RandElem(types);
            ObjectLocation? loc = null;
            if (Locations && b.RandBool()) loc = b.RandElem(s_locations);
            var desc = new ObjectDescription(type, color, loc);
            b.Match(desc);
            if (desc.Objects.Count == 0) continue;
            if (!ImplicitUnlock && lockedRoom is not null && desc.Positions.All(p => lockedRoom.Rect.Contains(p.X, p.Y))) continue;
            return desc;
        }
    }
}
