namespace RLAgents.Environments.GridWorld.Rendering;

/// <summary>
/// Paints one Minigrid 3.1 tile, reproducing its arithmetic byte for byte (see
/// MINIGRID-SEMANTICS.md §13): shapes are tested at the centres of a 3T × 3T grid of uint8
/// subpixels, later shapes overwrite earlier ones, colours are truncated to uint8 when stored,
/// the highlight blends every subpixel a third of the way to white (truncated), and each output
/// pixel is the double mean of its 3 subpixel-row means, truncated. Slow (a few thousand
/// predicate calls per tile); <see cref="TileRenderer"/> paints each tile once and caches it.
/// </summary>
internal static class TilePainter
{
    /// <summary>Subpixels per tile pixel along each axis (Minigrid's <c>subdivs</c>).</summary>
    public const int Subdivisions = 3;

    private delegate bool Shape(double x, double y);

    // Minigrid's triangle vertices are numpy float32 arrays; the agent is a red triangle pointing east before rotation.
    private static readonly Shape s_triangleEast = Triangle((0.12f, 0.19f), (0.87f, 0.50f), (0.12f, 0.81f));

    /// <summary>
    /// The tile of a cell encoded (type, color, state) — type <see cref="ObjectType.Empty"/> for
    /// nothing — with the agent's triangle pointing <paramref name="agentDir"/> (−1 for none) on
    /// top, optionally highlighted. Returns uint8 [T, T, 3], row-major.
    /// </summary>
    public static byte[] Paint(int tileSize, ObjectType type, GridColor color, DoorState state, int agentDir, bool highlight)
    {
        int n = tileSize * Subdivisions;
        var sub = new byte[n * n * 3]; // [3T, 3T, 3] subpixels, black
        // Grid lines on the top and left edges: rect(0, 0.031, 0, 1) then rect(0, 1, 0, 0.031).
        Fill(sub, n, Rect(0, 0.031, 0, 1), 100, 100, 100);
        Fill(sub, n, Rect(0, 1, 0, 0.031), 100, 100, 100);
        PaintObject(sub, n, type, color, state);
        if (agentDir >= 0)
        {
            // The test point is rotated back by θ = π/2 · dir about the centre, in Python's evaluation order.
            double theta = 0.5 * Math.PI * agentDir;
            double cos = Math.Cos(-theta), sin = Math.Sin(-theta);
            Fill(sub, n, (x, y) =>
            {
                double dx = x - 0.5, dy = y - 0.5;
                return s_triangleEast(0.5 + dx * cos - dy * sin, 0.5 + dy * cos + dx * sin);
            }, 255, 0, 0);
        }
        if (highlight)
            for (int i = 0; i < sub.Length; i++) sub[i] = (byte)(sub[i] + 0.3 * (255 - sub[i]));
        return Downsample(sub, tileSize);
    }

    private static void PaintObject(byte[] sub, int n, ObjectType type, GridColor color, DoorState state)
    {
        var rgb = GridConstants.ColorRgb[(int)color];
        byte r = rgb[0], g = rgb[1], b = rgb[2];
        switch (type)
        {
            case ObjectType.Empty:
                break;
            case ObjectType.Wall:
                Fill(sub, n, Rect(0, 1, 0, 1), r, g, b);
                break;
            case ObjectType.Floor:
                // The colour halved as a float, then truncated on the uint8 store.
                Fill(sub, n, Rect(0.031, 1, 0.031, 1), Trunc(r / 2.0), Trunc(g / 2.0), Trunc(b / 2.0));
                break;
            case ObjectType.Door when state == DoorState.Open:
                Fill(sub, n, Rect(0.88, 1.00, 0.00, 1.00), r, g, b);
                Fill(sub, n, Rect(0.92, 0.96, 0.04, 0.96), 0, 0, 0);
                break;
            case ObjectType.Door when state == DoorState.Locked:
                Fill(sub, n, Rect(0.00, 1.00, 0.00, 1.00), r, g, b);
                Fill(sub, n, Rect(0.06, 0.94, 0.06, 0.94), Trunc(0.45 * r), Trunc(0.45 * g), Trunc(0.45 * b));
                Fill(sub, n, Rect(0.52, 0.75, 0.50, 0.56), r, g, b); // key slot
                break;
            case ObjectType.Door:
                Fill(sub, n, Rect(0.00, 1.00, 0.00, 1.00), r, g, b);
                Fill(sub, n, Rect(0.04, 0.96, 0.04, 0.96), 0, 0, 0);
                Fill(sub, n, Rect(0.08, 0.92, 0.08, 0.92), r, g, b);
                Fill(sub, n, Rect(0.12, 0.88, 0.12, 0.88), 0, 0, 0);
                Fill(sub, n, Circle(0.75, 0.50, 0.08), r, g, b); // handle
                break;
            case ObjectType.Key:
                Fill(sub, n, Rect(0.50, 0.63, 0.31, 0.88), r, g, b); // shaft
                Fill(sub, n, Rect(0.38, 0.50, 0.59, 0.66), r, g, b); // teeth
                Fill(sub, n, Rect(0.38, 0.50, 0.81, 0.88), r, g, b);
                Fill(sub, n, Circle(0.56, 0.28, 0.190), r, g, b); // ring
                Fill(sub, n, Circle(0.56, 0.28, 0.064), 0, 0, 0);
                break;
            case ObjectType.Ball:
                Fill(sub, n, Circle(0.5, 0.5, 0.31), r, g, b);
                break;
            case ObjectType.Box:
                // The contents are never drawn (Minigrid caches tiles by encoding, which cannot show them).
                Fill(sub, n, Rect(0.12, 0.88, 0.12, 0.88), r, g, b);
                Fill(sub, n, Rect(0.18, 0.82, 0.18, 0.82), 0, 0, 0);
                Fill(sub, n, Rect(0.16, 0.84, 0.47, 0.53), r, g, b);
                break;
            case ObjectType.Goal:
                Fill(sub, n, Rect(0, 1, 0, 1), r, g, b);
                break;
            case ObjectType.Lava:
                // Lava is always orange with three black zigzag lines; its colour code is ignored, as in Minigrid.
                Fill(sub, n, Rect(0, 1, 0, 1), 255, 128, 0);
                for (int i = 0; i < 3; i++)
                {
                    double lo = 0.3 + 0.2 * i, hi = 0.4 + 0.2 * i;
                    Fill(sub, n, Segment(0.1, lo, 0.3, hi, 0.03), 0, 0, 0);
                    Fill(sub, n, Segment(0.3, hi, 0.5, lo, 0.03), 0, 0, 0);
                    Fill(sub, n, Segment(0.5, lo, 0.7, hi, 0.03), 0, 0, 0);
                    Fill(sub, n, Segment(0.7, hi, 0.9, lo, 0.03), 0, 0, 0);
                }
                break;
            default:
                throw new ArgumentException($"Cell type {(int)type} ({type}) has no picture.", nameof(type));
        }
    }

    /// <summary>
    /// [3T, 3T, 3] → [T, T, 3]: per channel, the mean of each subpixel row's three values, then the
    /// mean of those three means, in double (numpy's <c>mean(axis=3).mean(axis=1)</c>), truncated.
    /// </summary>
    private static byte[] Downsample(byte[] sub, int t)
    {
        const int S = Subdivisions;
        int n = t * S;
        var tile = new byte[t * t * 3];
        Span<double> rowMeans = stackalloc double[S];
        for (int y = 0; y < t; y++)
            for (int x = 0; x < t; x++)
                for (int c = 0; c < 3; c++)
                {
                    for (int sy = 0; sy < S; sy++)
                    {
                        int o = ((y * S + sy) * n + x * S) * 3 + c;
                        rowMeans[sy] = ((double)sub[o] + sub[o + 3] + sub[o + 6]) / S;
                    }
                    tile[(y * t + x) * 3 + c] = Trunc((rowMeans[0] + rowMeans[1] + rowMeans[2]) / S);
                }
        return tile;
    }

    private static byte Trunc(double v) => (byte)Math.Clamp((int)v, 0, 255);

    private static Shape Rect(double x0, double x1, double y0, double y1) => (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1;

    private static Shape Circle(double cx, double cy, double r) => (x, y) => (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r;

    /// <summary>
    /// Barycentric inside test with float32 vertices, as Minigrid's <c>point_in_triangle</c>: the
    /// vertex dot products stay float32, products with the (double) test point are double.
    /// </summary>
    private static Shape Triangle((float X, float Y) a, (float X, float Y) b, (float X, float Y) c)
    {
        float v0x = c.X - a.X, v0y = c.Y - a.Y, v1x = b.X - a.X, v1y = b.Y - a.Y;
        float d00 = v0x * v0x + v0y * v0y, d01 = v0x * v1x + v0y * v1y, d11 = v1x * v1x + v1y * v1y;
        float inverse = 1f / (d00 * d11 - d01 * d01);
        return (x, y) =>
        {
            double v2x = x - a.X, v2y = y - a.Y;
            double d02 = v0x * v2x + v0y * v2y, d12 = v1x * v2x + v1y * v2y;
            double u = (d11 * d02 - d01 * d12) * inverse;
            double v = (d00 * d12 - d01 * d02) * inverse;
            return u >= 0 && v >= 0 && u + v < 1;
        };
    }

    /// <summary>Points within <paramref name="r"/> of the segment p0–p1 (float32 endpoints and direction, as Minigrid's <c>point_in_line</c>).</summary>
    private static Shape Segment(double x0, double y0, double x1, double y1, double r)
    {
        float p0x = (float)x0, p0y = (float)y0;
        float dx = (float)x1 - p0x, dy = (float)y1 - p0y;
        float length = MathF.Sqrt(dx * dx + dy * dy);
        dx /= length;
        dy /= length;
        double xmin = Math.Min(x0, x1) - r, xmax = Math.Max(x0, x1) + r, ymin = Math.Min(y0, y1) - r, ymax = Math.Max(y0, y1) + r;
        return (x, y) =>
        {
            if (x < xmin || x > xmax || y < ymin || y > ymax) return false;
            double qx = x - p0x, qy = y - p0y;
            double along = Math.Clamp(qx * dx + qy * dy, 0, length);
            double ex = x - (p0x + along * dx), ey = y - (p0y + along * dy);
            return Math.Sqrt(ex * ex + ey * ey) <= r;
        };
    }

    /// <summary>Sets every subpixel whose centre ((col + ½)/n, (row + ½)/n) lies in <paramref name="inside"/>.</summary>
    private static void Fill(byte[] sub, int n, Shape inside, byte r, byte g, byte b)
    {
        for (int y = 0; y < n; y++)
        {
            double yf = (y + 0.5) / n;
            for (int x = 0; x < n; x++)
            {
                double xf = (x + 0.5) / n;
                if (!inside(xf, yf)) continue;
                int o = (y * n + x) * 3;
                sub[o] = r;
                sub[o + 1] = g;
                sub[o + 2] = b;
            }
        }
    }
}
