namespace RLAgents.Environments.GridWorld.Levels;

/// <summary>
/// In the centre room of a 3×3 maze of 7×7 rooms (5 unique objects, 4 unlocked doors): go to or
/// pick up an object, or go to or open a door (BabyAI-ActionObjDoor).
/// </summary>
public sealed class ActionObjDoorLevel() : BabyAILevel("ActionObjDoor", 7)
{
    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        var objs = b.AddDistractors(1, 1, count: 5);
        for (int k = 0; k < 4; k++) objs.Add(b.AddDoor(1, 1, locked: false).Door);
        b.PlaceAgent(1, 1);
        var obj = b.RandElem(objs);
        var desc = new ObjectDescription(obj.Type, obj.Color);
        if (obj.Type == ObjectType.Door) return b.RandBool() ? new GoToInstruction(desc) : new OpenInstruction(desc);
        return b.RandBool() ? new GoToInstruction(desc) : new PickupInstruction(desc);
    }
}

/// <summary>
/// Find and pick up the one object of a 3×3 maze (random room), named by type only, starting in
/// the centre room; a fixed budget of 20 · room_size² steps (BabyAI-FindObjS5, -S6, -S7).
/// </summary>
public sealed class FindObjLevel(string name, int roomSize) : BabyAILevel(name, roomSize)
{
    /// <inheritdoc />
    public override int? FixedMaxSteps => 20 * RoomSize * RoomSize;

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        // Minigrid draws the column index from the row count; the maze is square, so it is the same.
        int i = b.RandInt(0, NumRows), j = b.RandInt(0, NumCols);
        var (obj, _) = b.AddObject(i, j);
        b.PlaceAgent(1, 1);
        b.ConnectAll();
        return new PickupInstruction(new ObjectDescription(obj.Type));
    }
}

/// <summary>
/// The middle column of a 3-column maze is a corridor; a ball lies behind a locked door on the
/// right, its key in a room on the left; pick up the ball. A fixed budget of 30 · room_size² steps
/// (BabyAI-KeyCorridor, -KeyCorridorS<i>s</i>R<i>r</i>).
/// </summary>
public sealed class KeyCorridorLevel(string name, int roomSize, int numRows) : BabyAILevel(name, roomSize, numRows, 3)
{
    /// <inheritdoc />
    public override int? FixedMaxSteps => 30 * RoomSize * RoomSize;

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        for (int j = 1; j < NumRows; j++) b.RemoveWall(1, j, 3);
        int row = b.RandInt(0, NumRows);
        var (door, _) = b.AddDoor(2, row, 2, locked: true);
        var (obj, _) = b.AddObject(2, row, ObjectType.Ball);
        b.AddObject(0, b.RandInt(0, NumRows), ObjectType.Key, door.Color);
        b.PlaceAgent(1, NumRows / 2);
        b.ConnectAll();
        return new PickupInstruction(new ObjectDescription(obj.Type));
    }
}

/// <summary>Pick up the only ball of one room (BabyAI-OneRoomS8, -S12, -S16, -S20).</summary>
public sealed class OneRoomLevel(string name, int roomSize) : BabyAILevel(name, roomSize, 1, 1)
{
    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        var (obj, _) = b.AddObject(0, 0, ObjectType.Ball);
        b.PlaceAgent();
        return new PickupInstruction(new ObjectDescription(obj.Type));
    }
}
