using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Rendering;

namespace RLAgents.Environments.Tests.GridWorld.Rendering;

/// <summary>
/// The renderer against Minigrid 3.1's own pictures (byte for byte), and tiles the fixture does not
/// hold (open and locked doors, floor, goal, lava) against values worked out by hand from
/// MINIGRID-SEMANTICS.md §13 at tile size 8 (24×24 subpixels, centres at (i + ½)/24).
/// </summary>
public sealed class TileRendererTests
{
    [Fact]
    public void FixtureCoversEveryDirectionCarriedObjectsAndEveryBabyAIObjectType()
    {
        var frames = MinigridRgbFixture.Episodes.SelectMany(e => e.Frames).ToList();
        Assert.Equal(64, frames.Count);
        Assert.Equal([0, 1, 2, 3], frames.Select(f => f.Dir).Distinct().Order());
        Assert.Contains(frames, f => f.Carrying is (5, _, _));
        Assert.Contains(frames, f => f.Carrying is (6, _, _));
        var types = frames.SelectMany(f => Enumerable.Range(0, f.Grid.Length / 3).Select(i => f.Grid[3 * i])).Distinct().Order().ToArray();
        Assert.Equal([1, 2, 4, 5, 6, 7], types.Select(t => (int)t)); // empty, wall, door (closed), key, ball, box
    }

    [Theory]
    [MemberData(nameof(MinigridRgbFixture.Levels), MemberType = typeof(MinigridRgbFixture))]
    public void AgentViewMatchesMinigridRgbImgPartialObsWrapperByteForByte(string level)
    {
        var episode = MinigridRgbFixture.Get(level);
        var renderer = new TileRenderer(8);
        foreach (var frame in episode.Frames)
            PictureAssert.Equal(frame.AgentView, renderer.RenderView(frame.Image), 56, $"{level} frame {frame.Index} agent view");
    }

    [Theory]
    [MemberData(nameof(MinigridRgbFixture.Levels), MemberType = typeof(MinigridRgbFixture))]
    public void FullFramesMatchMinigridGetFrameWithAndWithoutHighlightByteForByte(string level)
    {
        var episode = MinigridRgbFixture.Get(level);
        var renderer = new TileRenderer(8);
        foreach (var frame in episode.Frames)
        {
            using var env = MinigridRgbFixture.StateEnv(episode, frame);
            env.Reset(0);
            Assert.Equal(frame.Image, env.Image.ToArray()); // the rebuilt state sees what Minigrid's did
            int cols = 8 * episode.Width;
            PictureAssert.Equal(frame.Full, renderer.RenderEnv(env, highlight: false), cols, $"{level} frame {frame.Index} full frame");
            PictureAssert.Equal(frame.FullHighlighted, renderer.RenderEnv(env), cols, $"{level} frame {frame.Index} highlighted full frame");
        }
    }

    [Fact]
    public void SpanAndArrayOverloadsAgreeAndTilesAreSharedAcrossRenderers()
    {
        var episode = MinigridRgbFixture.Get("BabyAI-BossLevel-v0");
        var frame = episode.Frames[^1];
        var a = new TileRenderer(8);
        var view = new byte[a.ViewBytes];
        a.RenderView(frame.Image, view);
        Assert.Equal(new TileRenderer(8).RenderView(frame.Image), view);
        var grid = Grid.Decode(frame.Grid, episode.Width, episode.Height);
        var full = new byte[a.GridBytes(grid.Width, grid.Height)];
        a.RenderGrid(grid, frame.X, frame.Y, frame.Dir, default, full);
        Assert.Equal(frame.Full, full);
        Assert.True(a.Tile(ObjectType.Ball, GridColor.Red, DoorState.Open, -1, true) == new TileRenderer(8).Tile(ObjectType.Ball, GridColor.Red, DoorState.Open, -1, true),
            "two renderers of one tile size read the same cached tile");
    }

    [Fact]
    public void OpenDoorIsAColouredStripOnTheRightWithABlackSlit()
    {
        var tile = new TileRenderer(8).Tile(ObjectType.Door, GridColor.Green, DoorState.Open, -1, false);
        // Column 7 = subcolumns 21..23: colour, black (x ∈ [.92, .96] hits only subcolumn 22), colour → 2·255/3.
        for (int row = 1; row <= 6; row++) Assert.Equal((0, 170, 0), Pixel(tile, row, 7));
        // Top and bottom rows: one subrow is outside the slit's y ∈ [.04, .96] → (255 + 170 + 170)/3.
        Assert.Equal((0, 198, 0), Pixel(tile, 0, 7));
        Assert.Equal((0, 198, 0), Pixel(tile, 7, 7));
        // The rest is the bare tile: grid line in subcolumn 0 → 100/3.
        Assert.Equal((33, 33, 33), Pixel(tile, 4, 0));
        Assert.Equal((0, 0, 0), Pixel(tile, 4, 4));
    }

    [Fact]
    public void LockedDoorIsDarkenedToFortyFivePercentWithAKeySlot()
    {
        var tile = new TileRenderer(8).Tile(ObjectType.Door, GridColor.Red, DoorState.Locked, -1, false);
        Assert.Equal((114, 0, 0), Pixel(tile, 2, 2)); // int(0.45 · 255)
        // Key slot y ∈ [.50, .56] covers subrow 12 only: (255 + 114 + 114)/3 in pixel row 4, columns 4..5.
        Assert.Equal((161, 0, 0), Pixel(tile, 4, 4));
        Assert.Equal((161, 0, 0), Pixel(tile, 4, 5));
        Assert.Equal((114, 0, 0), Pixel(tile, 5, 4));
        // Corner: the outer frame overwrites the grid lines → (255 + 161 + 161)/3.
        Assert.Equal((192, 0, 0), Pixel(tile, 0, 0));
        var highlighted = new TileRenderer(8).Tile(ObjectType.Door, GridColor.Red, DoorState.Locked, -1, true);
        Assert.Equal((156, 76, 76), Pixel(highlighted, 2, 2)); // int(114 + 0.3·141), int(0 + 0.3·255)
    }

    [Fact]
    public void FloorGoalAndLavaFollowMinigridsColours()
    {
        var renderer = new TileRenderer(8);
        var floor = renderer.Tile(ObjectType.Floor, GridColor.Blue, DoorState.Open, -1, false);
        Assert.Equal((0, 0, 127), Pixel(floor, 4, 4)); // int(255 / 2)
        Assert.Equal((55, 55, 112), Pixel(floor, 0, 0)); // grid lines in subrow/subcolumn 0
        Assert.Equal((76, 76, 165), Pixel(renderer.Tile(ObjectType.Floor, GridColor.Blue, DoorState.Open, -1, true), 4, 4));
        Assert.Equal((0, 255, 0), Pixel(renderer.Tile(ObjectType.Goal, GridColor.Green, DoorState.Open, -1, false), 4, 4));
        Assert.Equal((76, 255, 76), Pixel(renderer.Tile(ObjectType.Goal, GridColor.Green, DoorState.Open, -1, true), 4, 4));
        var lava = renderer.Tile(ObjectType.Lava, GridColor.Red, DoorState.Open, -1, false).ToArray();
        Assert.Equal((255, 128, 0), Pixel(lava, 1, 4)); // above the waves (y < .27)
        Assert.True(Enumerable.Range(0, 8).Any(c => Pixel(lava, 3, c).R < 255), "the waves darken row 3");
    }

    [Fact]
    public void UnseenAndSeenEmptyCellsDifferOnlyByTheHighlight()
    {
        var view = new byte[GridConstants.ViewBytes]; // all unseen
        int agent = EgocentricView.AgentCell * 3;
        view[agent] = (byte)ObjectType.Empty;
        int seenEmpty = (0 * 7 + 0) * 3;
        view[seenEmpty] = (byte)ObjectType.Empty;
        var renderer = new TileRenderer(8);
        var picture = renderer.RenderView(view);
        var bare = renderer.Tile(ObjectType.Empty, GridColor.Red, DoorState.Open, -1, false).ToArray();
        var lit = renderer.Tile(ObjectType.Empty, GridColor.Red, DoorState.Open, -1, true).ToArray();
        Assert.Equal(lit, TileAt(picture, 56, 0, 0));
        Assert.Equal(bare, TileAt(picture, 56, 1, 0));
        Assert.Equal(renderer.Tile(ObjectType.Empty, GridColor.Red, DoorState.Open, 3, true).ToArray(), TileAt(picture, 56, 3, 6));
        Assert.Equal((33, 33, 33), Pixel(bare, 4, 0));
        // The highlight acts on subpixels before averaging: (int(100 + .3·155) + 2·int(.3·255))/3 = (146 + 76 + 76)/3.
        Assert.Equal((99, 99, 99), Pixel(lit, 4, 0));
    }

    [Fact]
    public void CodesThatAreNotMinigridObjectsAreRejected()
    {
        var renderer = new TileRenderer(8);
        var view = new byte[GridConstants.ViewBytes];
        view[0] = 11;
        var e = Assert.Throws<ArgumentException>(() => renderer.RenderView(view));
        Assert.Contains("(11, 0, 0)", e.Message);
        Assert.Throws<ArgumentException>(() => renderer.RenderView(new byte[10]));
        Assert.Throws<ArgumentException>(() => renderer.RenderView(view.AsSpan(), new byte[5]));
    }

    private static (int R, int G, int B) Pixel(ReadOnlySpan<byte> tile, int row, int col)
    {
        int o = (row * 8 + col) * 3;
        return (tile[o], tile[o + 1], tile[o + 2]);
    }

    private static byte[] TileAt(byte[] picture, int cols, int tx, int ty)
    {
        var tile = new byte[8 * 8 * 3];
        for (int r = 0; r < 8; r++) Array.Copy(picture, ((ty * 8 + r) * cols + tx * 8) * 3, tile, r * 24, 24);
        return tile;
    }
}

/// <summary>Byte-for-byte picture comparison that names the first differing pixel.</summary>
internal static class PictureAssert
{
    public static void Equal(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, int cols, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} bytes, expected {expected.Length}");
        int first = -1, count = 0;
        for (int i = 0; i < expected.Length; i++)
            if (expected[i] != actual[i])
            {
                if (first < 0) first = i;
                count++;
            }
        if (first < 0) return;
        int pixel = first / 3;
        Assert.Fail($"{what}: {count} bytes differ; first at row {pixel / cols}, column {pixel % cols}, channel {first % 3}: expected {expected[first]}, got {actual[first]}");
    }
}
