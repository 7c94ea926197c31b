namespace RLAgents.Environments.GridWorld;

/// <summary>
/// One object of the grid world. Objects have identity (the instruction verifiers track the
/// very objects a mission names), a type and colour, a door state for doors, and optional
/// contents for boxes. Behaviour follows Minigrid's <c>world_object.py</c>.
/// </summary>
public sealed class WorldObject
{
    /// <summary>Creates an object; <paramref name="state"/> matters for doors only.</summary>
    public WorldObject(ObjectType type, GridColor color, DoorState state = DoorState.Open, WorldObject? contains = null)
    {
        if (type is ObjectType.Unseen or ObjectType.Empty or ObjectType.Agent)
            throw new ArgumentException($"'{type.Name()}' is not a grid object.", nameof(type));
        Type = type;
        Color = color;
        State = type == ObjectType.Door ? state : DoorState.Open;
        Contains = contains;
    }

    /// <summary>Object type.</summary>
    public ObjectType Type { get; }

    /// <summary>Colour (mutable only while a level is generated, e.g. greying distractors).</summary>
    public GridColor Color { get; internal set; }

    /// <summary>Door state (always <see cref="DoorState.Open"/>, encoded 0, for non-doors).</summary>
    public DoorState State { get; internal set; }

    /// <summary>What a box holds (revealed when toggled), or null.</summary>
    public WorldObject? Contains { get; internal set; }

    /// <summary>Current position, or (-1, -1) while carried; (-1, -1) before placement.</summary>
    public (int X, int Y) Position { get; internal set; } = (-1, -1);

    /// <summary>Position where the object was first placed.</summary>
    public (int X, int Y) InitialPosition { get; internal set; } = (-1, -1);

    /// <summary>True for an open door.</summary>
    public bool IsOpen => Type == ObjectType.Door && State == DoorState.Open;

    /// <summary>True for a locked door.</summary>
    public bool IsLocked => Type == ObjectType.Door && State == DoorState.Locked;

    /// <summary>Whether the agent can stand on it: goal, floor, lava, open doors.</summary>
    public bool CanOverlap => Type switch
    {
        ObjectType.Goal or ObjectType.Floor or ObjectType.Lava => true,
        ObjectType.Door => State == DoorState.Open,
        _ => false,
    };

    /// <summary>Whether the agent can pick it up: keys, balls, boxes.</summary>
    public bool CanPickup => Type is ObjectType.Key or ObjectType.Ball or ObjectType.Box;

    /// <summary>Whether sight passes through: everything but walls and closed or locked doors.</summary>
    public bool SeeBehind => Type switch
    {
        ObjectType.Wall => false,
        ObjectType.Door => State == DoorState.Open,
        _ => true,
    };

    /// <summary>The (type, colour, state) triple as Minigrid encodes it.</summary>
    public (byte Type, byte Color, byte State) Encode() => ((byte)Type, (byte)Color, (byte)State);

    /// <summary>
    /// Builds an object from an encoded triple as Minigrid's <c>WorldObj.decode</c> does: null for
    /// empty or unseen cells; goals are green and lava red whatever the colour byte; boxes are empty.
    /// Throws naming the triple when a code is unknown.
    /// </summary>
    public static WorldObject? Decode(byte type, byte color, byte state)
    {
        if (type > (byte)ObjectType.Agent) throw new FormatException($"Unknown object type code {type}.");
        if (color > (byte)GridColor.Grey) throw new FormatException($"Unknown colour code {color} (object type {type}).");
        var t = (ObjectType)type;
        switch (t)
        {
            case ObjectType.Unseen:
            case ObjectType.Empty:
                return null;
            case ObjectType.Agent:
                throw new FormatException("An encoded grid cannot hold the agent (code 10); give its pose separately.");
            case ObjectType.Door:
                if (state > (byte)DoorState.Locked) throw new FormatException($"Unknown door state code {state}.");
                return new WorldObject(t, (GridColor)color, (DoorState)state);
            case ObjectType.Goal:
                return new WorldObject(t, GridColor.Green);
            case ObjectType.Lava:
                return new WorldObject(t, GridColor.Red);
            default:
                return new WorldObject(t, (GridColor)color);
        }
    }

    /// <summary>Short description, e.g. <c>red ball</c> or <c>locked blue door</c>.</summary>
    public override string ToString() => Type == ObjectType.Door
        ? $"{State.ToString().ToLowerInvariant()} {Color.Name()} door"
        : $"{Color.Name()} {Type.Name()}";
}
