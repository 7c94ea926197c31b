namespace RLAgents.Environments.GridWorld.Levels;

/// <summary>Pick up an object anywhere in a 3×3 maze (BabyAI-Pickup).</summary>
public sealed class PickupLevel() : BabyAILevel("Pickup")
{
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

/// <summary>
/// Pick up an object anywhere in a 3×3 maze of 20 objects, where at least one object cannot be
/// reached without moving another out of the way (BabyAI-UnblockPickup).
/// </summary>
public sealed class UnblockPickupLevel() : BabyAILevel("UnblockPickup")
{
    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        b.PlaceAgent();
        b.ConnectAll();
        var objs = b.AddDistractors(count: 20, allUnique: false);
        if (b.CheckObjectsReachable(throwOnFailure: false)) throw new LevelRejectedException("all objects reachable");
        var obj = b.RandElem(objs);
        return new PickupInstruction(new ObjectDescription(obj.Type, obj.Color));
    }
}

/// <summary>Pick up an object given by type, colour or both, among 5 unique objects of a 7×7 room (BabyAI-PickupDist; -PickupDistDebug fails on a wrong pickup).</summary>
public sealed class PickupDistLevel(string name = "PickupDist", bool strict = false) : BabyAILevel(name, 7, 1, 1)
{
    /// <inheritdoc />
    public override bool AlwaysSolvable => !strict;

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

/// <summary>
/// Pick up an object in the room above the agent's (the top-middle room of a 3×3 maze of 6×6
/// rooms, joined to the centre by a door); a fixed budget of 8 · 6² = 288 steps (BabyAI-PickupAbove).
/// </summary>
public sealed class PickupAboveLevel() : BabyAILevel("PickupAbove", 6)
{
    /// <inheritdoc />
    public override int? FixedMaxSteps => 8 * RoomSize * RoomSize;

    /// <inheritdoc />
    protected internal override Instruction GenerateMission(LevelBuilder b)
    {
        var (obj, _) = b.AddObject(1, 0);
        b.AddDoor(1, 1, 3, locked: false);
        b.PlaceAgent(1, 1);
        b.ConnectAll();
        return new PickupInstruction(new ObjectDescription(obj.Type, obj.Color));
    }
}
