namespace RLAgents.Environments.GridWorld.Levels;

/// <summary>Put one object next to another, among unique objects of one room (BabyAI-PutNextLocal, -S5N3, -S6N4).</summary>
public sealed class PutNextLocalLevel(string name = "PutNextLocal", int roomSize = 8, int numObjects = 8) : BabyAILevel(name, roomSize, 1, 1)
{
    /// <inheritdoc />
    public override int MaxNavigations => 2;

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

/// <summary>
/// Two rooms side by side with the wall between them removed, <i>n</i> unique objects in each:
/// put an object of one room next to one of the other; a fixed budget of 8 · room_size² steps
/// (BabyAI-PutNextS<i>s</i>N<i>n</i>). The Carrying variants start with the object to move in hand.
/// </summary>
public sealed class PutNextLevel(string name, int roomSize, int objectsPerRoom, bool startCarrying = false) : BabyAILevel(name, roomSize, 1, 2)
{
    /// <inheritdoc />
    public override int? FixedMaxSteps => 8 * RoomSize * RoomSize;

    /// <inheritdoc />
    public override int MaxNavigations => 2;

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        var (left, right) = TwoRoomsWithoutWall(b, objectsPerRoom);
        var a = b.RandElem(left);
        var c = b.RandElem(right);
        if (b.RandBool()) (a, c) = (c, a);
        return new PutNextInstruction(new ObjectDescription(a.Type, a.Color), new ObjectDescription(c.Type, c.Color));
    }

    /// <summary>
    /// The agent in the left room, <paramref name="perRoom"/> objects in each room, all of distinct
    /// type and colour, then the wall between the rooms removed (PutNext and MoveTwoAcross).
    /// </summary>
    internal static (List<WorldObject> Left, List<WorldObject> Right) TwoRoomsWithoutWall(LevelBuilder b, int perRoom)
    {
        b.PlaceAgent(0, 0);
        var left = b.AddDistractors(0, 0, perRoom);
        var right = b.AddDistractors(1, 0, perRoom);
        b.RemoveWall(0, 0, 0);
        return (left, right);
    }

    /// <inheritdoc />
    public override bool StartsCarrying => startCarrying;

    /// <summary>
    /// Carrying variants: the object to move leaves the grid for the agent's hand after the mission
    /// was matched (as Minigrid does after its reset), so it stays the verifier's target. Minigrid's
    /// reset returns the observation from before that change; this environment's shows the object carried.
    /// </summary>
    protected internal override void AfterMatching(LevelBuilder b, Instruction instruction)
    {
        if (!startCarrying) return;
        var obj = ((PutNextInstruction)instruction).Move.Objects[0]; // objects are unique: one match
        b.Grid.Set(obj.Position.X, obj.Position.Y, null);
        obj.Position = (-1, -1);
        b.Carrying = obj;
    }
}

/// <summary>
/// Two rooms side by side with the wall removed, <i>n</i> unique objects in each: "put A next to B,
/// then put C next to D", A and D from the left room, B and C from the right; a fixed budget of
/// 16 · room_size² steps (BabyAI-MoveTwoAcrossS5N2, -S8N9).
/// </summary>
public sealed class MoveTwoAcrossLevel(string name, int roomSize, int objectsPerRoom) : BabyAILevel(name, roomSize, 1, 2)
{
    /// <inheritdoc />
    public override int? FixedMaxSteps => 16 * RoomSize * RoomSize;

    /// <inheritdoc />
    public override int MaxNavigations => 4;

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        var (left, right) = PutNextLevel.TwoRoomsWithoutWall(b, objectsPerRoom);
        var l = b.RandSubset(left, 2);
        var r = b.RandSubset(right, 2);
        static ObjectDescription D(WorldObject o) => new(o.Type, o.Color);
        return new BeforeInstruction(new PutNextInstruction(D(l[0]), D(r[0])), new PutNextInstruction(D(r[1]), D(l[1])));
    }
}
