namespace RLAgents.Environments.GridWorld.Levels;

/// <summary>A room given a locked door: where it is and the door.</summary>
/// <param name="Room">The locked room.</param>
/// <param name="I">Its column.</param>
/// <param name="J">Its row.</param>
/// <param name="Door">Its locked door.</param>
public readonly record struct LockedRoom(Room Room, int I, int J, WorldObject Door);

/// <summary>
/// Open the one locked door of a 3×3 maze; its key lies in another room, unlocked doors connect
/// the rest and every other room holds 3 distractors (BabyAI-Unlock). In half the levels no other
/// door shares the locked door's colour. Unlike Minigrid 3.1 (whose room comparison uses object
/// identity), the key never lands behind its own door, so every layout is solvable.
/// </summary>
public sealed class UnlockLevel() : BabyAILevel("Unlock")
{
    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        var locked = AddLockedRoomWithKeyElsewhere(b);
        var color = locked.Door.Color;
        if (b.RandBool()) b.ConnectAll(GridConstants.SortedColors.Where(c => c != color).ToArray());
        else b.ConnectAll();
        for (int i = 0; i < NumCols; i++)
            for (int j = 0; j < NumRows; j++)
                if (b.GetRoom(i, j) != locked.Room) b.AddDistractors(i, j, count: 3, allUnique: false);
        do b.PlaceAgent(); while (b.RoomFromPos(b.AgentX, b.AgentY) == locked.Room);
        b.CheckObjectsReachable();
        return new OpenInstruction(new ObjectDescription(ObjectType.Door, color));
    }

    /// <summary>
    /// A locked door on a random side of a random room, and a key of its colour in a different,
    /// random room (the shared start of Unlock and GoToImpUnlock).
    /// </summary>
    internal static LockedRoom AddLockedRoomWithKeyElsewhere(LevelBuilder b)
    {
        int id = b.RandInt(0, b.NumCols), jd = b.RandInt(0, b.NumRows);
        var (door, _) = b.AddDoor(id, jd, locked: true);
        while (true)
        {
            int ik = b.RandInt(0, b.NumCols), jk = b.RandInt(0, b.NumRows);
            if (ik == id && jk == jd) continue;
            b.AddObject(ik, jk, ObjectType.Key, door.Color);
            break;
        }
        return new LockedRoom(b.GetRoom(id, jd), id, jd, door);
    }
}

/// <summary>Fetch the key and unlock the locked door of the centre room of a 3×3 maze (BabyAI-UnlockLocal, -UnlockLocalDist).</summary>
public sealed class UnlockLocalLevel(string name = "UnlockLocal", bool distractors = false) : BabyAILevel(name)
{
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

/// <summary>
/// Open the locked door of the centre room; its key is inside a box in the room, and toggling the
/// box leaves the key in its place (BabyAI-KeyInBox).
/// </summary>
public sealed class KeyInBoxLevel() : BabyAILevel("KeyInBox")
{
    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        var (door, _) = b.AddDoor(1, 1, locked: true);
        var box = new WorldObject(ObjectType.Box, b.RandColor(), contains: new WorldObject(ObjectType.Key, door.Color));
        b.PlaceInRoom(1, 1, box);
        b.PlaceAgent(1, 1);
        return new OpenInstruction(new ObjectDescription(ObjectType.Door));
    }
}

/// <summary>
/// Two 6×6 rooms joined by a locked door: fetch the key in the agent's room, unlock the door and
/// pick up the box in the other room (BabyAI-UnlockPickup; -UnlockPickupDist adds 4 unique
/// distractors). The budget is the intended fixed 8 · 6² = 288 steps; Minigrid 3.1 tests the builtin
/// <c>max</c> instead of <c>max_steps</c> and so recomputes 72.
/// </summary>
public sealed class UnlockPickupLevel(string name = "UnlockPickup", bool distractors = false) : BabyAILevel(name, 6, 1, 2)
{
    /// <inheritdoc />
    public override int? FixedMaxSteps => 8 * RoomSize * RoomSize;

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        var (obj, _) = b.AddObject(1, 0, ObjectType.Box);
        var (door, _) = b.AddDoor(0, 0, 0, locked: true);
        b.AddObject(0, 0, ObjectType.Key, door.Color);
        if (distractors) b.AddDistractors(count: 4);
        b.PlaceAgent(0, 0);
        return new PickupInstruction(new ObjectDescription(obj.Type, obj.Color));
    }
}

/// <summary>
/// As UnlockPickup, with a ball right in front of the locked door on the agent's side, to be moved
/// first; a fixed budget of 16 · 6² = 576 steps (BabyAI-BlockedUnlockPickup).
/// </summary>
public sealed class BlockedUnlockPickupLevel() : BabyAILevel("BlockedUnlockPickup", 6, 1, 2)
{
    /// <inheritdoc />
    public override int? FixedMaxSteps => 16 * RoomSize * RoomSize;

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        var (obj, _) = b.AddObject(1, 0, ObjectType.Box);
        var (door, pos) = b.AddDoor(0, 0, 0, locked: true);
        b.PutObject(new WorldObject(ObjectType.Ball, b.RandColor()), pos.X - 1, pos.Y);
        b.AddObject(0, 0, ObjectType.Key, door.Color);
        b.PlaceAgent(0, 0);
        return new PickupInstruction(new ObjectDescription(obj.Type));
    }
}

/// <summary>
/// Three 6×6 rooms in a row, the agent in the middle: the key in the middle room opens the door to
/// the right room, which holds the key to the left room's door, behind which lies the ball to pick
/// up; a fixed budget of 30 · 6² = 1,080 steps (BabyAI-UnlockToUnlock).
/// </summary>
public sealed class UnlockToUnlockLevel() : BabyAILevel("UnlockToUnlock", 6, 1, 3)
{
    /// <inheritdoc />
    public override int? FixedMaxSteps => 30 * RoomSize * RoomSize;

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        var colors = b.RandSubset(GridConstants.SortedColors, 2);
        b.AddDoor(0, 0, 0, colors[0], true);
        b.AddObject(2, 0, ObjectType.Key, colors[0]);
        b.AddDoor(1, 0, 0, colors[1], true);
        b.AddObject(1, 0, ObjectType.Key, colors[1]);
        var (obj, _) = b.AddObject(0, 0, ObjectType.Ball);
        b.PlaceAgent(1, 0);
        return new PickupInstruction(new ObjectDescription(obj.Type));
    }
}
