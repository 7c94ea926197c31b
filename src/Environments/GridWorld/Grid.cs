using System.Runtime.CompilerServices;
using System.Text;

namespace RLAgents.Environments.GridWorld;

/// <summary>
/// A width × height grid of <see cref="WorldObject"/> cells (null = empty), as Minigrid's
/// <c>Grid</c>. Besides the objects it keeps, for the observation hot path, a packed copy of every
/// cell's encoding in an array padded by <see cref="Padding"/> cells of grey wall on each side
/// (Minigrid's <c>slice</c> treats cells outside the grid as walls), so that building the 7×7 view
/// needs no bounds checks. Code that changes an object in place calls <see cref="Refresh"/>.
/// </summary>
public sealed class Grid
{
    /// <summary>Padding around the packed copy: the view reaches 6 cells from the agent.</summary>
    public const int Padding = GridConstants.ViewSize - 1;

    // Packed cell: type | color << 8 | state << 16 | opaque << 24.
    internal const uint OpaqueBit = 1u << 24;
    internal const uint PackedEmpty = (uint)ObjectType.Empty;
    internal const uint PackedOutside = (uint)ObjectType.Wall | ((uint)GridColor.Grey << 8) | OpaqueBit;

    private readonly WorldObject?[] _cells;
    private readonly uint[] _packed;

    /// <summary>Creates an empty grid; Minigrid requires at least 3 × 3.</summary>
    public Grid(int width, int height)
    {
        if (width < 3 || height < 3) throw new ArgumentOutOfRangeException(nameof(width), $"A grid needs at least 3 x 3 cells, got {width} x {height}.");
        Width = width;
        Height = height;
        _cells = new WorldObject?[width * height];
        PaddedWidth = width + 2 * Padding;
        _packed = new uint[PaddedWidth * (height + 2 * Padding)];
        Array.Fill(_packed, PackedOutside);
        for (int y = 0; y < height; y++)
            _packed.AsSpan(PackedIndex(0, y), width).Fill(PackedEmpty);
    }

    /// <summary>Number of columns (x).</summary>
    public int Width { get; }

    /// <summary>Number of rows (y, growing downwards).</summary>
    public int Height { get; }

    internal int PaddedWidth { get; }

    internal uint[] Packed => _packed;

    /// <summary>True when (x, y) lies inside the grid.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool InBounds(int x, int y) => (uint)x < (uint)Width && (uint)y < (uint)Height;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int PackedIndex(int x, int y) => (y + Padding) * PaddedWidth + x + Padding;

    /// <summary>The object at (x, y), or null when empty. Throws outside the grid.</summary>
    public WorldObject? Get(int x, int y)
    {
        if (!InBounds(x, y)) throw new ArgumentOutOfRangeException(nameof(x), $"Cell ({x}, {y}) is outside the {Width} x {Height} grid.");
        return _cells[y * Width + x];
    }

    /// <summary>The object at (x, y); cells outside the grid read as null (callers check bounds where it matters).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal WorldObject? GetOrNull(int x, int y) => InBounds(x, y) ? _cells[y * Width + x] : null;

    /// <summary>Places <paramref name="obj"/> (or null to clear) at (x, y), without touching its position fields.</summary>
    public void Set(int x, int y, WorldObject? obj)
    {
        if (!InBounds(x, y)) throw new ArgumentOutOfRangeException(nameof(x), $"Cell ({x}, {y}) is outside the {Width} x {Height} grid.");
        _cells[y * Width + x] = obj;
        _packed[PackedIndex(x, y)] = Pack(obj);
    }

    /// <summary>Places <paramref name="obj"/> at (x, y) and records that as its current and initial position (Minigrid's <c>put_obj</c>).</summary>
    public WorldObject Put(int x, int y, WorldObject obj)
    {
        Set(x, y, obj);
        obj.Position = obj.InitialPosition = (x, y);
        return obj;
    }

    /// <summary>Re-encodes cell (x, y) after its object changed in place (a door opened, a colour changed).</summary>
    public void Refresh(int x, int y) => _packed[PackedIndex(x, y)] = Pack(_cells[y * Width + x]);

    internal static uint Pack(WorldObject? obj)
    {
        if (obj is null) return PackedEmpty;
        uint v = (uint)obj.Type | ((uint)obj.Color << 8) | ((uint)obj.State << 16);
        return obj.SeeBehind ? v : v | OpaqueBit;
    }

    // Walls have no state that changes and no identity anything tracks, so the generated ones share
    // one object (a BossLevel reset draws about 250 of them per attempt).
    private static readonly WorldObject s_wall = new(ObjectType.Wall, GridColor.Grey);

    /// <summary>Draws a horizontal line of grey walls.</summary>
    public void HorizontalWall(int x, int y, int length)
    {
        for (int i = 0; i < length; i++) Set(x + i, y, s_wall);
    }

    /// <summary>Draws a vertical line of grey walls.</summary>
    public void VerticalWall(int x, int y, int length)
    {
        for (int j = 0; j < length; j++) Set(x, y + j, s_wall);
    }

    /// <summary>Draws the outline of a rectangle of walls.</summary>
    public void WallRect(int x, int y, int w, int h)
    {
        HorizontalWall(x, y, w);
        HorizontalWall(x, y + h - 1, w);
        VerticalWall(x, y, h);
        VerticalWall(x + w - 1, y, h);
    }

    /// <summary>
    /// Writes Minigrid's <c>grid.encode()</c>: shape (width, height, 3), index
    /// <c>((x*height)+y)*3+ch</c>; empty cells encode as (1, 0, 0).
    /// </summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length != Width * Height * 3)
            throw new ArgumentException($"A {Width} x {Height} grid encodes to {Width * Height * 3} bytes, not {destination.Length}.", nameof(destination));
        for (int x = 0; x < Width; x++)
            for (int y = 0; y < Height; y++)
            {
                uint p = _packed[PackedIndex(x, y)];
                int o = ((x * Height) + y) * 3;
                destination[o] = (byte)p;
                destination[o + 1] = (byte)(p >> 8);
                destination[o + 2] = (byte)(p >> 16);
            }
    }

    /// <summary>The full-grid encoding as a new array (see <see cref="Encode(Span{byte})"/>).</summary>
    public byte[] Encode()
    {
        var bytes = new byte[Width * Height * 3];
        Encode(bytes);
        return bytes;
    }

    /// <summary>
    /// Builds a grid from a <c>grid.encode()</c> array (Minigrid's <c>Grid.decode</c>); each object
    /// gets its position. Errors name the byte offset and cell.
    /// </summary>
    public static Grid Decode(ReadOnlySpan<byte> encoding, int width, int height)
    {
        if (encoding.Length != width * height * 3)
            throw new FormatException($"A {width} x {height} grid encoding has {width * height * 3} bytes, not {encoding.Length}.");
        var grid = new Grid(width, height);
        for (int x = 0; x < width; x++)
            for (int y = 0; y < height; y++)
            {
                int o = ((x * height) + y) * 3;
                WorldObject? obj;
                try
                {
                    obj = WorldObject.Decode(encoding[o], encoding[o + 1], encoding[o + 2]);
                }
                catch (FormatException e)
                {
                    throw new FormatException($"Grid encoding byte offset {o} (cell ({x}, {y})): {e.Message}", e);
                }
                if (obj is null) continue;
                grid.Set(x, y, obj);
                obj.Position = obj.InitialPosition = (x, y);
            }
        return grid;
    }

    /// <summary>
    /// ASCII picture, two characters per cell as Minigrid's <c>__str__</c>: object letter and colour
    /// initial (W wall, F floor, D door, K key, A ball, B box, G goal, V lava; <c>__</c> open door,
    /// <c>L</c>+colour locked door), the agent as <c>&gt;&gt;</c>, <c>VV</c>, <c>&lt;&lt;</c>, <c>^^</c>.
    /// </summary>
    public string RenderAscii(int agentX = -1, int agentY = -1, int agentDir = 0)
    {
        var sb = new StringBuilder(Height * (2 * Width + 1));
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                if (x == agentX && y == agentY)
                {
                    char a = ">V<^"[agentDir & 3];
                    sb.Append(a).Append(a);
                    continue;
                }
                var c = _cells[y * Width + x];
                if (c is null) { sb.Append("  "); continue; }
                char colour = char.ToUpperInvariant(c.Color.Name()[0]);
                if (c.Type == ObjectType.Door)
                {
                    if (c.IsOpen) sb.Append("__");
                    else sb.Append(c.IsLocked ? 'L' : 'D').Append(colour);
                    continue;
                }
                char t = c.Type switch
                {
                    ObjectType.Wall => 'W',
                    ObjectType.Floor => 'F',
                    ObjectType.Key => 'K',
                    ObjectType.Ball => 'A',
                    ObjectType.Box => 'B',
                    ObjectType.Goal => 'G',
                    _ => 'V',
                };
                sb.Append(t).Append(colour);
            }
            if (y < Height - 1) sb.Append('\n');
        }
        return sb.ToString();
    }
}
