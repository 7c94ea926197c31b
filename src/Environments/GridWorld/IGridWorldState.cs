namespace RLAgents.Environments.GridWorld;

/// <summary>The world an instruction verifier or a planner reads: grid, agent pose, carried object.</summary>
public interface IGridWorldState
{
    /// <summary>The grid (the agent is not in it).</summary>
    Grid Grid { get; }

    /// <summary>Agent column.</summary>
    int AgentX { get; }

    /// <summary>Agent row.</summary>
    int AgentY { get; }

    /// <summary>Agent direction: 0 east, 1 south, 2 west, 3 north.</summary>
    int AgentDir { get; }

    /// <summary>The carried object, or null.</summary>
    WorldObject? Carrying { get; }
}

/// <summary>Helpers on a grid world state.</summary>
public static class GridWorldStateExtensions
{
    /// <summary>The cell in front of the agent.</summary>
    public static (int X, int Y) FrontPos(this IGridWorldState s) => (s.AgentX + GridConstants.DirX[s.AgentDir], s.AgentY + GridConstants.DirY[s.AgentDir]);

    /// <summary>The object in front of the agent, or null (also outside the grid).</summary>
    public static WorldObject? FrontCell(this IGridWorldState s)
    {
        var (x, y) = s.FrontPos();
        return s.Grid.GetOrNull(x, y);
    }
}
