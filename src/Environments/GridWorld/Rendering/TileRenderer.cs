using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RLAgents.Environments.GridWorld.Rendering;

/// <summary>
/// RGB pictures of grid worlds, byte-identical to Minigrid 3.1's renders: the agent's view
/// (<c>RGBImgPartialObsWrapper</c> / <c>get_frame(agent_pov=True)</c>) and the whole grid
/// (<c>get_frame(highlight, tile_size)</c>). Output is raw pixels, uint8 [rows, columns, 3],
/// row-major, row = y and column = x (the transpose of the symbolic [x][y] layout).
/// <para>
/// Rendering only copies tiles: each (cell encoding, agent direction, highlight) tile is painted
/// once per tile size (<see cref="TilePainter"/>, Minigrid's supersampled drawing), kept for the
/// life of the process in an atlas shared by every renderer, and blitted row by row afterwards.
/// The atlas is thread-safe; a renderer instance keeps a scratch highlight mask, so use one
/// instance per thread.
/// </para>
/// </summary>
public sealed class TileRenderer
{
    private static readonly ConcurrentDictionary<int, TileAtlas> s_atlases = new();

    private readonly TileAtlas _atlas;
    private readonly int _tileBytes, _rowBytes;
    private bool[] _highlight = [];

    /// <summary>Creates a renderer with square tiles of <paramref name="tileSize"/> pixels (Minigrid's observation wrappers use 8).</summary>
    public TileRenderer(int tileSize = 32)
    {
        if (tileSize < 1) throw new ArgumentOutOfRangeException(nameof(tileSize), tileSize, "Tiles need at least 1 pixel.");
        TileSize = tileSize;
        _atlas = s_atlases.GetOrAdd(tileSize, t => new TileAtlas(t));
        _rowBytes = tileSize * 3;
        _tileBytes = tileSize * _rowBytes;
    }

    /// <summary>Pixels per tile side.</summary>
    public int TileSize { get; }

    /// <summary>Bytes of a rendered agent view: [7·T, 7·T, 3].</summary>
    public int ViewBytes => GridConstants.ViewSize * GridConstants.ViewSize * _tileBytes;

    /// <summary>Bytes of a rendered <paramref name="width"/> × <paramref name="height"/> grid: [height·T, width·T, 3].</summary>
    public int GridBytes(int width, int height) => width * height * _tileBytes;

    /// <summary>
    /// Renders an encoded 7×7 view (147 bytes, index (vx·7 + vy)·3 + channel) as Minigrid's
    /// <c>RGBImgPartialObsWrapper</c> does: tile (column vx, row vy) shows the cell's object,
    /// highlighted when seen; unseen cells (type 0) are bare tiles, not highlighted; the agent's
    /// cell (3, 6) shows what it carries with the red triangle pointing up. Shape [7·T, 7·T, 3].
    /// </summary>
    public byte[] RenderView(ReadOnlySpan<byte> image)
    {
        var pixels = new byte[ViewBytes];
        RenderView(image, pixels);
        return pixels;
    }

    /// <summary>Renders an encoded view into <paramref name="destination"/> (<see cref="ViewBytes"/> bytes); allocation-free once the tiles are painted.</summary>
    public void RenderView(ReadOnlySpan<byte> image, Span<byte> destination)
    {
        const int S = GridConstants.ViewSize;
        if (image.Length != GridConstants.ViewBytes) throw new ArgumentException($"A view has {GridConstants.ViewBytes} bytes, not {image.Length}.", nameof(image));
        if (destination.Length != ViewBytes) throw new ArgumentException($"A {S}x{S} view at tile size {TileSize} needs {ViewBytes} bytes, not {destination.Length}.", nameof(destination));
        int stride = S * _rowBytes;
        for (int vx = 0; vx < S; vx++)
            for (int vy = 0; vy < S; vy++)
            {
                int o = (vx * S + vy) * 3;
                byte type = image[o];
                bool seen = type != (byte)ObjectType.Unseen;
                int dir = vx == S / 2 && vy == S - 1 ? 3 : -1;
                var tile = seen ? _atlas.Get(type, image[o + 1], image[o + 2], dir, true) : _atlas.Get((byte)ObjectType.Empty, 0, 0, dir, false);
                Blit(tile, destination, stride, vx, vy);
            }
    }

    /// <summary>
    /// Renders a whole grid with the agent's triangle drawn over its cell (the carried object is
    /// not drawn), highlighting the cells in <paramref name="visible"/> (index y·width + x) when
    /// given. Shape [height·T, width·T, 3].
    /// </summary>
    public byte[] RenderGrid(Grid grid, int agentX, int agentY, int agentDir, ReadOnlySpan<bool> visible = default)
    {
        var pixels = new byte[GridBytes(grid.Width, grid.Height)];
        RenderGrid(grid, agentX, agentY, agentDir, visible, pixels);
        return pixels;
    }

    /// <summary>Renders a whole grid into <paramref name="destination"/> (<see cref="GridBytes"/> bytes); see <see cref="RenderGrid(Grid, int, int, int, ReadOnlySpan{bool})"/>.</summary>
    public void RenderGrid(Grid grid, int agentX, int agentY, int agentDir, ReadOnlySpan<bool> visible, Span<byte> destination)
    {
        int w = grid.Width, h = grid.Height;
        if (!visible.IsEmpty && visible.Length != w * h)
            throw new ArgumentException($"The highlight mask of a {w}x{h} grid has {w * h} entries, not {visible.Length}.", nameof(visible));
        if (destination.Length != GridBytes(w, h))
            throw new ArgumentException($"A {w}x{h} grid at tile size {TileSize} needs {GridBytes(w, h)} bytes, not {destination.Length}.", nameof(destination));
        uint[] packed = grid.Packed;
        int stride = w * _rowBytes;
        for (int y = 0; y < h; y++)
        {
            int rowStart = grid.PackedIndex(0, y);
            for (int x = 0; x < w; x++)
            {
                uint p = packed[rowStart + x];
                int dir = x == agentX && y == agentY ? agentDir : -1;
                bool highlight = !visible.IsEmpty && visible[y * w + x];
                Blit(_atlas.Get((byte)p, (byte)(p >> 8), (byte)(p >> 16), dir, highlight), destination, stride, x, y);
            }
        }
    }

    /// <summary>
    /// Renders the environment's full grid as Minigrid's <c>get_frame(highlight, tile_size)</c>:
    /// with <paramref name="highlight"/>, the world cells the agent currently sees (its own cell
    /// included) are highlighted. Shape [height·T, width·T, 3].
    /// </summary>
    public byte[] RenderEnv(GridWorldEnv env, bool highlight = true)
    {
        var pixels = new byte[GridBytes(env.Grid.Width, env.Grid.Height)];
        RenderEnv(env, highlight, pixels);
        return pixels;
    }

    /// <summary>Renders the environment's full grid into <paramref name="destination"/>; allocation-free while the grid size is unchanged.</summary>
    public void RenderEnv(GridWorldEnv env, bool highlight, Span<byte> destination)
    {
        var grid = env.Grid;
        if (!highlight)
        {
            RenderGrid(grid, env.AgentX, env.AgentY, env.AgentDir, default, destination);
            return;
        }
        int cells = grid.Width * grid.Height;
        if (_highlight.Length != cells) _highlight = new bool[cells];
        else Array.Clear(_highlight);
        ulong mask = env.VisibleMask;
        for (int k = 0; k < GridConstants.ViewSize * GridConstants.ViewSize; k++)
        {
            if ((mask >> k & 1) == 0) continue;
            var (x, y) = env.ViewCellToWorld(k);
            if (grid.InBounds(x, y)) _highlight[y * grid.Width + x] = true;
        }
        RenderGrid(grid, env.AgentX, env.AgentY, env.AgentDir, _highlight, destination);
    }

    /// <summary>The cached tile of one cell encoding: uint8 [T, T, 3]; <paramref name="agentDir"/> −1 for no agent.</summary>
    public ReadOnlySpan<byte> Tile(ObjectType type, GridColor color, DoorState state, int agentDir, bool highlight) =>
        _atlas.Get((byte)type, (byte)color, (byte)state, agentDir, highlight);

    /// <summary>
    /// Copies a tile's T rows into tile (tx, ty) of a picture <paramref name="stride"/> bytes wide.
    /// Callers have checked the destination's length, so the rows are copied without bounds checks;
    /// Minigrid's tile size 8 (24-byte rows) takes one 16-byte and one 8-byte move per row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Blit(byte[] tile, Span<byte> destination, int stride, int tx, int ty)
    {
        int row = _rowBytes;
        ref byte src = ref MemoryMarshal.GetArrayDataReference(tile);
        ref byte dst = ref Unsafe.Add(ref MemoryMarshal.GetReference(destination), ty * TileSize * stride + tx * row);
        if (row == 24)
        {
            for (int py = 0; py < 8; py++)
            {
                ref byte s = ref Unsafe.Add(ref src, py * 24);
                ref byte d = ref Unsafe.Add(ref dst, py * stride);
                Unsafe.WriteUnaligned(ref d, Unsafe.ReadUnaligned<Vector128<byte>>(ref s));
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref d, 16), Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref s, 16)));
            }
            return;
        }
        for (int py = 0; py < TileSize; py++)
            Unsafe.CopyBlockUnaligned(ref Unsafe.Add(ref dst, py * stride), ref Unsafe.Add(ref src, py * row), (uint)row);
    }

    /// <summary>
    /// Every tile of one size, painted on first use. Slot = ((type·6 + color)·3 + state)·10 +
    /// (dir + 1)·2 + highlight; a racing first use paints the same bytes twice, harmlessly.
    /// </summary>
    private sealed class TileAtlas(int tileSize)
    {
        private const int Types = (int)ObjectType.Agent + 1, Colors = 6, States = 3;
        private readonly byte[]?[] _tiles = new byte[Types * Colors * States * 10][];

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public byte[] Get(byte type, byte color, byte state, int dir, bool highlight)
        {
            if (type >= Types || color >= Colors || state >= States || (uint)(dir + 1) > 4) return Paint(type, color, state, dir, highlight);
            int slot = ((type * Colors + color) * States + state) * 10 + (dir + 1) * 2 + (highlight ? 1 : 0);
            return Volatile.Read(ref _tiles[slot]) ?? Paint(type, color, state, dir, highlight);
        }

        private byte[] Paint(byte type, byte color, byte state, int dir, bool highlight)
        {
            if (type >= Types || color >= Colors || state >= States)
                throw new ArgumentException($"Cell encoding ({type}, {color}, {state}) is not a Minigrid object (type < {Types}, colour < {Colors}, state < {States}).");
            if ((uint)(dir + 1) > 4) throw new ArgumentOutOfRangeException(nameof(dir), dir, "Agent direction must be 0..3, or -1 for no agent.");
            int slot = ((type * Colors + color) * States + state) * 10 + (dir + 1) * 2 + (highlight ? 1 : 0);
            var shown = type == (byte)ObjectType.Unseen ? ObjectType.Empty : (ObjectType)type; // an unseen cell is drawn empty
            var tile = TilePainter.Paint(tileSize, shown, (GridColor)color, (DoorState)state, dir, highlight);
            Volatile.Write(ref _tiles[slot], tile);
            return tile;
        }
    }
}
