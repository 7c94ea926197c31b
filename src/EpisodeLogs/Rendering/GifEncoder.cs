using RLAgents.Environments;

namespace RLAgents.EpisodeLogs.Rendering;

/// <summary>
/// A minimal animated GIF89a writer: one global colour table (the frames' exact colours when
/// there are at most 256, else a 6×6×6 colour cube with nearest-level mapping), a NETSCAPE2.0
/// loop extension, and per frame a graphic control extension (delay) and an LZW-compressed image
/// (variable code width up to 12 bits, clear code when the table fills).
/// </summary>
public static class GifEncoder
{
    /// <summary>Encodes <paramref name="frames"/> (all the same size) with <paramref name="delayMs"/> per frame, looping forever.</summary>
    public static byte[] Encode(IReadOnlyList<RgbFrame> frames, int delayMs = 200)
    {
        if (frames.Count == 0) throw new ArgumentException("A GIF needs at least one frame.", nameof(frames));
        int w = frames[0].Width, h = frames[0].Height;
        foreach (var f in frames)
        {
            f.Validate();
            if (f.Width != w || f.Height != h) throw new ArgumentException($"Every frame must be {w}x{h}; one is {f.Width}x{f.Height}.", nameof(frames));
        }
        var (palette, index) = BuildPalette(frames);
        using var s = new MemoryStream();
        s.Write("GIF89a"u8);
        WriteU16(s, w);
        WriteU16(s, h);
        s.WriteByte(0xF7); // global colour table, 8 bits per primary, 256 entries
        s.WriteByte(0);    // background colour index
        s.WriteByte(0);    // pixel aspect ratio
        s.Write(palette);
        // NETSCAPE2.0 application extension: loop forever.
        s.Write([0x21, 0xFF, 0x0B]);
        s.Write("NETSCAPE2.0"u8);
        s.Write([0x03, 0x01, 0x00, 0x00, 0x00]);
        var indices = new byte[w * h];
        foreach (var f in frames)
        {
            s.Write([0x21, 0xF9, 0x04, 0x00]); // graphic control extension, no transparency
            WriteU16(s, Math.Max(1, delayMs / 10));
            s.Write([0x00, 0x00]);
            s.WriteByte(0x2C); // image descriptor
            WriteU16(s, 0);
            WriteU16(s, 0);
            WriteU16(s, w);
            WriteU16(s, h);
            s.WriteByte(0);
            for (int i = 0; i < indices.Length; i++) indices[i] = index(f.Pixels[i * 3], f.Pixels[i * 3 + 1], f.Pixels[i * 3 + 2]);
            s.WriteByte(8); // LZW minimum code size
            WriteSubBlocks(s, Lzw(indices));
        }
        s.WriteByte(0x3B);
        return s.ToArray();
    }

    /// <summary>Writes the animation to <paramref name="path"/>.</summary>
    public static void Write(string path, IReadOnlyList<RgbFrame> frames, int delayMs = 200) => File.WriteAllBytes(path, Encode(frames, delayMs));

    private static (byte[] Palette, Func<byte, byte, byte, byte> Index) BuildPalette(IReadOnlyList<RgbFrame> frames)
    {
        var colours = new Dictionary<int, byte>();
        foreach (var f in frames)
        {
            for (int i = 0; i < f.Pixels.Length && colours.Count <= 256; i += 3)
            {
                int c = f.Pixels[i] << 16 | f.Pixels[i + 1] << 8 | f.Pixels[i + 2];
                if (!colours.ContainsKey(c) && colours.Count < 257) colours[c] = (byte)Math.Min(colours.Count, 255);
            }
            if (colours.Count > 256) break;
        }
        var palette = new byte[768];
        if (colours.Count <= 256)
        {
            foreach (var (c, i) in colours)
            {
                palette[i * 3] = (byte)(c >> 16);
                palette[i * 3 + 1] = (byte)(c >> 8);
                palette[i * 3 + 2] = (byte)c;
            }
            return (palette, (r, g, b) => colours[r << 16 | g << 8 | b]);
        }
        // 6 levels per channel: 0, 51, ..., 255; a channel maps to its nearest level.
        for (int i = 0; i < 216; i++)
        {
            palette[i * 3] = (byte)(i / 36 * 51);
            palette[i * 3 + 1] = (byte)(i / 6 % 6 * 51);
            palette[i * 3 + 2] = (byte)(i % 6 * 51);
        }
        return (palette, (r, g, b) => (byte)((r + 25) / 51 * 36 + (g + 25) / 51 * 6 + (b + 25) / 51));
    }

    /// <summary>GIF's variable-width LZW over 8-bit indices; codes are packed least-significant bit first.</summary>
    internal static byte[] Lzw(ReadOnlySpan<byte> data)
    {
        const int clear = 256, end = 257, maxCode = 4095;
        var output = new List<byte>(data.Length / 2 + 16);
        int bitBuffer = 0, bitCount = 0, width = 9, next = 258;
        var table = new Dictionary<int, int>(4096);
        void Emit(int code)
        {
            bitBuffer |= code << bitCount;
            bitCount += width;
            while (bitCount >= 8)
            {
                output.Add((byte)bitBuffer);
                bitBuffer >>= 8;
                bitCount -= 8;
            }
        }
        Emit(clear);
        if (data.IsEmpty) { Emit(end); Flush(); return output.ToArray(); }
        int prefix = data[0];
        for (int i = 1; i < data.Length; i++)
        {
            int key = prefix << 8 | data[i];
            if (table.TryGetValue(key, out int code)) { prefix = code; continue; }
            Emit(prefix);
            if (next <= maxCode)
            {
                table[key] = next;
                // The decoder widens one code later than the encoder adds, hence "next == 1 << width" after the add.
                if (next == 1 << width && width < 12) width++;
                next++;
            }
            else
            {
                Emit(clear);
                table.Clear();
                next = 258;
                width = 9;
            }
            prefix = data[i];
        }
        Emit(prefix);
        Emit(end);
        Flush();
        return output.ToArray();

        void Flush()
        {
            if (bitCount > 0) output.Add((byte)bitBuffer);
        }
    }

    private static void WriteSubBlocks(Stream s, byte[] data)
    {
        for (int i = 0; i < data.Length; i += 255)
        {
            int n = Math.Min(255, data.Length - i);
            s.WriteByte((byte)n);
            s.Write(data, i, n);
        }
        s.WriteByte(0);
    }

    private static void WriteU16(Stream s, int v)
    {
        s.WriteByte((byte)v);
        s.WriteByte((byte)(v >> 8));
    }
}
