using RLAgents.Environments.Checking;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.GridWorld.Rendering;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Tests.Wrappers;

public sealed class FrameStackObservationTests
{
    private const int N = 3;
    private static readonly int[] Rgb = [3, 2, 3];

    /// <summary>Element (pixel p, slot k, channel c) of a stack at step t of an episode: frame max(0, t − (N−1−k)).</summary>
    private static void AssertStack(ReadOnlySpan<byte> stack, int episode, int t)
    {
        for (int p = 0; p < 6; p++)
            for (int k = 0; k < N; k++)
                for (int c = 0; c < 3; c++)
                    Assert.Equal(TickEnv.Value(episode, Math.Max(0, t - (N - 1 - k)), p * 3 + c), stack[(p * N + k) * 3 + c]);
    }

    [Fact]
    public void TheStackHoldsTheLastFramesAlongTheChannelsOldestFirstAndResetRepeatsTheFirstFrame()
    {
        using var env = new FrameStackObservation(new TickEnv(Rgb), new FrameStackOptions { Frames = N, Modalities = ["frame"] });
        AssertStack(env.Reset(1).Observation.Bytes("frame"), 0, 0);
        for (int t = 1; t <= 5; t++)
        {
            var r = env.Step(0);
            AssertStack(r.Observation.Bytes("frame"), 0, t);
            Assert.Equal(1 + t % 4, r.Observation.GetInt("heading"));
            Assert.Equal(t, r.Observation.Floats("pos")[0]);
            Assert.True(env.ObservationSpace.Contains(r.Observation));
        }
        var end = env.Step(1);
        Assert.True(end.Terminated);
        AssertStack(end.Observation.Bytes("frame"), 0, 6);
        AssertStack(env.Reset().Observation.Bytes("frame"), 1, 0); // no frame of episode 0 survives
        AssertStack(env.Step(0).Observation.Bytes("frame"), 1, 1);
    }

    [Fact]
    public void SpacesStackChannelsLastAndKeepTheOtherModalities()
    {
        using var env = new FrameStackObservation(new TickEnv(Rgb), new FrameStackOptions { Frames = 4 });
        var space = env.ObservationSpace;
        Assert.Equal(["frame", "heading", "note", "pos"], space.Modalities.Select(m => m.Name));
        Assert.Equal([3, 2, 12], ((BoxSpace)space["frame"].Space).ShapeArray());
        Assert.Same(env.Inner.ObservationSpace["pos"], space["pos"]);
        using var flat = new FrameStackObservation(new TickEnv([2, 2]), new FrameStackOptions { Frames = 4 });
        Assert.Equal([2, 2, 4], ((BoxSpace)flat.ObservationSpace["frame"].Space).ShapeArray()); // [H, W] counts as one channel
        Assert.Equal([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4], flat.Reset(0).Observation.Bytes("frame").ToArray());
        Assert.Equal([1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5], flat.Step(0).Observation.Bytes("frame").ToArray());
    }

    [Fact]
    public void BoundsAreTheInnerOnesRepeatedPerFrame()
    {
        // The symbolic GridWorld view has per-channel bounds (type ≤ 10, colour ≤ 5, state ≤ 2).
        using var env = new FrameStackObservation(BabyAILevels.Make("BabyAI-GoToLocal-v0"), new FrameStackOptions { Frames = 2, Modalities = ["image"] });
        var box = (BoxSpace)env.ObservationSpace["image"].Space;
        Assert.Equal([7, 7, 6], box.ShapeArray());
        Assert.Equal(new float[] { 10, 5, 2, 10, 5, 2 }, box.High[..6].ToArray());
        var report = EnvChecker.Check(() => new FrameStackObservation(BabyAILevels.Make("BabyAI-GoToLocal-v0"), new FrameStackOptions { Frames = 2 }), steps: 200);
        Assert.True(report.Passed, report.ToString());
    }

    [Theory]
    [InlineData(AutoresetMode.SameStep)]
    [InlineData(AutoresetMode.NextStep)]
    public void VectorAutoresetKeepsTheEndingEpisodesFramesAndStartsTheNextFromItsFirst(AutoresetMode mode)
    {
        using var vec = new SyncVectorEnv(_ => new FrameStackObservation(new TickEnv(Rgb), new FrameStackOptions { Frames = N }), 2, mode);
        int px = vec.SingleObservationSpace.IndexOf("frame");
        const int size = 6 * 3 * N;
        vec.Reset(4);
        var episode = new[] { 0, 0 };
        var t = new[] { 0, 0 };
        var resetsNext = new bool[2];
        int[][] plan = [[0, 0], [0, 1], [0, 0], [0, 0], [1, 0], [0, 0], [0, 0]];
        foreach (var actions in plan)
        {
            vec.Step(actions);
            for (int i = 0; i < 2; i++)
            {
                if (resetsNext[i]) (episode[i], t[i], resetsNext[i]) = (episode[i] + 1, 0, false); // NextStep: this step was the reset
                else if (actions[i] == 1)
                {
                    Assert.True(vec.Terminated[i]);
                    if (mode == AutoresetMode.SameStep)
                    {
                        AssertStack(vec.FinalObservations.Bytes(px).AsSpan(i * size, size), episode[i], t[i] + 1);
                        (episode[i], t[i]) = (episode[i] + 1, 0);
                        AssertStack(vec.Observations.Bytes(px).AsSpan(i * size, size), episode[i], 0);
                        continue;
                    }
                    resetsNext[i] = true;
                    t[i]++;
                }
                else t[i]++;
                AssertStack(vec.Observations.Bytes(px).AsSpan(i * size, size), episode[i], t[i]);
            }
        }
    }

    [Fact]
    public void MisconfiguredStacksNameTheOption()
    {
        var noFrames = Assert.Throws<ConfigurationException>(() => new FrameStackObservation(new TickEnv(Rgb), new FrameStackOptions { Frames = 0 }));
        Assert.Equal("env.frameStack.frames", noFrames.Path);
        var vector = Assert.Throws<ConfigurationException>(() => new FrameStackObservation(new TickEnv(Rgb), new FrameStackOptions { Modalities = ["frame", "pos"] }));
        Assert.Equal("env.frameStack.modalities[1]", vector.Path);
        Assert.Contains("not a uint8", vector.Message);
        var missing = Assert.Throws<ConfigurationException>(() => new FrameStackObservation(new TickEnv(Rgb), new FrameStackOptions { Modalities = ["rgb"] }));
        Assert.Contains("frame, heading, note, pos", missing.Message);
    }
}

public sealed class ResizeObservationTests
{
    private static byte[] Resize(byte[] source, int h, int w, int c, int oh, int ow, ResizeInterpolation mode)
    {
        var output = new byte[oh * ow * c];
        new ImageResampler(h, w, oh, ow, c, mode).Resize(source, output);
        return output;
    }

    [Fact]
    public void AreaHalvingAveragesTwoByTwoBlocksRoundingHalfUp()
    {
        byte[] image =
        [
            0, 1, 10, 10,
            2, 3, 11, 11,
            200, 200, 7, 8,
            201, 201, 7, 8,
        ];
        Assert.Equal([2, 11, 201, 8], Resize(image, 4, 4, 1, 2, 2, ResizeInterpolation.Area)); // 1.5 → 2, 10.5 → 11, 200.5 → 201, 7.5 → 8
    }

    [Fact]
    public void AreaWeighsPartlyCoveredPixelsByTheirCoveredFraction()
    {
        // 3 → 2 columns: output 0 covers source [0, 1.5) = v0 + ½·v1 over 1.5; output 1 covers [1.5, 3).
        Assert.Equal([30, 150], Resize([0, 90, 180], 1, 3, 1, 1, 2, ResizeInterpolation.Area));
        // Upscaling repeats each pixel, per channel.
        Assert.Equal([1, 2, 1, 2, 3, 4, 3, 4], Resize([1, 2, 3, 4], 1, 2, 2, 1, 4, ResizeInterpolation.Area));
    }

    [Fact]
    public void BilinearSamplesPixelCentresAndClampsAtTheBorder()
    {
        // Source x = (i + ½)/2 − ½ = −¼ (clamped to 0), ¼, ¾, 1¼ (clamped to the last pixel).
        Assert.Equal([0, 25, 75, 100], Resize([0, 100], 1, 2, 1, 1, 4, ResizeInterpolation.Bilinear));
        // Halving samples between each pair: x = ½ and 2½.
        Assert.Equal([1, 3], Resize([0, 1, 2, 3], 1, 4, 1, 1, 2, ResizeInterpolation.Bilinear));
        // Two axes: the centre of a 2×2 image is the mean of its four pixels.
        Assert.Equal([100], Resize([0, 100, 100, 200], 2, 2, 1, 1, 1, ResizeInterpolation.Bilinear));
    }

    [Theory]
    [InlineData(ResizeInterpolation.Area)]
    [InlineData(ResizeInterpolation.Bilinear)]
    public void ConstantImagesStayConstantAtAnySize(ResizeInterpolation mode)
    {
        var rng = new Rng(9UL);
        for (int trial = 0; trial < 50; trial++)
        {
            int h = 1 + rng.NextInt(40), w = 1 + rng.NextInt(40), oh = 1 + rng.NextInt(40), ow = 1 + rng.NextInt(40);
            byte v = (byte)rng.NextInt(256);
            var output = Resize(Enumerable.Repeat(v, h * w * 3).ToArray(), h, w, 3, oh, ow, mode);
            Assert.All(output, x => Assert.Equal(v, x));
        }
    }

    /// <summary>
    /// Area resizing straight from its definition, in 2-D: the overlap of output pixel (i, j)'s
    /// rectangle [i·H, (i+1)·H) × [j·W, (j+1)·W) with source pixel (r, s)'s [r·h, (r+1)·h) × [s·w, (s+1)·w),
    /// in units of 1/(H·h) by 1/(W·w) of the image; the value is the overlap-weighted mean rounded half up.
    /// </summary>
    private static byte[] AreaByDefinition(byte[] source, int h, int w, int c, int oh, int ow)
    {
        var output = new byte[oh * ow * c];
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
                for (int ch = 0; ch < c; ch++)
                {
                    long sum = 0, area = 0;
                    for (int r = 0; r < h; r++)
                        for (int s = 0; s < w; s++)
                        {
                            long dy = Math.Max(0, Math.Min((i + 1L) * h, (r + 1L) * oh) - Math.Max((long)i * h, (long)r * oh));
                            long dx = Math.Max(0, Math.Min((j + 1L) * w, (s + 1L) * ow) - Math.Max((long)j * w, (long)s * ow));
                            sum += dy * dx * source[(r * w + s) * c + ch];
                            area += dy * dx;
                        }
                    output[(i * ow + j) * c + ch] = (byte)((2 * sum + area) / (2 * area));
                }
        return output;
    }

    [Fact]
    public void AreaResizingMatchesItsDefinitionOnRandomImagesWholeFactorsIncluded()
    {
        var rng = new Rng(21UL);
        for (int trial = 0; trial < 60; trial++)
        {
            int c = 1 + rng.NextInt(3);
            int oh = 1 + rng.NextInt(9), ow = 1 + rng.NextInt(9);
            // Every third trial shrinks by whole factors (the block-sum path); the rest are arbitrary sizes.
            int h = trial % 3 == 0 ? oh * (1 + rng.NextInt(4)) : 1 + rng.NextInt(20);
            int w = trial % 3 == 0 ? ow * (1 + rng.NextInt(4)) : 1 + rng.NextInt(20);
            var image = new byte[h * w * c];
            for (int i = 0; i < image.Length; i++) image[i] = (byte)rng.NextInt(256);
            Assert.Equal(AreaByDefinition(image, h, w, c, oh, ow), Resize(image, h, w, c, oh, ow, ResizeInterpolation.Area));
        }
    }

    [Fact]
    public void TheWrapperHalvesMinigridsAgentViewIntoBlockMeans()
    {
        using var env = new ResizeObservation(new GridWorldPixels(BabyAILevels.Make("BabyAI-GoToLocal-v0"), new PixelObservationOptions { Modality = "rgb" }),
            new ResizeOptions { Height = 28, Width = 28 });
        Assert.Equal([28, 28, 3], ((BoxSpace)env.ObservationSpace["rgb"].Space).ShapeArray());
        Assert.Equal([7, 7, 3], ((BoxSpace)env.ObservationSpace["image"].Space).ShapeArray()); // symbolic codes are left alone
        var obs = env.Reset(6).Observation;
        var full = new TileRenderer(8).RenderView(obs.Bytes("image"));
        var small = obs.Bytes("rgb");
        for (int r = 0; r < 28; r++)
            for (int c = 0; c < 28; c++)
                for (int ch = 0; ch < 3; ch++)
                {
                    int sum = 0;
                    for (int dy = 0; dy < 2; dy++)
                        for (int dx = 0; dx < 2; dx++) sum += full[((2 * r + dy) * 56 + 2 * c + dx) * 3 + ch];
                    Assert.Equal((sum + 2) / 4, small[(r * 28 + c) * 3 + ch]);
                }
    }

    [Fact]
    public void SymbolicImagesAreRefused()
    {
        var e = Assert.Throws<ConfigurationException>(() => new ResizeObservation(BabyAILevels.Make("BabyAI-GoToLocal-v0"), new ResizeOptions { Modalities = ["image"] }));
        Assert.Equal("env.resize.modalities[0]", e.Path);
        Assert.Contains("bounds 0..255", e.Message);
        var none = Assert.Throws<ConfigurationException>(() => new ResizeObservation(BabyAILevels.Make("BabyAI-GoToLocal-v0"), new ResizeOptions()));
        Assert.Equal("env.resize.modalities", none.Path);
    }
}

public sealed class GrayscaleObservationTests
{
    private static byte Luma(byte r, byte g, byte b, LumaWeights weights)
    {
        var y = new byte[1];
        GrayscaleObservation.Convert([r, g, b], y, weights);
        return y[0];
    }

    [Fact]
    public void Rec601MapsPrimariesByItsWeightsAndKeepsEveryGrey()
    {
        Assert.Equal(76, Luma(255, 0, 0, LumaWeights.Rec601)); // 76.245
        Assert.Equal(150, Luma(0, 255, 0, LumaWeights.Rec601)); // 149.685
        Assert.Equal(29, Luma(0, 0, 255, LumaWeights.Rec601)); // 29.07
        Assert.Equal(89, Luma(100, 100, 0, LumaWeights.Rec601)); // 29.9 + 58.7 = 88.6 rounds up
        for (int v = 0; v < 256; v++) Assert.Equal(v, Luma((byte)v, (byte)v, (byte)v, LumaWeights.Rec601));
    }

    [Fact]
    public void GymnasiumWeightsTruncateAsGymnasiumDoes()
    {
        Assert.Equal(54, Luma(255, 0, 0, LumaWeights.Gymnasium)); // 54.1875
        Assert.Equal(182, Luma(0, 255, 0, LumaWeights.Gymnasium)); // 182.427
        Assert.Equal(18, Luma(0, 0, 255, LumaWeights.Gymnasium)); // 18.3855
        Assert.Equal(42, Luma(43, 43, 43, LumaWeights.Gymnasium)); // (9.1375 + 30.7622) + 3.1003 = 42.99999999999999
        Assert.Equal(44, Luma(44, 44, 44, LumaWeights.Gymnasium));
    }

    [Fact]
    public void TheWrapperKeepsAChannelAxisOfOneAndPassesTheRestThrough()
    {
        using var env = new GrayscaleObservation(new TickEnv([3, 2, 3]), new GrayscaleOptions());
        Assert.Equal([3, 2, 1], ((BoxSpace)env.ObservationSpace["frame"].Space).ShapeArray());
        env.Reset(0);
        var obs = env.Step(0).Observation;
        var luma = obs.Bytes("frame");
        for (int p = 0; p < 6; p++)
        {
            int r = TickEnv.Value(0, 1, 3 * p), g = TickEnv.Value(0, 1, 3 * p + 1), b = TickEnv.Value(0, 1, 3 * p + 2);
            Assert.Equal((299 * r + 587 * g + 114 * b + 500) / 1000, luma[p]);
        }
        Assert.Equal(2, obs.GetInt("heading"));
        Assert.Equal("e0", obs.GetText("note"));
        using var flat = new GrayscaleObservation(new TickEnv([3, 2, 3]), new GrayscaleOptions { KeepChannelAxis = false, Weights = LumaWeights.Gymnasium });
        Assert.Equal([3, 2], ((BoxSpace)flat.ObservationSpace["frame"].Space).ShapeArray());
        var e = Assert.Throws<ConfigurationException>(() => new GrayscaleObservation(new TickEnv(), new GrayscaleOptions()));
        Assert.Contains("RGB", e.Message); // a [2, 2, 1] frame has no colour to convert
    }
}

public sealed class ImagePipelineTests
{
    /// <summary>BabyAI pixels the way a DQN-style encoder takes them: RGB view → grey → 28×28 → 4 frames.</summary>
    private static IEnv Pipeline(IEnv env) =>
        new FrameStackObservation(
            new ResizeObservation(
                new GrayscaleObservation(new GridWorldPixels(env, new PixelObservationOptions()), new GrayscaleOptions()),
                new ResizeOptions { Height = 28, Width = 28 }),
            new FrameStackOptions { Frames = 4, Modalities = ["image"] });

    [Fact]
    public void ComposedWrappersGiveTheComposedPicturesInAVectorEnv()
    {
        using var vec = new SyncVectorEnv(_ => Pipeline(BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { IncludeDescription = false })), 2, AutoresetMode.SameStep);
        Assert.Equal([28, 28, 4], ((BoxSpace)vec.SingleObservationSpace["image"].Space).ShapeArray());
        using var single = BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { IncludeDescription = false });
        var renderer = new TileRenderer(8);
        var resampler = new ImageResampler(56, 56, 28, 28, 1, ResizeInterpolation.Area);
        var rgb = new byte[56 * 56 * 3];
        var gray = new byte[56 * 56];
        var small = new byte[28 * 28];
        var frames = new List<byte[]>();
        vec.Reset(8);
        var obs = single.Reset(SyncVectorEnvSeed(8, 0)).Observation;
        var rng = new Rng(1UL);
        for (int t = 0; t < 40; t++)
        {
            renderer.RenderView(obs.Bytes("image"), rgb);
            GrayscaleObservation.Convert(rgb, gray, LumaWeights.Rec601);
            resampler.Resize(gray, small);
            frames.Add((byte[])small.Clone());
            var stacked = vec.Observations.Bytes(0).AsSpan(0, 28 * 28 * 4);
            for (int p = 0; p < 28 * 28; p++)
                for (int k = 0; k < 4; k++)
                    Assert.Equal(frames[Math.Max(0, frames.Count - 4 + k)][p], stacked[p * 4 + k]);
            int a = rng.NextInt(3); // turn or move: keeps the episodes going long enough
            vec.Step([a, a]);
            if (vec.Terminated[0] || vec.Truncated[0]) break;
            obs = single.Step(a).Observation;
        }
        Assert.True(frames.Count > 4);
    }

    [Fact]
    public void PipelineStepsAllocateNothing()
    {
        using var env = new FrameStackObservation(new ResizeObservation(new GrayscaleObservation(new TickEnv([3, 2, 3]), new GrayscaleOptions()),
            new ResizeOptions { Height = 5, Width = 3, Interpolation = ResizeInterpolation.Bilinear }), new FrameStackOptions { Frames = 4 });
        env.Reset(0);
        for (int t = 0; t < 50; t++) env.Step(0); // warm-up
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < 2000; t++) env.Step(0);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static long SyncVectorEnvSeed(long seed, int i) => unchecked((long)Rng.DeriveSeed(unchecked((ulong)seed), "env", i));
}
