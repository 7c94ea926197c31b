namespace RLAgents.Environments.GridWorld.Rendering;

/// <summary>
/// RGB rendering of views and grids with Minigrid's tile pictures (walls, floors, doors in their
/// three states, keys, balls, boxes, goals, lava, the agent as a red triangle), 3×3 supersampled,
/// visible cells highlighted. Output is raw pixels: uint8 [height, width, 3], row-major. Tiles are
/// cached per renderer instance; rendering is otherwise a pure function of its inputs.
/// </summary>
public sealed class TileRenderer
{
    private const int Subdivisions = 3;
    private readonly Dictionary<(uint Cell, int AgentDir, bool Highlight), byte[]> _cache = [];

    /// <summary>Creates a renderer with square tiles of <paramref name="tileSize"/> pixels.</summary>
    public TileRenderer(int tileSize = 32)
    {
        if (tileSize < 4) throw new ArgumentOutOfRangeException(nameof(tileSize), tileSize, "Tiles need at least 4 pixels.");
        TileSize = tileSize;
    }

    /// <summary>Pixels per tile side.</summary>
    public int TileSize { get; }

    /// <summary>
    /// Renders an encoded 7×7 view (147 bytes) as the agent sees it: the agent at the bottom
    /// centre facing up, unseen cells dark, seen cells highlighted. Shape [7·tile, 7·tile, 3].
    /// </summary>
    public byte[] RenderView(ReadOnlySpan<byte> image)
    {
        const int S = GridConstants.ViewSize;
        if (image.Length != GridConstants.ViewBytes) throw new ArgumentException($"A view has {GridConstants.ViewBytes} bytes, not {image.Length}.", nameof(image));
        int side = S * TileSize;
        var pixels = new byte[side * side * 3];
        for (int vx = 0; vx < S; vx++)
            for (int vy = 0; vy < S; vy++)
            {
                int o = (vx * S + vy) * 3;
                bool seen = image[o] != (byte)ObjectType.Unseen;
                uint cell = image[o] == (byte)ObjectType.Unseen ? (uint)ObjectType.Empty : image[o] | ((uint)image[o + 1] << 8) | ((uint)image[o + 2] << 16);
                bool agent = vx == S / 2 && vy == S - 1;
                Blit(Tile(cell, agent ? 3 : -1, seen), pixels, side, vx, vy);
            }
        return pixels;
    }

    /// <summary>
    /// Renders a whole grid with the agent, highlighting the cells in <paramref name="visible"/>
    /// (index y·width + x) when given. Shape [height·tile, width·tile, 3].
    /// </summary>
    public byte[] RenderGrid(Grid grid, int agentX, int agentY, int agentDir, ReadOnlySpan<bool> visible = default)
    {
        int w = grid.Width * TileSize, h = grid.Height * TileSize;
        var pixels = new byte[w * h * 3];
        for (int y = 0; y < grid.Height; y++)
            for (int x = 0; x < grid.Width; x++)
            {
                bool highlight = !visible.IsEmpty && visible[y * grid.Width + x];
                Blit(Tile(Grid.Pack(grid.Get(x, y)) & 0xFFFFFF, x == agentX && y == agentY ? agentDir : -1, highlight), pixels, w, x, y);
            }
        return pixels;
    }

    /// <summary>Renders the environment's full grid, highlighting what the agent currently sees.</summary>
    public byte[] RenderEnv(GridWorldEnv env)
    {
        var grid = env.Grid;
        var visible = new bool[grid.Width * grid.Height];
        for (int k = 0; k < GridConstants.ViewSize * GridConstants.ViewSize; k++)
        {
            if ((env.VisibleMask >> k & 1) == 0) continue;
            var (x, y) = env.ViewCellToWorld(k);
            if (grid.InBounds(x, y)) visible[y * grid.Width + x] = true;
        }
        return RenderGrid(grid, env.AgentX, env.AgentY, env.AgentDir, visible);
    }

    private void Blit(byte[] tile, byte[] pixels, int rowPixels, int tx, int ty)
    {
        int t = TileSize;
        for (int py = 0; py < t; py++)
            Array.Copy(tile, py * t * 3, pixels, ((ty * t + py) * rowPixels + tx * t) * 3, t * 3);
    }

    private byte[] Tile(uint cell, int agentDir, bool highlight)
    {
        var key = (cell & 0xFFFFFF, agentDir, highlight);
        if (_cache.TryGetValue(key, out var cached)) return cached;
        int big = TileSize * Subdivisions;
        var img = new float[big * big * 3];
        Fill(img, big, (x, y) => x <= 0.031 || y <= 0.031, 100, 100, 100);
        DrawObject(img, big, cell);
        if (agentDir >= 0)
        {
            double theta = 0.5 * Math.PI * agentDir;
            Fill(img, big, (x, y) =>
            {
                // Rotate the query point back by theta around the centre, then test the east-facing triangle.
                double dx = x - 0.5, dy = y - 0.5;
                double rx = 0.5 + dx * Math.Cos(-theta) - dy * Math.Sin(-theta);
                double ry = 0.5 + dy * Math.Cos(-theta) + dx * Math.Sin(-theta);
                return InTriangle(rx, ry, (0.12, 0.19), (0.87, 0.50), (0.12, 0.81));
            }, 255, 0, 0);
        }
        if (highlight)
            for (int i = 0; i < img.Length; i++) img[i] += (255 - img[i]) * 0.3f;
        var tile = new byte[TileSize * TileSize * 3];
        for (int y = 0; y < TileSize; y++)
            for (int x = 0; x < TileSize; x++)
                for (int c = 0; c < 3; c++)
                {
                    float sum = 0;
                    for (int sy = 0; sy < Subdivisions; sy++)
                        for (int sx = 0; sx < Subdivisions; sx++)
                            sum += img[((y * Subdivisions + sy) * big + x * Subdivisions + sx) * 3 + c];
                    tile[(y * TileSize + x) * 3 + c] = (byte)Math.Clamp(MathF.Round(sum / (Subdivisions * Subdivisions)), 0, 255);
                }
        _cache[key] = tile;
        return tile;
    }

    private static void DrawObject(float[] img, int n, uint cell)
    {
        var type = (ObjectType)(cell & 0xFF);
        int colorIndex = (int)((cell >> 8) & 0xFF);
        var rgb = GridConstants.ColorRgb[Math.Min(colorIndex, GridConstants.ColorRgb.Length - 1)];
        byte r = rgb[0], g = rgb[1], b = rgb[2];
        var state = (DoorState)((cell >> 16) & 0xFF);
        switch (type)
        {
            case ObjectType.Wall:
                Fill(img, n, Rect(0, 1, 0, 1), r, g, b);
                break;
            case ObjectType.Floor:
                Fill(img, n, Rect(0.031, 1, 0.031, 1), r / 2f, g / 2f, b / 2f);
                break;
            case ObjectType.Goal:
                Fill(img, n, Rect(0, 1, 0, 1), 0, 255, 0);
                break;
            case ObjectType.Lava:
                Fill(img, n, Rect(0, 1, 0, 1), 255, 128, 0);
                for (int i = 0; i < 3; i++)
                {
                    double lo = 0.3 + 0.2 * i, hi = 0.4 + 0.2 * i;
                    Fill(img, n, Line(0.1, lo, 0.3, hi, 0.03), 0, 0, 0);
                    Fill(img, n, Line(0.3, hi, 0.5, lo, 0.03), 0, 0, 0);
                    Fill(img, n, Line(0.5, lo, 0.7, hi, 0.03), 0, 0, 0);
                    Fill(img, n, Line(0.7, hi, 0.9, lo, 0.03), 0, 0, 0);
                }
                break;
            case ObjectType.Door when state == DoorState.Open:
                Fill(img, n, Rect(0.88, 1.00, 0.00, 1.00), r, g, b);
                Fill(img, n, Rect(0.92, 0.96, 0.04, 0.96), 0, 0, 0);
                break;
            case ObjectType.Door when state == DoorState.Locked:
                Fill(img, n, Rect(0, 1, 0, 1), r, g, b);
                Fill(img, n, Rect(0.06, 0.94, 0.06, 0.94), 0.45f * r, 0.45f * g, 0.45f * b);
                Fill(img, n, Rect(0.52, 0.75, 0.50, 0.56), r, g, b);
                break;
            case ObjectType.Door:
                Fill(img, n, Rect(0, 1, 0, 1), r, g, b);
                Fill(img, n, Rect(0.04, 0.96, 0.04, 0.96), 0, 0, 0);
                Fill(img, n, Rect(0.08, 0.92, 0.08, 0.92), r, g, b);
                Fill(img, n, Rect(0.12, 0.88, 0.12, 0.88), 0, 0, 0);
                Fill(img, n, Circle(0.75, 0.50, 0.08), r, g, b);
                break;
            case ObjectType.Key:
                Fill(img, n, Rect(0.50, 0.63, 0.31, 0.88), r, g, b);
                Fill(img, n, Rect(0.38, 0.50, 0.59, 0.66), r, g, b);
                Fill(img, n, Rect(0.38, 0.50, 0.81, 0.88), r, g, b);
                Fill(img, n, Circle(0.56, 0.28, 0.190), r, g, b);
                Fill(img, n, Circle(0.56, 0.28, 0.064), 0, 0, 0);
                break;
            case ObjectType.Ball:
                Fill(img, n, Circle(0.5, 0.5, 0.31), r, g, b);
                break;
            case ObjectType.Box:
                Fill(img, n, Rect(0.12, 0.88, 0.12, 0.88), r, g, b);
                Fill(img, n, Rect(0.18, 0.82, 0.18, 0.82), 0, 0, 0);
                Fill(img, n, Rect(0.16, 0.84, 0.47, 0.53), r, g, b);
                break;
        }
    }

    private static Func<double, double, bool> Rect(double x0, double x1, double y0, double y1) => (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1;

    private static Func<double, double, bool> Circle(double cx, double cy, double radius) => (x, y) => (x - cx) * (x - cx) + (y - cy) * (y - cy) <= radius * radius;

    private static Func<double, double, bool> Line(double x0, double y0, double x1, double y1, double radius) => (x, y) =>
    {
        double dx = x1 - x0, dy = y1 - y0;
        double t = Math.Clamp(((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy), 0, 1);
        double px = x0 + t * dx - x, py = y0 + t * dy - y;
        return px * px + py * py <= radius * radius;
    };

    private static bool InTriangle(double x, double y, (double X, double Y) a, (double X, double Y) b, (double X, double Y) c)
    {
        static double Cross((double X, double Y) p, (double X, double Y) q, double x, double y) => (q.X - p.X) * (y - p.Y) - (q.Y - p.Y) * (x - p.X);
        double d1 = Cross(a, b, x, y), d2 = Cross(b, c, x, y), d3 = Cross(c, a, x, y);
        bool neg = d1 < 0 || d2 < 0 || d3 < 0, pos = d1 > 0 || d2 > 0 || d3 > 0;
        return !(neg && pos);
    }

    private static void Fill(float[] img, int n, Func<double, double, bool> inside, float r, float g, float b)
    {
        for (int y = 0; y < n; y++)
        {
            double yf = (y + 0.5) / n;
            for (int x = 0; x < n; x++)
            {
                double xf = (x + 0.5) / n;
                if (!inside(xf, yf)) continue;
                int o = (y * n + x) * 3;
                img[o] = r;
                img[o + 1] = g;
                img[o + 2] = b;
            }
        }
    }
}
