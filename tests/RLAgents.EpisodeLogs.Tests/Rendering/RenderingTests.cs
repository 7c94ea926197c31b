using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using RLAgents.Environments;
using RLAgents.EpisodeLogs;
using RLAgents.EpisodeLogs.Rendering;

namespace RLAgents.EpisodeLogs.Tests.Rendering;

public sealed class RenderingTests
{
    private static RgbFrame Pattern(int w, int h, int seed)
    {
        var rng = new Rng(seed);
        var p = new byte[w * h * 3];
        for (int i = 0; i < p.Length; i++) p[i] = (byte)(i % 7 == 0 ? rng.NextInt(256) : (i * 31 + seed) & 0xFF);
        return new RgbFrame(w, h, p);
    }

    [Fact]
    public void Crc32MatchesTheStandardCheckValues()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
        Assert.Equal(0xAE426082u, Crc32.Compute("IEND"u8)); // the CRC every PNG ends with
    }

    [Fact]
    public void PngChunksCarryValidCrcsAndDecodeToThePixels()
    {
        var frame = Pattern(37, 21, 3);
        byte[] png = PngEncoder.Encode(frame);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        int pos = 8;
        var idat = new MemoryStream();
        var types = new List<string>();
        while (pos < png.Length)
        {
            int len = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            string type = Encoding.ASCII.GetString(png, pos + 4, 4);
            types.Add(type);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + len));
            Assert.Equal(Crc32.Compute(png.AsSpan(pos + 4, 4 + len)), crc);
            if (type == "IHDR")
            {
                Assert.Equal(37, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos + 8)));
                Assert.Equal(21, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos + 12)));
            }
            if (type == "IDAT") idat.Write(png, pos + 8, len);
            pos += 12 + len;
        }
        Assert.Equal(["IHDR", "IDAT", "IEND"], types);
        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        var raw = new MemoryStream();
        z.CopyTo(raw);
        var rows = raw.ToArray();
        int stride = 37 * 3;
        var pixels = new byte[stride * 21];
        for (int y = 0; y < 21; y++)
        {
            Assert.Equal(1, rows[y * (stride + 1)]); // Sub filter
            for (int i = 0; i < stride; i++)
                pixels[y * stride + i] = (byte)(rows[y * (stride + 1) + 1 + i] + (i >= 3 ? pixels[y * stride + i - 3] : 0));
        }
        Assert.Equal(frame.Pixels, pixels);
    }

    [Fact]
    public void GifLzwStreamDecodesBackToTheIndices()
    {
        // Long, repetitive and random runs exercise code widening up to 12 bits and table resets.
        var rng = new Rng(5);
        var data = new byte[60_000];
        for (int i = 0; i < data.Length; i++) data[i] = i < 20_000 ? (byte)(i / 50 % 4) : (byte)rng.NextInt(256);
        Assert.Equal(data, LzwDecode(GifEncoder.Lzw(data)));
        Assert.Equal(new byte[] { 7 }, LzwDecode(GifEncoder.Lzw([7])));
    }

    [Fact]
    public void GifHasHeaderPaletteLoopAndOneImagePerFrame()
    {
        var frames = new[] { Pattern(9, 5, 1), Pattern(9, 5, 2), Pattern(9, 5, 3) };
        // Few colours: exact palette, so decoding the first image reproduces the pixels.
        var flat = frames.Select(f => new RgbFrame(9, 5, f.Pixels.Select(v => (byte)(v & 0xC0)).ToArray())).ToArray();
        byte[] gif = GifEncoder.Encode(flat, delayMs: 100);
        Assert.Equal("GIF89a", Encoding.ASCII.GetString(gif, 0, 6));
        Assert.Equal(9, BinaryPrimitives.ReadUInt16LittleEndian(gif.AsSpan(6)));
        Assert.Equal(5, BinaryPrimitives.ReadUInt16LittleEndian(gif.AsSpan(8)));
        Assert.Contains("NETSCAPE2.0", Encoding.ASCII.GetString(gif));
        var palette = gif.AsSpan(13, 768).ToArray();
        int pos = 13 + 768 + 19;
        for (int f = 0; f < 3; f++)
        {
            Assert.Equal(new byte[] { 0x21, 0xF9, 0x04, 0x00, 10, 0, 0, 0 }, gif[pos..(pos + 8)]);
            pos += 8;
            Assert.Equal(0x2C, gif[pos]);
            pos += 10;
            Assert.Equal(8, gif[pos++]);
            var lzw = new MemoryStream();
            while (gif[pos] != 0) { lzw.Write(gif, pos + 1, gif[pos]); pos += gif[pos] + 1; }
            pos++;
            var indices = LzwDecode(lzw.ToArray());
            var rgb = indices.SelectMany(i => new[] { palette[i * 3], palette[i * 3 + 1], palette[i * 3 + 2] }).ToArray();
            Assert.Equal(flat[f].Pixels, rgb);
        }
        Assert.Equal(0x3B, gif[pos]);
        Assert.Equal(gif.Length, pos + 1);
    }

    /// <summary>An independent GIF LZW decoder (min code size 8).</summary>
    private static byte[] LzwDecode(byte[] input)
    {
        var output = new List<byte>();
        var table = new List<byte[]>();
        void Reset() { table.Clear(); for (int i = 0; i < 256; i++) table.Add([(byte)i]); table.Add([]); table.Add([]); }
        Reset();
        int width = 9, bitPos = 0;
        byte[]? prev = null;
        while (true)
        {
            int code = 0;
            for (int b = 0; b < width; b++, bitPos++)
                if ((input[bitPos >> 3] >> (bitPos & 7) & 1) != 0) code |= 1 << b;
            if (code == 256) { Reset(); width = 9; prev = null; continue; }
            if (code == 257) break;
            byte[] entry = code < table.Count ? table[code] : [.. prev!, prev![0]];
            output.AddRange(entry);
            if (prev is not null && table.Count < 4096) table.Add([.. prev, entry[0]]);
            prev = entry;
            if (table.Count == 1 << width && width < 12) width++;
        }
        return output.ToArray();
    }

    [Fact]
    public void AsciiPlayerPrintsAllStepsAndStepsThroughWithKeys()
    {
        string path = GridWorldLogTests.RecordLevel("BabyAI-GoToRedBall-v0", 1, seed: 4);
        var log = EpisodeLogReader.ReadAll(path);
        var r = new EpisodeRenderer().Render(log.Header, log.Episodes[0]);
        int n = log.Episodes[0].Length;
        Assert.Equal(n + 1, r.Frames.Count);
        Assert.Equal(n + 1, r.Ascii.Count);
        var all = new StringWriter();
        AsciiPlayer.PrintAll(r, all);
        string text = all.ToString();
        Assert.Contains($"step {n}/{n}  end: return", text);
        Assert.Contains("go to the red ball", text);
        Assert.Contains($"action {r.ActionNames[log.Episodes[0].Actions[0]]} ({log.Episodes[0].Actions[0]})", text);

        var keys = new Queue<ConsoleKeyInfo>([
            new('n', ConsoleKey.N, false, false, false), new('\0', ConsoleKey.RightArrow, false, false, false),
            new('p', ConsoleKey.P, false, false, false), new('G', ConsoleKey.G, true, false, false), new('q', ConsoleKey.Q, false, false, false)]);
        var shown = new StringWriter();
        int lastShown = AsciiPlayer.Interactive(r, keys.Dequeue, shown);
        Assert.Equal(n, lastShown);
        var headers = shown.ToString().Split('\n').Where(l => l.StartsWith("episode 0  step ", StringComparison.Ordinal)).Select(l => l.Split("  ")[1]).ToList();
        Assert.Equal(["step 0/" + n, "step 1/" + n, "step 2/" + n, "step 1/" + n, $"step {n}/{n}"], headers);
    }

    [Fact]
    public void CartPoleFramesFollowTheCartAndHashLogsRenderByReplay()
    {
        string path = LogTestKit.Record("CartPole-v1", 1, new EpisodeRecorderOptions { ObservationHashes = true }, seed: 3);
        var log = EpisodeLogReader.ReadAll(path);
        var r = new EpisodeRenderer().Render(log.Header, log.Episodes[0]);
        Assert.True(r.Episode.Observations[0].HasValues);
        Assert.Equal(log.Episodes[0].Length + 1, r.Frames.Count);
        Assert.All(r.Frames, f => Assert.Equal((300, 200), (f.Width, f.Height)));
        Assert.NotEqual(r.Frames[0].Pixels, r.Frames[^1].Pixels);
        Assert.Contains("x=", r.Ascii[0]);
        var files = PngEncoder.WriteAll(Path.Combine(Path.GetDirectoryName(path)!, "frames"), r.Frames);
        Assert.Equal(r.Frames.Count, files.Count);
        Assert.EndsWith("step_0000.png", files[0]);
        Assert.Equal(PngEncoder.Encode(r.Frames[^1]), File.ReadAllBytes(files[^1]));
    }

    [Fact]
    public void HtmlViewerIsOneOfflineFileWithEveryStep()
    {
        string path = GridWorldLogTests.RecordLevel("BabyAI-GoToLocal-v0", 1, seed: 6);
        var log = EpisodeLogReader.ReadAll(path);
        var r = new EpisodeRenderer().Render(log.Header, log.Episodes[0]);
        string html = HtmlViewer.Build(r);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("src=\"", html.Replace("<img id=\"frame\" alt=\"frame\">", ""));
        Assert.Equal(r.Frames.Count, html.Split("data:image/png;base64,").Length - 1);
        Assert.Contains(log.Episodes[0].Observations[2].Texts![0], html);
    }
}
