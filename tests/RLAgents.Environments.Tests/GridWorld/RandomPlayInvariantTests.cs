using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;

namespace RLAgents.Environments.Tests.GridWorld;

/// <summary>
/// Random play on multi-room levels: after every step the view must agree with the full grid
/// (every visible cell shows the object there, unseen cells are zero, the agent's cell shows what
/// it carries), and objects' recorded positions must match where they lie.
/// </summary>
public sealed class RandomPlayInvariantTests
{
    [Theory]
    [InlineData("BabyAI-GoTo-v0")]
    [InlineData("BabyAI-Open-v0")]
    [InlineData("BabyAI-UnlockLocalDist-v0")]
    [InlineData("BabyAI-PutNextLocal-v0")]
    public void ViewAlwaysAgreesWithTheFullGrid(string id)
    {
        using var env = BabyAILevels.Make(id, new GridWorldOptions { IncludeDescription = false });
        var rng = new Rng(11UL);
        env.Reset(21);
        int toggledDoors = 0, pickups = 0;
        for (int t = 0; t < 2000; t++)
        {
            // Bias towards moving so the agent travels between rooms.
            int a = rng.NextInt(10) switch { < 4 => (int)GridAction.Forward, int k => k - 3 };
            var frontBefore = env.FrontCell();
            var carryingBefore = env.Carrying;
            var r = env.Step(a);
            if (a == (int)GridAction.Toggle && frontBefore is { Type: ObjectType.Door }) toggledDoors++;
            if (carryingBefore is null && env.Carrying is not null) pickups++;
            CheckView(env);
            if (r.Done) env.Reset();
        }
        Assert.True(toggledDoors + pickups > 0, "random play should toggle doors or pick things up");
    }

    private static void CheckView(GridWorldEnv env)
    {
        var image = env.Image;
        var grid = env.Grid;
        for (int k = 0; k < 49; k++)
        {
            int o = k * 3;
            (int, int, int) seen = (image[o], image[o + 1], image[o + 2]);
            if (k == EgocentricView.AgentCell)
            {
                var c = env.Carrying;
                Assert.Equal(c is null ? (1, 0, 0) : ((int)c.Type, (int)c.Color, (int)c.State), seen);
                continue;
            }
            if ((env.VisibleMask >> k & 1) == 0)
            {
                Assert.Equal((0, 0, 0), seen);
                continue;
            }
            var (x, y) = env.ViewCellToWorld(k);
            (int, int, int) expected = !grid.InBounds(x, y) ? (2, 5, 0)
                : grid.Get(x, y) is { } obj ? ((int)obj.Type, (int)obj.Color, (int)obj.State) : (1, 0, 0);
            Assert.Equal(expected, seen);
        }
        for (int x = 0; x < grid.Width; x++)
            for (int y = 0; y < grid.Height; y++)
                if (grid.Get(x, y) is { Type: not ObjectType.Wall } obj)
                    Assert.Equal((x, y), obj.Position);
    }
}
