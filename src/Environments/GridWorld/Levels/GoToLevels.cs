namespace RLAgents.Environments.GridWorld.Levels;

/// <summary>Go to the red ball; one 8×8 room, 7 grey distractors (BabyAI-GoToRedBallGrey).</summary>
public sealed class GoToRedBallGreyLevel() : BabyAILevel("GoToRedBallGrey", 8, 1, 1)
{
    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        b.PlaceAgent();
        var (obj, _) = b.AddObject(0, 0, ObjectType.Ball, GridColor.Red);
        foreach (var d in b.AddDistractors(count: 7, allUnique: false))
        {
            d.Color = GridColor.Grey;
            b.Grid.Refresh(d.Position.X, d.Position.Y);
        }
        b.CheckObjectsReachable();
        return new GoToInstruction(new ObjectDescription(obj.Type, obj.Color));
    }
}

/// <summary>Go to the red ball; one 8×8 room with distractors (BabyAI-GoToRedBall, -GoToRedBallNoDists).</summary>
public sealed class GoToRedBallLevel(string name = "GoToRedBall", int numDistractors = 7) : BabyAILevel(name, 8, 1, 1)
{
    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        b.PlaceAgent();
        var (obj, _) = b.AddObject(0, 0, ObjectType.Ball, GridColor.Red);
        b.AddDistractors(count: numDistractors, allUnique: false);
        b.CheckObjectsReachable();
        return new GoToInstruction(new ObjectDescription(obj.Type, obj.Color));
    }
}

/// <summary>Go to the only object of one room (BabyAI-GoToObj, -GoToObjS4, -GoToObjS6-v1).</summary>
public sealed class GoToObjLevel(string name = "GoToObj", int roomSize = 8, int version = 0) : BabyAILevel(name, roomSize, 1, 1)
{
    /// <inheritdoc />
    public override int Version => version;

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        b.PlaceAgent();
        var obj = b.AddDistractors(count: 1)[0];
        return new GoToInstruction(new ObjectDescription(obj.Type, obj.Color));
    }
}

/// <summary>Go to one of the objects of a single room (BabyAI-GoToLocal and its S<i>s</i>N<i>n</i> sizes).</summary>
public sealed class GoToLocalLevel(string name = "GoToLocal", int roomSize = 8, int numDistractors = 8) : BabyAILevel(name, roomSize, 1, 1)
{
    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        b.PlaceAgent();
        var objs = b.AddDistractors(count: numDistractors, allUnique: false);
        b.CheckObjectsReachable();
        var obj = b.RandElem(objs);
        return new GoToInstruction(new ObjectDescription(obj.Type, obj.Color));
    }
}

/// <summary>
/// Go to an object anywhere in a maze of rooms with closed (or open) doors (BabyAI-GoTo, -GoToOpen,
/// and the single-object GoToObjMaze family).
/// </summary>
public sealed class GoToLevel(string name = "GoTo", int roomSize = 8, int numRows = 3, int numCols = 3, int numDistractors = 18, bool doorsOpen = false)
    : BabyAILevel(name, roomSize, numRows, numCols)
{
    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        b.PlaceAgent();
        b.ConnectAll();
        var objs = b.AddDistractors(count: numDistractors, allUnique: false);
        b.CheckObjectsReachable();
        var obj = b.RandElem(objs);
        if (doorsOpen) b.OpenAllDoors();
        return new GoToInstruction(new ObjectDescription(obj.Type, obj.Color));
    }
}

/// <summary>
/// Go to an object that lies behind a locked door, in a 3×3 maze; its key is in another room
/// (BabyAI-GoToImpUnlock). Unlike Minigrid 3.1, whose room comparison uses object identity and
/// so sometimes puts the key (and distractors) into the locked room, the key and the distractors
/// always go elsewhere, so every layout is solvable.
/// </summary>
public sealed class GoToImpUnlockLevel() : BabyAILevel("GoToImpUnlock")
{
    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        var locked = UnlockLevel.AddLockedRoomWithKeyElsewhere(b);
        b.ConnectAll();
        for (int i = 0; i < NumCols; i++)
            for (int j = 0; j < NumRows; j++)
                if (b.GetRoom(i, j) != locked.Room) b.AddDistractors(i, j, count: 2, allUnique: false);
        do b.PlaceAgent(); while (b.RoomFromPos(b.AgentX, b.AgentY) == locked.Room);
        b.CheckObjectsReachable();
        // The target: one more object, inside the locked room (a twin outside also counts).
        var obj = b.AddDistractors(locked.I, locked.J, count: 1, allUnique: false)[0];
        return new GoToInstruction(new ObjectDescription(obj.Type, obj.Color));
    }
}

/// <summary>Go to the single red or blue ball among distractors that are neither (BabyAI-GoToRedBlueBall).</summary>
public sealed class GoToRedBlueBallLevel() : BabyAILevel("GoToRedBlueBall", 8, 1, 1)
{
    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        b.PlaceAgent();
        var dists = b.AddDistractors(count: 7, allUnique: false);
        foreach (var d in dists)
            if (d.Type == ObjectType.Ball && d.Color is GridColor.Blue or GridColor.Red)
                throw new LevelRejectedException("can only have one blue or red ball");
        var color = b.RandElem([GridColor.Red, GridColor.Blue]);
        var (obj, _) = b.AddObject(0, 0, ObjectType.Ball, color);
        b.CheckObjectsReachable();
        return new GoToInstruction(new ObjectDescription(obj.Type, obj.Color));
    }
}

/// <summary>Go to a door of a given colour of the centre room of a 3×3 maze of 7×7 rooms (BabyAI-GoToDoor).</summary>
public sealed class GoToDoorLevel() : BabyAILevel("GoToDoor", 7)
{
    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        var doors = new List<WorldObject>();
        for (int k = 0; k < 4; k++) doors.Add(b.AddDoor(1, 1).Door);
        b.PlaceAgent(1, 1);
        var obj = b.RandElem(doors);
        return new GoToInstruction(new ObjectDescription(ObjectType.Door, obj.Color));
    }
}

/// <summary>Go to an object or a door of the centre room, 8 distractors and 4 doors (BabyAI-GoToObjDoor).</summary>
public sealed class GoToObjDoorLevel() : BabyAILevel("GoToObjDoor")
{
    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        b.PlaceAgent(1, 1);
        var objs = b.AddDistractors(1, 1, count: 8, allUnique: false);
        for (int k = 0; k < 4; k++) objs.Add(b.AddDoor(1, 1).Door);
        b.CheckObjectsReachable();
        var obj = b.RandElem(objs);
        return new GoToInstruction(new ObjectDescription(obj.Type, obj.Color));
    }
}
