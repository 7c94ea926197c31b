namespace RLAgents.Environments.GridWorld;

/// <summary>Object types with Minigrid's integer codes (<c>OBJECT_TO_IDX</c>), channel 0 of an encoded cell.</summary>
public enum ObjectType : byte
{
    /// <summary>Outside the agent's sight (view only).</summary>
    Unseen = 0,
    /// <summary>An empty cell.</summary>
    Empty = 1,
    /// <summary>A wall: blocks movement and sight.</summary>
    Wall = 2,
    /// <summary>A coloured floor tile the agent can walk over.</summary>
    Floor = 3,
    /// <summary>A door: open, closed or locked.</summary>
    Door = 4,
    /// <summary>A key (can be picked up; opens the locked door of its colour).</summary>
    Key = 5,
    /// <summary>A ball (can be picked up).</summary>
    Ball = 6,
    /// <summary>A box (can be picked up; toggling replaces it by its contents).</summary>
    Box = 7,
    /// <summary>A goal square: stepping on it ends the episode with reward.</summary>
    Goal = 8,
    /// <summary>Lava: stepping on it ends the episode without reward.</summary>
    Lava = 9,
    /// <summary>The agent (only in fully observed encodings; never produced by this package).</summary>
    Agent = 10,
}

/// <summary>Colours with Minigrid's integer codes (<c>COLOR_TO_IDX</c>), channel 1 of an encoded cell.</summary>
public enum GridColor : byte
{
    /// <summary>Red.</summary>
    Red = 0,
    /// <summary>Green.</summary>
    Green = 1,
    /// <summary>Blue.</summary>
    Blue = 2,
    /// <summary>Purple.</summary>
    Purple = 3,
    /// <summary>Yellow.</summary>
    Yellow = 4,
    /// <summary>Grey.</summary>
    Grey = 5,
}

/// <summary>Door states with Minigrid's integer codes (<c>STATE_TO_IDX</c>), channel 2 of an encoded cell.</summary>
public enum DoorState : byte
{
    /// <summary>Open: passable and see-through.</summary>
    Open = 0,
    /// <summary>Closed: toggling opens it.</summary>
    Closed = 1,
    /// <summary>Locked: toggling while carrying a key of the door's colour unlocks and opens it.</summary>
    Locked = 2,
}

/// <summary>The seven Minigrid actions.</summary>
public enum GridAction
{
    /// <summary>Turn left (counter-clockwise).</summary>
    Left = 0,
    /// <summary>Turn right (clockwise).</summary>
    Right = 1,
    /// <summary>Move one cell forward if the cell is empty or overlappable.</summary>
    Forward = 2,
    /// <summary>Pick up the object in front when carrying nothing.</summary>
    Pickup = 3,
    /// <summary>Drop the carried object onto the empty cell in front.</summary>
    Drop = 4,
    /// <summary>Toggle the object in front (doors, boxes).</summary>
    Toggle = 5,
    /// <summary>Declare the task done (a no-op unless done actions are enabled).</summary>
    Done = 6,
}

/// <summary>Names, direction vectors and colour tables shared by the grid world.</summary>
public static class GridConstants
{
    /// <summary>Number of actions.</summary>
    public const int ActionCount = 7;

    /// <summary>Side of the egocentric view (Minigrid's <c>agent_view_size</c>).</summary>
    public const int ViewSize = 7;

    /// <summary>Bytes of one encoded view: 7 × 7 × 3.</summary>
    public const int ViewBytes = ViewSize * ViewSize * 3;

    /// <summary>X step of each direction: 0 east, 1 south, 2 west, 3 north (Minigrid's <c>DIR_TO_VEC</c>).</summary>
    public static ReadOnlySpan<int> DirX => s_dirX;

    /// <summary>Y step of each direction (y grows downwards).</summary>
    public static ReadOnlySpan<int> DirY => s_dirY;

    // Arrays, not collection-expression spans: unoptimised builds would allocate those on every read.
    private static readonly int[] s_dirX = [1, 0, -1, 0];
    private static readonly int[] s_dirY = [0, 1, 0, -1];

    /// <summary>Colour names indexed by <see cref="GridColor"/>.</summary>
    public static readonly string[] ColorNames = ["red", "green", "blue", "purple", "yellow", "grey"];

    /// <summary>
    /// Colours in Minigrid's <c>COLOR_NAMES</c> order (sorted by name), the order random colours
    /// are drawn from.
    /// </summary>
    public static readonly GridColor[] SortedColors = [GridColor.Blue, GridColor.Green, GridColor.Grey, GridColor.Purple, GridColor.Red, GridColor.Yellow];

    /// <summary>Type names indexed by <see cref="ObjectType"/>.</summary>
    public static readonly string[] TypeNames = ["unseen", "empty", "wall", "floor", "door", "key", "ball", "box", "goal", "lava", "agent"];

    /// <summary>RGB of each colour (Minigrid's <c>COLORS</c>).</summary>
    public static readonly byte[][] ColorRgb =
    [
        [255, 0, 0], [0, 255, 0], [0, 0, 255], [112, 39, 195], [255, 255, 0], [100, 100, 100],
    ];

    /// <summary>Name of a colour.</summary>
    public static string Name(this GridColor color) => ColorNames[(int)color];

    /// <summary>Name of an object type.</summary>
    public static string Name(this ObjectType type) => TypeNames[(int)type];

    /// <summary>Parses a colour name (<c>red</c> … <c>grey</c>); throws naming the value when unknown.</summary>
    public static GridColor ParseColor(string name)
    {
        int i = Array.IndexOf(ColorNames, name);
        return i >= 0 ? (GridColor)i : throw new FormatException($"'{name}' is not a colour; expected one of {string.Join(", ", ColorNames)}.");
    }

    /// <summary>Parses an object type name (<c>wall</c>, <c>door</c>, <c>key</c>, …); throws naming the value when unknown.</summary>
    public static ObjectType ParseType(string name)
    {
        int i = Array.IndexOf(TypeNames, name);
        return i >= 0 ? (ObjectType)i : throw new FormatException($"'{name}' is not an object type; expected one of {string.Join(", ", TypeNames)}.");
    }
}
