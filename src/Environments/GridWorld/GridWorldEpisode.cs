namespace RLAgents.Environments.GridWorld;

/// <summary>
/// The initial state of one episode, as a level generator or a layout produces it: the grid, the
/// agent's pose (and carried object), the instruction with its descriptions already matched to
/// objects of this grid, the mission text and the step limit.
/// </summary>
public sealed class GridWorldEpisode
{
    /// <summary>Creates an episode start; the agent must stand on an empty or overlappable cell.</summary>
    public GridWorldEpisode(Grid grid, int agentX, int agentY, int agentDir, Instruction instruction, string mission, int maxSteps, WorldObject? carrying = null)
    {
        if (!grid.InBounds(agentX, agentY)) throw new ArgumentException($"Agent position ({agentX}, {agentY}) is outside the {grid.Width} x {grid.Height} grid.");
        if ((uint)agentDir > 3) throw new ArgumentException($"Agent direction {agentDir} is not 0 (east), 1 (south), 2 (west) or 3 (north).");
        if (grid.Get(agentX, agentY) is { CanOverlap: false } blocker)
            throw new ArgumentException($"The agent cannot start on the {blocker} at ({agentX}, {agentY}).");
        if (maxSteps <= 0) throw new ArgumentException($"max_steps must be positive, got {maxSteps}.");
        Grid = grid;
        AgentX = agentX;
        AgentY = agentY;
        AgentDir = agentDir;
        Instruction = instruction;
        Mission = mission;
        MaxSteps = maxSteps;
        Carrying = carrying;
    }

    /// <summary>The grid.</summary>
    public Grid Grid { get; }

    /// <summary>Agent column.</summary>
    public int AgentX { get; }

    /// <summary>Agent row.</summary>
    public int AgentY { get; }

    /// <summary>Agent direction (0 east, 1 south, 2 west, 3 north).</summary>
    public int AgentDir { get; }

    /// <summary>The instruction and verifier.</summary>
    public Instruction Instruction { get; }

    /// <summary>The mission text.</summary>
    public string Mission { get; }

    /// <summary>Steps before truncation.</summary>
    public int MaxSteps { get; }

    /// <summary>Object carried at the start (normally none).</summary>
    public WorldObject? Carrying { get; }
}
