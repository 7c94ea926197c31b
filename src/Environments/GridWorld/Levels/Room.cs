namespace RLAgents.Environments.GridWorld.Levels;

/// <summary>One room of a room grid (Minigrid's <c>Room</c>): walls, doors and neighbours in the order right, down, left, up.</summary>
public sealed class Room
{
    internal Room(int i, int j, int x, int y, int size)
    {
        I = i;
        J = j;
        Rect = new RoomRect(x, y, size, size);
    }

    /// <summary>Column of the room in the room grid.</summary>
    public int I { get; }

    /// <summary>Row of the room in the room grid.</summary>
    public int J { get; }

    /// <summary>The room including its walls.</summary>
    public RoomRect Rect { get; }

    /// <summary>Door objects per side (right, down, left, up), or null.</summary>
    public WorldObject?[] Doors { get; } = new WorldObject?[4];

    /// <summary>Sides whose wall was removed (connected without a door).</summary>
    public bool[] WallRemoved { get; } = new bool[4];

    /// <summary>Door position per side, where a neighbour exists.</summary>
    public (int X, int Y)?[] DoorPositions { get; } = new (int X, int Y)?[4];

    /// <summary>Neighbouring rooms per side.</summary>
    public Room?[] Neighbors { get; } = new Room?[4];

    /// <summary>True when the room was given a locked door.</summary>
    public bool Locked { get; internal set; }

    /// <summary>Objects placed in the room.</summary>
    public List<WorldObject> Objects { get; } = [];

    /// <summary>Whether side k leads to the neighbour (a door or a removed wall).</summary>
    public bool IsConnected(int k) => Doors[k] is not null || WallRemoved[k];
}
