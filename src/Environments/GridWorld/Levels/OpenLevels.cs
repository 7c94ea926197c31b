namespace RLAgents.Environments.GridWorld.Levels;

/// <summary>Open a door of a given colour, possibly in another room of a 3×3 maze (BabyAI-Open).</summary>
public sealed class OpenLevel() : BabyAILevel("Open")
{
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
public sealed class OpenRedDoorLevel() : BabyAILevel("OpenRedDoor", 5, 1, 2)
{
    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        b.AddDoor(0, 0, 0, GridColor.Red, false);
        b.PlaceAgent(0, 0);
        return new OpenInstruction(new ObjectDescription(ObjectType.Door, GridColor.Red));
    }
}

/// <summary>How <see cref="OpenDoorLevel"/> names the door to open.</summary>
public enum DoorSelection
{
    /// <summary>By colour or by location, with equal probability.</summary>
    Either,
    /// <summary>"open the C door".</summary>
    Color,
    /// <summary>"open (the|a) door LOC".</summary>
    Location,
}

/// <summary>
/// Open one of the four unlocked doors (four distinct colours) of the centre room, named by colour
/// or by where it lies relative to the agent (BabyAI-OpenDoor, -OpenDoorColor, -OpenDoorLoc; in
/// -OpenDoorDebug opening another door fails).
/// </summary>
public sealed class OpenDoorLevel(string name = "OpenDoor", DoorSelection selectBy = DoorSelection.Either, bool strict = false) : BabyAILevel(name)
{
    private static readonly ObjectLocation[] s_locations = [ObjectLocation.Left, ObjectLocation.Right, ObjectLocation.Front, ObjectLocation.Behind];

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        var colors = b.RandSubset(GridConstants.SortedColors, 4);
        var doors = new List<WorldObject>();
        for (int k = 0; k < 4; k++) doors.Add(b.AddDoor(1, 1, k, colors[k], false).Door);
        var by = selectBy == DoorSelection.Either ? b.RandElem([DoorSelection.Color, DoorSelection.Location]) : selectBy;
        var desc = by == DoorSelection.Color
            ? new ObjectDescription(ObjectType.Door, doors[0].Color)
            : new ObjectDescription(ObjectType.Door, location: b.RandElem(s_locations));
        b.PlaceAgent(1, 1);
        return new OpenInstruction(desc, strict);
    }
}

/// <summary>
/// Open the door on the left wall of the centre room, then the one on the right wall: the agent
/// cannot see the first door while opening the second (BabyAI-OpenTwoDoors; -OpenRedBlueDoors
/// fixes the colours; in -OpenRedBlueDoorsDebug toggling another door first fails).
/// </summary>
public sealed class OpenTwoDoorsLevel(string name = "OpenTwoDoors", GridColor? firstColor = null, GridColor? secondColor = null, bool strict = false)
    : BabyAILevel(name, 6)
{
    /// <inheritdoc />
    public override int? FixedMaxSteps => 20 * RoomSize * RoomSize;

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        var colors = b.RandSubset(GridConstants.SortedColors, 2);
        var (door1, _) = b.AddDoor(1, 1, 2, firstColor ?? colors[0], false);
        var (door2, _) = b.AddDoor(1, 1, 0, secondColor ?? colors[1], false);
        b.PlaceAgent(1, 1);
        return new BeforeInstruction(
            new OpenInstruction(new ObjectDescription(ObjectType.Door, door1.Color), strict),
            new OpenInstruction(new ObjectDescription(ObjectType.Door, door2.Color)));
    }
}

/// <summary>
/// Among 2 or 4 doors of distinct colours on the centre room, open one, or two in a given order
/// ("A, then B" or "A after you B") (BabyAI-OpenDoorsOrderN2/N4; the Debug ids fail on a wrong door).
/// </summary>
public sealed class OpenDoorsOrderLevel(string name, int numDoors, bool strict = false) : BabyAILevel(name, 6)
{
    /// <inheritdoc />
    public override bool AlwaysSolvable => !strict;

    /// <inheritdoc />
    public override int? FixedMaxSteps => 20 * RoomSize * RoomSize;

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        var colors = b.RandSubset(GridConstants.SortedColors, numDoors);
        var doors = new List<WorldObject>();
        for (int k = 0; k < numDoors; k++) doors.Add(b.AddDoor(1, 1, color: colors[k], locked: false).Door);
        b.PlaceAgent(1, 1);
        var pair = b.RandSubset(doors, 2);
        OpenInstruction Open(WorldObject door) => new(new ObjectDescription(ObjectType.Door, door.Color), strict);
        return b.RandInt(0, 3) switch
        {
            0 => Open(pair[0]),
            1 => new BeforeInstruction(Open(pair[0]), Open(pair[1])),
            _ => new AfterInstruction(Open(pair[0]), Open(pair[1])),
        };
    }
}
