namespace RLAgents.Environments;

/// <summary>An RGB picture: <see cref="Pixels"/> is uint8 [Height, Width, 3], row-major.</summary>
public sealed record RgbFrame(int Width, int Height, byte[] Pixels)
{
    /// <summary>Checks the pixel count.</summary>
    public RgbFrame Validate() => Width > 0 && Height > 0 && Pixels.Length == Width * Height * 3 ? this
        : throw new ArgumentException($"A {Width}x{Height} RGB frame needs {Width * Height * 3} bytes, not {Pixels.Length}.");

    /// <summary>The frame enlarged by an integer factor (nearest neighbour), for tiny observations.</summary>
    public RgbFrame Scale(int factor)
    {
        if (factor <= 1) return this;
        int w = Width * factor, h = Height * factor;
        var p = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                Buffer.BlockCopy(Pixels, ((y / factor) * Width + x / factor) * 3, p, (y * w + x) * 3, 3);
        return new RgbFrame(w, h, p);
    }
}
