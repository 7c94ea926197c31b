using System.IO.Compression;
using System.Text.Json;
using RLAgents.Environments.GridWorld;

namespace RLAgents.Environments.Tests.GridWorld.Rendering;

/// <summary>One frame Minigrid 3.1 rendered: the state after a step and its three pictures.</summary>
internal sealed record RgbFrame(int Index, byte[] Image, byte[] Grid, int X, int Y, int Dir, (byte Type, byte Color, byte State)? Carrying,
    byte[] AgentView, byte[] Full, byte[] FullHighlighted);

/// <summary>One fixture line: a level reset with seed 0 then 15 random actions, every frame rendered.</summary>
internal sealed record RgbEpisode(string Level, int Width, int Height, int MaxSteps, string Mission, int[] Actions, RgbFrame[] Frames)
{
    public override string ToString() => Level;
}

/// <summary>
/// The shared fixture minigrid-3.1-rgb.jsonl (gzip: 97 KB instead of 6.4 MB; every line kept):
/// GoToRedBallGrey, GoToLocal, PickupLoc and BossLevel, Minigrid's own RGBImgPartialObsWrapper
/// views and get_frame(highlight False/True) at tile size 8 for 64 states.
/// </summary>
internal static class MinigridRgbFixture
{
    private static readonly Lazy<RgbEpisode[]> s_episodes = new(Load);

    public static IReadOnlyList<RgbEpisode> Episodes => s_episodes.Value;

    public static RgbEpisode Get(string level) => Episodes.Single(e => e.Level == level);

    public static TheoryData<string> Levels()
    {
        var data = new TheoryData<string>();
        foreach (var e in Episodes) data.Add(e.Level);
        return data;
    }

    /// <summary>
    /// An env whose every reset restores <paramref name="frame"/>'s state: its grid, pose and carried
    /// object. The instruction (go to the first object of the grid) only has to exist; rendering ignores it.
    /// </summary>
    public static GridWorldEnv StateEnv(RgbEpisode episode, RgbFrame frame)
    {
        var env = new GridWorldEnv(EnvId.Parse(episode.Level), _ =>
        {
            var grid = Grid.Decode(frame.Grid, episode.Width, episode.Height);
            var target = FirstObject(grid);
            var instruction = new GoToInstruction(Bound(grid, target));
            var carrying = frame.Carrying is { } c ? WorldObject.Decode(c.Type, c.Color, c.State) : null;
            return new GridWorldEpisode(grid, frame.X, frame.Y, frame.Dir, instruction, episode.Mission, episode.MaxSteps, carrying);
        }, new GridWorldOptions { IncludeDescription = false });
        return env;
    }

    /// <summary>The positions of every object of <paramref name="type"/> and <paramref name="color"/> in a full-grid encoding.</summary>
    public static (int X, int Y)[] Positions(byte[] encoding, int width, int height, ObjectType type, GridColor color)
    {
        var found = new List<(int, int)>();
        for (int x = 0; x < width; x++)
            for (int y = 0; y < height; y++)
            {
                int o = ((x * height) + y) * 3;
                if (encoding[o] == (byte)type && encoding[o + 1] == (byte)color) found.Add((x, y));
            }
        return [.. found];
    }

    private static (int X, int Y, WorldObject Obj) FirstObject(Grid grid)
    {
        for (int y = 0; y < grid.Height; y++)
            for (int x = 0; x < grid.Width; x++)
                if (grid.Get(x, y) is { Type: ObjectType.Key or ObjectType.Ball or ObjectType.Box } o) return (x, y, o);
        throw new InvalidOperationException("The fixture grid holds no key, ball or box.");
    }

    private static ObjectDescription Bound(Grid grid, (int X, int Y, WorldObject Obj) target)
    {
        var description = new ObjectDescription(target.Obj.Type, target.Obj.Color);
        description.Bind(grid, [(target.X, target.Y)]);
        return description;
    }

    private static RgbEpisode[] Load()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "GridWorld", "Fixtures", "minigrid-3.1-rgb.jsonl.gz");
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        var episodes = new List<RgbEpisode>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            Assert.Equal(8, e.GetProperty("tile_size").GetInt32());
            var frames = e.GetProperty("frames").EnumerateArray().Select((f, k) => new RgbFrame(k,
                Ints(f.GetProperty("image")), Ints(f.GetProperty("grid")),
                f.GetProperty("pos")[0].GetInt32(), f.GetProperty("pos")[1].GetInt32(), f.GetProperty("dir").GetInt32(),
                f.GetProperty("carrying") is { ValueKind: JsonValueKind.Array } c ? ((byte)c[0].GetInt32(), (byte)c[1].GetInt32(), (byte)c[2].GetInt32()) : null,
                Picture(f.GetProperty("pov_rgb")), Picture(f.GetProperty("full_rgb")), Picture(f.GetProperty("full_rgb_hl")))).ToArray();
            episodes.Add(new RgbEpisode(e.GetProperty("level").GetString()!, e.GetProperty("width").GetInt32(), e.GetProperty("height").GetInt32(),
                e.GetProperty("max_steps").GetInt32(), e.GetProperty("mission").GetString()!,
                e.GetProperty("actions").EnumerateArray().Select(a => a.GetInt32()).ToArray(), frames));
        }
        return [.. episodes];
    }

    private static byte[] Ints(JsonElement array) => array.EnumerateArray().Select(v => (byte)v.GetInt32()).ToArray();

    private static byte[] Picture(JsonElement entry)
    {
        var bytes = Convert.FromBase64String(entry.GetProperty("b64").GetString()!);
        var shape = entry.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        Assert.Equal(shape[0] * shape[1] * shape[2], bytes.Length);
        return bytes;
    }
}
