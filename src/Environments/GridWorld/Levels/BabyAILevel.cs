namespace RLAgents.Environments.GridWorld.Levels;

/// <summary>
/// A BabyAI level: a room-grid shape and a mission generator (Minigrid's <c>RoomGridLevel</c>).
/// <see cref="Generate"/> retries until a level passes every check (rejection sampling), then
/// sets the step budget as BabyAI does: room_size² × rooms × navigations needed.
/// </summary>
public abstract class BabyAILevel
{
    /// <summary>Attempts before generation gives up (BabyAI retries forever; this is a safety net).</summary>
    public const int MaxAttempts = 10_000;

    /// <summary>Level name without the <c>BabyAI-</c> prefix and version, e.g. <c>GoToLocal</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Side of a room, walls included (default 8).</summary>
    public virtual int RoomSize => 8;

    /// <summary>Rows of rooms (default 1).</summary>
    public virtual int NumRows => 1;

    /// <summary>Columns of rooms (default 1).</summary>
    public virtual int NumCols => 1;

    /// <summary>Navigations the level's instruction needs (BabyAI's <c>num_navs_needed</c>: 2 for put-next, else 1).</summary>
    public virtual int NavigationsNeeded => 1;

    /// <summary>The step budget: room_size² × rooms × navigations needed.</summary>
    public int MaxSteps => RoomSize * RoomSize * NumRows * NumCols * NavigationsNeeded;

    /// <summary>Places the agent and objects and returns the instruction (BabyAI's <c>gen_mission</c>).</summary>
    protected internal abstract Instruction GenerateMission(LevelBuilder b);

    /// <summary>Generates a valid episode start.</summary>
    public GridWorldEpisode Generate(Rng rng, bool useDoneActions = false)
    {
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var b = new LevelBuilder(rng, RoomSize, NumRows, NumCols);
            Instruction instr;
            try
            {
                instr = GenerateMission(b);
                foreach (var d in instr.Descriptions) b.Match(d);
                Validate(instr);
            }
            catch (LevelRejectedException)
            {
                continue;
            }
            if (instr is ActionInstruction action) action.UseDoneActions = useDoneActions;
            int maxSteps = RoomSize * RoomSize * NumRows * NumCols * instr.NavigationsNeeded;
            return new GridWorldEpisode(b.Grid, b.AgentX, b.AgentY, b.AgentDir, instr, instr.Surface(), maxSteps, b.Carrying);
        }
        throw new InvalidOperationException($"BabyAI level {Name}: no valid level after {MaxAttempts} attempts.");
    }

    // RoomGridLevel.validate_instrs for the instructions these levels use.
    private static void Validate(Instruction instr)
    {
        if (instr is PutNextInstruction put)
        {
            foreach (var m in put.Move.Objects)
                if (put.Fixed.Objects.Any(f => ReferenceEquals(f, m)))
                    throw new LevelRejectedException("there are objects that match both lhs and rhs of PutNext");
            if (put.ObjectsNext()) throw new LevelRejectedException("objs already next to each other");
        }
    }
}
