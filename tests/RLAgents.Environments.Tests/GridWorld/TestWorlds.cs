using RLAgents.Environments.GridWorld;

namespace RLAgents.Environments.Tests.GridWorld;

/// <summary>Hand-built worlds: a walled room, objects placed by the test, an explicit instruction.</summary>
internal static class TestWorlds
{
    /// <summary>A walled width × height room.</summary>
    public static Grid Room(int width = 7, int height = 7)
    {
        var g = new Grid(width, height);
        g.WallRect(0, 0, width, height);
        return g;
    }

    public static WorldObject Put(this Grid g, int x, int y, ObjectType type, GridColor color, DoorState state = DoorState.Closed, WorldObject? contains = null)
    {
        var o = new WorldObject(type, color, state, contains);
        g.Set(x, y, o);
        o.Position = o.InitialPosition = (x, y);
        return o;
    }

    public static ObjectDescription Bound(Grid g, ObjectType type, GridColor? color, params (int X, int Y)[] positions)
    {
        var d = new ObjectDescription(type, color);
        d.Bind(g, positions);
        return d;
    }

    /// <summary>An env over a fixed start; the grid object is reused, so build a fresh one per env.</summary>
    public static GridWorldEnv Env(Grid g, int x, int y, int dir, Instruction instruction, int maxSteps = 100, bool description = false)
    {
        var episode = new GridWorldEpisode(g, x, y, dir, instruction, instruction.Surface(), maxSteps);
        var env = new GridWorldEnv(new EnvId("GridWorld-Test", 0), _ => episode, new GridWorldOptions { IncludeDescription = description });
        env.Reset(0);
        return env;
    }

    /// <summary>The (type, colour, state) seen at view cell (vx, vy).</summary>
    public static (int Type, int Color, int State) View(this GridWorldEnv env, int vx, int vy)
    {
        var img = env.Image;
        int o = (vx * 7 + vy) * 3;
        return (img[o], img[o + 1], img[o + 2]);
    }
}
