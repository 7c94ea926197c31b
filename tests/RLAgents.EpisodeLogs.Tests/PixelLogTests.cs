using RLAgents.Environments;
using RLAgents.Environments.Wrappers;
using RLAgents.EpisodeLogs;
using RLAgents.EpisodeLogs.Rendering;

namespace RLAgents.EpisodeLogs.Tests;

/// <summary>Pixel observations (any uint8 H×W×C picture) in episode logs: stored compressed, read back exactly, shown by the renderer and the viewer.</summary>
public sealed class PixelLogTests
{
    private const string Level = "BabyAI-GoToRedBallGrey-v0";

    /// <summary>
    /// Records <paramref name="episodes"/> random-policy episodes of <see cref="Level"/> seen through
    /// <paramref name="pipeline"/> (the recorder outside it, so the log holds the pictures) and returns
    /// the log and, per episode, the live bytes of <paramref name="modality"/> at every step.
    /// </summary>
    private static (string Path, List<List<byte[]>> Live) Record(ImagePipeline pipeline, string modality, int episodes)
    {
        string path = TempDirectory.ForProcess.NewFile("pixels.arrow");
        var env = pipeline.Wrap(EnvRegistry.CreateDefault().Make(Level));
        var recorder = EpisodeRecorder.Create(env, path, out var writer);
        var policy = new Rng(7);
        var live = new List<List<byte[]>>();
        for (int e = 0; e < episodes; e++)
        {
            var seen = new List<byte[]> { recorder.Reset(20 + e).Observation.Bytes(modality).ToArray() };
            while (true)
            {
                var step = recorder.Step(policy.NextInt(3)); // turn or move: episodes end by the time limit or by luck
                seen.Add(step.Observation.Bytes(modality).ToArray());
                if (step.Done) break;
            }
            live.Add(seen);
        }
        recorder.Dispose();
        writer.Dispose();
        return (path, live);
    }

    [Fact]
    public void RgbViewsAreLoggedCompressedMarkedAsPicturesAndReadBackByteForByte()
    {
        var (path, live) = Record(new ImagePipeline(new PixelObservationOptions { Modality = "rgb" }, null, null, null), "rgb", 2);
        var log = EpisodeLogReader.ReadAll(path);

        var rgb = log.Header.Modalities.Single(m => m.Name == "rgb");
        Assert.Equal([56, 56, 3], rgb.Shape);
        Assert.Equal(ObservationEncoding.Zlib, rgb.Encoding);
        Assert.True(rgb.Picture);
        Assert.False(log.Header.Modalities.Single(m => m.Name == "image").Picture); // the symbolic 7×7×3 codes are no picture

        long rawBytes = 0;
        for (int e = 0; e < 2; e++)
        {
            var bytes = log.Episodes[e].Observations[log.Header.Modalities.ToList().IndexOf(rgb)].Bytes!;
            Assert.Equal(live[e].SelectMany(b => b).ToArray(), bytes);
            rawBytes += bytes.Length;
        }
        // Minigrid's flat tiles compress well: the whole file is far smaller than the pictures alone.
        Assert.True(new FileInfo(path).Length * 4 < rawBytes, $"log {new FileInfo(path).Length} bytes for {rawBytes} bytes of pictures");
    }

    [Fact]
    public void RendererAndViewerShowLoggedPicturesOfAnyChannelCount()
    {
        // Colour, 56×56×3, added beside the symbolic view; and grey 28×28 frames stacked by 4, replacing it.
        var (rgbPath, rgbLive) = Record(new ImagePipeline(new PixelObservationOptions { Modality = "rgb" }, null, null, null), "rgb", 1);
        var (stackPath, stackLive) = Record(new ImagePipeline(new PixelObservationOptions(), new GrayscaleOptions(),
            new ResizeOptions { Height = 28, Width = 28 }, new FrameStackOptions { Frames = 4 }), "image", 1);

        var rgbLog = EpisodeLogReader.ReadAll(rgbPath);
        var colour = new EpisodeRenderer().Render(rgbLog.Header, rgbLog.Episodes[0]);
        var picture = Assert.Single(colour.Pictures);
        Assert.Equal("rgb", picture.Modality);
        Assert.Equal(rgbLive[0].Count, picture.Frames.Count);
        for (int t = 0; t < rgbLive[0].Count; t++)
            Assert.Equal(new RgbFrame(56, 56, rgbLive[0][t]).Scale(2).Pixels, picture.Frames[t].Pixels); // 160 / 56 → twice the size

        var stackLog = EpisodeLogReader.ReadAll(stackPath);
        Assert.Equal([28, 28, 4], stackLog.Header.Modalities[0].Shape);
        Assert.True(stackLog.Header.Modalities[0].Picture);
        var grey = Assert.Single(new EpisodeRenderer().Render(stackLog.Header, stackLog.Episodes[0]).Pictures);
        int last = stackLive[0].Count - 1;
        var frame = grey.Frames[last];
        // Four 28-pixel panels with 1-pixel gaps, enlarged 5×; panel k shows channel k (the oldest frame first).
        Assert.Equal((5 * (4 * 28 + 3), 5 * 28), (frame.Width, frame.Height));
        for (int k = 0; k < 4; k++)
            for (int y = 0; y < 28; y += 3)
                for (int x = 0; x < 28; x += 3)
                {
                    int at = ((5 * y) * frame.Width + 5 * (k * 29 + x)) * 3;
                    byte expected = stackLive[0][last][(y * 28 + x) * 4 + k];
                    Assert.Equal([expected, expected, expected], frame.Pixels[at..(at + 3)]);
                }

        string html = HtmlViewer.Build(colour);
        Assert.Contains("\"pictures\":[{\"name\":\"rgb\"", html);
        Assert.Equal(colour.Frames.Count + picture.Frames.Count, html.Split("data:image/png;base64,").Length - 1);
    }
}
