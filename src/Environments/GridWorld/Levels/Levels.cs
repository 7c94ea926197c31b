namespace RLAgents.Environments.GridWorld.Levels;

/// <summary>Go to the red ball; one 8×8 room, 7 grey distractors (BabyAI-GoToRedBallGrey).</summary>
public sealed class GoToRedBallGreyLevel : BabyAILevel
{
    /// <inheritdoc />
    public override string Name => "GoToRedBallGrey";

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
public sealed class GoToRedBallLevel(int numDistractors = 7) : BabyAILevel
{
    /// <inheritdoc />
    public override string Name => numDistractors == 0 ? "GoToRedBallNoDists" : "GoToRedBall";

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

/// <summary>Go to the only object of one room (BabyAI-GoToObj).</summary>
public sealed class GoToObjLevel(int roomSize = 8) : BabyAILevel
{
    /// <inheritdoc />
    public override string Name => "GoToObj";

    /// <inheritdoc />
    public override int RoomSize => roomSize;

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        b.PlaceAgent();
        var obj = b.AddDistractors(count: 1)[0];
        return new GoToInstruction(new ObjectDescription(obj.Type, obj.Color));
    }
}

/// <summary>Go to one of the objects of a single room (BabyAI-GoToLocal).</summary>
public sealed class GoToLocalLevel(int roomSize = 8, int numDistractors = 8) : BabyAILevel
{
    /// <inheritdoc />
    public override string Name => "GoToLocal";

    /// <inheritdoc />
    public override int RoomSize => roomSize;

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

/// <summary>Go to an object anywhere in a 3×3 maze of rooms with closed doors (BabyAI-GoTo, -GoToOpen).</summary>
public sealed class GoToLevel(bool doorsOpen = false, int numDistractors = 18) : BabyAILevel
{
    /// <inheritdoc />
    public override string Name => doorsOpen ? "GoToOpen" : "GoTo";

    /// <inheritdoc />
    public override int NumRows => 3;

    /// <inheritdoc />
    public override int NumCols => 3;

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

/// <summary>Go to the single red or blue ball among distractors that are neither (BabyAI-GoToRedBlueBall).</summary>
public sealed class GoToRedBlueBallLevel : BabyAILevel
{
    /// <inheritdoc />
    public override string Name => "GoToRedBlueBall";

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
public sealed class GoToDoorLevel : BabyAILevel
{
    /// <inheritdoc />
    public override string Name => "GoToDoor";

    /// <inheritdoc />
    public override int RoomSize => 7;

    /// <inheritdoc />
    public override int NumRows => 3;

    /// <inheritdoc />
    public override int NumCols => 3;

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

/// <summary>Pick up an object described by type, colour and possibly location, in one room (BabyAI-PickupLoc).</summary>
public sealed class PickupLocLevel : BabyAILevel
{
    private static readonly ObjectType[] s_notDoor = [ObjectType.Box, ObjectType.Ball, ObjectType.Key];
    private static readonly ObjectLocation[] s_locations = [ObjectLocation.Left, ObjectLocation.Right, ObjectLocation.Front, ObjectLocation.Behind];

    /// <inheritdoc />
    public override string Name => "PickupLoc";

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        // LevelGen with locked_room_prob 0: the draw happens, the locked room never does.
        _ = b.RandFloat(0, 1);
        b.ConnectAll();
        b.AddDistractors(count: 8, allUnique: false);
        b.PlaceAgent();
        b.CheckObjectsReachable();
        return new PickupInstruction(RandomDescription(b, s_notDoor, withLocations: true));
    }

    /// <summary>LevelGen's <c>rand_obj</c>: a random description matching at least one object.</summary>
    internal static ObjectDescription RandomDescription(LevelBuilder b, IReadOnlyList<ObjectType> types, bool withLocations, int maxTries = 100)
    {
        var colors = new GridColor?[GridConstants.SortedColors.Length + 1];
        for (int i = 0; i < GridConstants.SortedColors.Length; i++) colors[i + 1] = GridConstants.SortedColors[i];
        for (int tries = 0; ; tries++)
        {
            if (tries > maxTries) throw new LevelRejectedException("failed to find suitable object");
            var color = b.RandElem(colors);
            var type = b.RandElem(types);
            ObjectLocation? loc = null;
            if (withLocations && b.RandBool()) loc = b.RandElem(s_locations);
            var desc = new ObjectDescription(type, color, loc);
            b.Match(desc);
            if (desc.Objects.Count > 0) return desc;
        }
    }
}

/// <summary>Pick up an object given by type, colour or both, among 5 unique objects of a 7×7 room (BabyAI-PickupDist).</summary>
public sealed class PickupDistLevel(bool strict = false) : BabyAILevel
{
    /// <inheritdoc />
    public override string Name => strict ? "PickupDistDebug" : "PickupDist";

    /// <inheritdoc />
    public override int RoomSize => 7;

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        var objs = b.AddDistractors(count: 5);
        b.PlaceAgent(0, 0);
        var obj = b.RandElem(objs);
        ObjectType? type = obj.Type;
        GridColor? color = obj.Color;
        int selectBy = b.RandInt(0, 3); // type, color, both
        if (selectBy == 1) type = null;
        else if (selectBy == 0) color = null;
        return new PickupInstruction(new ObjectDescription(type, color), strict);
    }
}

/// <summary>Pick up an object anywhere in a 3×3 maze (BabyAI-Pickup).</summary>
public sealed class PickupLevel : BabyAILevel
{
    /// <inheritdoc />
    public override string Name => "Pickup";

    /// <inheritdoc />
    public override int NumRows => 3;

    /// <inheritdoc />
    public override int NumCols => 3;

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        b.PlaceAgent();
        b.ConnectAll();
        var objs = b.AddDistractors(count: 18, allUnique: false);
        b.CheckObjectsReachable();
        var obj = b.RandElem(objs);
        return new PickupInstruction(new ObjectDescription(obj.Type, obj.Color));
    }
}

/// <summary>Put one object next to another, among unique objects of one room (BabyAI-PutNextLocal).</summary>
public sealed class PutNextLocalLevel(int roomSize = 8, int numObjects = 8) : BabyAILevel
{
    /// <inheritdoc />
    public override string Name => "PutNextLocal";

    /// <inheritdoc />
    public override int NavigationsNeeded => 2;

    /// <inheritdoc />
    public override int RoomSize => roomSize;

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        b.PlaceAgent();
        var objs = b.AddDistractors(count: numObjects, allUnique: true);
        b.CheckObjectsReachable();
        var pair = b.RandSubset(objs, 2);
        return new PutNextInstruction(new ObjectDescription(pair[0].Type, pair[0].Color), new ObjectDescription(pair[1].Type, pair[1].Color));
    }
}

/// <summary>Open a door of a given colour, possibly in another room of a 3×3 maze (BabyAI-Open).</summary>
public sealed class OpenLevel : BabyAILevel
{
    /// <inheritdoc />
    public override string Name => "Open";

    /// <inheritdoc />
    public override int NumRows => 3;

    /// <inheritdoc />
    public override int NumCols => 3;

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        b.PlaceAgent();
        b.ConnectAll();
        b.AddDistractors(count: 18, allUnique: false);
        b.CheckObjectsReachable();
        var door = b.RandElem(b.AllDoorsColumnMajor());
        return new OpenInstruction(new ObjectDescription(ObjectType.Door, door.Color));
    }
}

/// <summary>Open the red door of a two-room level (BabyAI-OpenRedDoor).</summary>
public sealed class OpenRedDoorLevel : BabyAILevel
{
    /// <inheritdoc />
    public override string Name => "OpenRedDoor";

    /// <inheritdoc />
    public override int RoomSize => 5;

    /// <inheritdoc />
    public override int NumCols => 2;

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        b.AddDoor(0, 0, 0, GridColor.Red, false);
        b.PlaceAgent(0, 0);
        return new OpenInstruction(new ObjectDescription(ObjectType.Door, GridColor.Red));
    }
}

/// <summary>Fetch the key and unlock the locked door of the centre room of a 3×3 maze (BabyAI-UnlockLocal, -UnlockLocalDist).</summary>
public sealed class UnlockLocalLevel(bool distractors = false) : BabyAILevel
{
    /// <inheritdoc />
    public override string Name => distractors ? "UnlockLocalDist" : "UnlockLocal";

    /// <inheritdoc />
    public override int NumRows => 3;

    /// <inheritdoc />
    public override int NumCols => 3;

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        var (door, _) = b.AddDoor(1, 1, locked: true);
        b.AddObject(1, 1, ObjectType.Key, door.Color);
        if (distractors) b.AddDistractors(1, 1, count: 3);
        b.PlaceAgent(1, 1);
        return new OpenInstruction(new ObjectDescription(ObjectType.Door));
    }
}
