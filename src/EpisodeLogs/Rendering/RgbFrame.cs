using RLAgents.Environments;

namespace RLAgents.EpisodeLogs.Rendering;

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

/// <summary>CRC-32 (ISO-HDLC, polynomial 0xEDB88320), as PNG chunks use.</summary>
public static class Crc32
{
    private static readonly uint[] Table = Build();

    /// <summary>CRC of <paramref name="data"/>, continuing from <paramref name="crc"/> (start with 0).</summary>
    public static uint Compute(ReadOnlySpan<byte> data, uint crc = 0)
    {
        uint c = ~crc;
        foreach (byte b in data) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        return ~c;
    }

    private static uint[] Build()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }
}
