namespace RLAgents.Environments.ClassicControl;

/// <summary>
/// The few shapes the classic-control envs draw their frames with (rectangles, discs, thick segments), on a
/// white uint8 RGB canvas in image coordinates (x right, y down), clipped to the canvas. Gymnasium draws the same
/// pictures with pygame in y-up coordinates and flips them; these envs map y up to rows themselves.
/// </summary>
internal sealed class ControlCanvas
{
    private readonly byte[] _px;

    /// <summary>A white canvas of <paramref name="width"/> × <paramref name="height"/> pixels.</summary>
    public ControlCanvas(int width, int height)
    {
        Width = width;
        Height = height;
        _px = new byte[width * height * 3];
        Array.Fill(_px, (byte)255);
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>The picture drawn so far.</summary>
    public RgbFrame ToFrame() => new(Width, Height, _px);

    /// <summary>Fills the <paramref name="w"/> × <paramref name="h"/> rectangle whose top-left pixel is (<paramref name="x0"/>, <paramref name="y0"/>).</summary>
    public void FillRect(int x0, int y0, int w, int h, (byte R, byte G, byte B) colour)
    {
        for (int y = Math.Max(0, y0); y < Math.Min(Height, y0 + h); y++)
            for (int x = Math.Max(0, x0); x < Math.Min(Width, x0 + w); x++) Set(x, y, colour);
    }

    /// <summary>Fills the disc of radius <paramref name="r"/> pixels around (<paramref name="cx"/>, <paramref name="cy"/>).</summary>
    public void FillDisc(double cx, double cy, double r, (byte R, byte G, byte B) colour)
    {
        for (int y = Math.Max(0, (int)Math.Floor(cy - r)); y <= Math.Min(Height - 1, (int)Math.Ceiling(cy + r)); y++)
            for (int x = Math.Max(0, (int)Math.Floor(cx - r)); x <= Math.Min(Width - 1, (int)Math.Ceiling(cx + r)); x++)
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r) Set(x, y, colour);
    }

    /// <summary>Fills every pixel within <paramref name="halfWidth"/> of the segment from (<paramref name="x0"/>, <paramref name="y0"/>) to (<paramref name="x1"/>, <paramref name="y1"/>): a rod or a line with square-cut, rounded ends.</summary>
    public void Segment(double x0, double y0, double x1, double y1, double halfWidth, (byte R, byte G, byte B) colour)
    {
        double dx = x1 - x0, dy = y1 - y0, length2 = dx * dx + dy * dy;
        int left = Math.Max(0, (int)Math.Floor(Math.Min(x0, x1) - halfWidth)), right = Math.Min(Width - 1, (int)Math.Ceiling(Math.Max(x0, x1) + halfWidth));
        int top = Math.Max(0, (int)Math.Floor(Math.Min(y0, y1) - halfWidth)), bottom = Math.Min(Height - 1, (int)Math.Ceiling(Math.Max(y0, y1) + halfWidth));
        for (int y = top; y <= bottom; y++)
            for (int x = left; x <= right; x++)
            {
                // Distance from the pixel to the nearest point of the segment.
                double t = length2 == 0 ? 0 : Math.Clamp(((x - x0) * dx + (y - y0) * dy) / length2, 0, 1);
                double ex = x - (x0 + t * dx), ey = y - (y0 + t * dy);
                if (ex * ex + ey * ey <= halfWidth * halfWidth) Set(x, y, colour);
            }
    }

    private void Set(int x, int y, (byte R, byte G, byte B) colour)
    {
        int i = (y * Width + x) * 3;
        _px[i] = colour.R;
        _px[i + 1] = colour.G;
        _px[i + 2] = colour.B;
    }
}
