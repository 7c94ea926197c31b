using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs.Rendering;

/// <summary>
/// A minimal PNG writer: 8-bit RGB, no interlace, each row filtered with "Sub" (filter type 1),
/// the image data one zlib stream in one IDAT chunk, every chunk with its CRC-32 (PNG spec §5).
/// </summary>
public static class PngEncoder
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Encodes <paramref name="frame"/> as PNG bytes.</summary>
    public static byte[] Encode(RgbFrame frame)
    {
        frame.Validate();
        using var png = new MemoryStream();
        png.Write(Signature);
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, frame.Width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], frame.Height);
        ihdr[8] = 8;  // bit depth
        ihdr[9] = 2;  // colour type: truecolour
        ihdr[10] = 0; // deflate
        ihdr[11] = 0; // adaptive filtering
        ihdr[12] = 0; // no interlace
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", Compress(frame));
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>Writes <paramref name="frame"/> to <paramref name="path"/>.</summary>
    public static void Write(string path, RgbFrame frame) => File.WriteAllBytes(path, Encode(frame));

    /// <summary>Writes one PNG per frame into <paramref name="directory"/> as <c>{prefix}0000.png</c>, … and returns the paths.</summary>
    public static IReadOnlyList<string> WriteAll(string directory, IReadOnlyList<RgbFrame> frames, string prefix = "step_")
    {
        Directory.CreateDirectory(directory);
        var paths = new List<string>(frames.Count);
        for (int t = 0; t < frames.Count; t++)
        {
            string path = Path.Combine(directory, $"{prefix}{t.ToString("D4", System.Globalization.CultureInfo.InvariantCulture)}.png");
            Write(path, frames[t]);
            paths.Add(path);
        }
        return paths;
    }

    private static byte[] Compress(RgbFrame f)
    {
        int stride = f.Width * 3;
        var filtered = new byte[(stride + 1) * f.Height];
        for (int y = 0; y < f.Height; y++)
        {
            int src = y * stride, dst = y * (stride + 1);
            filtered[dst] = 1; // Sub: each byte minus the same channel of the pixel to its left
            for (int i = 0; i < stride; i++)
                filtered[dst + 1 + i] = (byte)(f.Pixels[src + i] - (i >= 3 ? f.Pixels[src + i - 3] : 0));
        }
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(filtered);
        return ms.ToArray();
    }

    private static void Chunk(Stream s, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, data.Length);
        Encoding.ASCII.GetBytes(type, head[4..]);
        s.Write(head);
        s.Write(data);
        uint crc = Crc32.Compute(data, Crc32.Compute(head[4..]));
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(tail, crc);
        s.Write(tail);
    }
}
