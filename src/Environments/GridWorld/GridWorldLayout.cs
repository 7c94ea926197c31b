using System.Text.Json;

namespace RLAgents.Environments.GridWorld;

/// <summary>Which BabyAI instruction a layout carries.</summary>
public enum InstructionKind
{
    /// <summary>"go to X".</summary>
    GoTo,
    /// <summary>"pick up X".</summary>
    Pickup,
    /// <summary>"open X".</summary>
    Open,
    /// <summary>"put X next to Y".</summary>
    PutNext,
}

/// <summary>
/// An object description with the explicit positions of the objects it designates (the
/// verifier's target set): object identity is "the objects at these positions".
/// </summary>
/// <param name="Type">Object type, or null for any.</param>
/// <param name="Color">Colour, or null for any.</param>
/// <param name="Location">Location word used in the mission, or null.</param>
/// <param name="Positions">Positions of the designated objects.</param>
public sealed record DescriptionSpec(ObjectType? Type, GridColor? Color, ObjectLocation? Location, IReadOnlyList<(int X, int Y)> Positions);

/// <summary>A resolved instruction: its kind, descriptions and strictness.</summary>
/// <param name="Kind">Instruction kind.</param>
/// <param name="Target">The object (goto, pickup, open) or the object to move (putnext).</param>
/// <param name="Fixed">For putnext, the object to put it next to; otherwise null.</param>
/// <param name="Strict">BabyAI's strict flag (pickup, open, putnext).</param>
public sealed record InstructionSpec(InstructionKind Kind, DescriptionSpec Target, DescriptionSpec? Fixed = null, bool Strict = false);

/// <summary>
/// An explicit episode start: a full-grid encoding in Minigrid's <c>grid.encode()</c> layout
/// (width × height × 3, index <c>((x*height)+y)*3+ch</c>), the agent's pose, the instruction
/// with its target positions, the mission and the step limit. Used by tests, replays and parity
/// checks; <see cref="GridWorldEnv.FromLayout"/> turns it into an environment.
/// </summary>
public sealed class GridWorldLayout
{
    private readonly byte[] _encoding;

    /// <summary>Creates a layout; the encoding is validated when built.</summary>
    public GridWorldLayout(int width, int height, ReadOnlySpan<byte> encoding, int agentX, int agentY, int agentDir,
        InstructionSpec instruction, int maxSteps, string? mission = null)
    {
        if (encoding.Length != width * height * 3)
            throw new ArgumentException($"A {width} x {height} layout needs {width * height * 3} encoding bytes, got {encoding.Length}.");
        Width = width;
        Height = height;
        _encoding = encoding.ToArray();
        AgentX = agentX;
        AgentY = agentY;
        AgentDir = agentDir;
        Instruction = instruction;
        MaxSteps = maxSteps;
        Mission = mission;
        Build(false); // validate now: a bad layout fails where it is made, not at the first reset
    }

    /// <summary>Grid width.</summary>
    public int Width { get; }

    /// <summary>Grid height.</summary>
    public int Height { get; }

    /// <summary>The encoding (copy).</summary>
    public byte[] Encoding => (byte[])_encoding.Clone();

    /// <summary>Agent column.</summary>
    public int AgentX { get; }

    /// <summary>Agent row.</summary>
    public int AgentY { get; }

    /// <summary>Agent direction.</summary>
    public int AgentDir { get; }

    /// <summary>The instruction.</summary>
    public InstructionSpec Instruction { get; }

    /// <summary>Step limit.</summary>
    public int MaxSteps { get; }

    /// <summary>Mission text, or null to use the instruction's surface form.</summary>
    public string? Mission { get; }

    /// <summary>Builds a fresh episode start (new objects) from the layout.</summary>
    public GridWorldEpisode Build(bool useDoneActions)
    {
        var grid = Grid.Decode(_encoding, Width, Height);
        var target = Bind(grid, Instruction.Target, "target");
        Instruction instr = Instruction.Kind switch
        {
            InstructionKind.GoTo => new GoToInstruction(target) { UseDoneActions = useDoneActions },
            InstructionKind.Pickup => new PickupInstruction(target, Instruction.Strict) { UseDoneActions = useDoneActions },
            InstructionKind.Open => new OpenInstruction(target, Instruction.Strict) { UseDoneActions = useDoneActions },
            _ => new PutNextInstruction(target,
                Bind(grid, Instruction.Fixed ?? throw new ArgumentException("A putnext instruction needs a fixed object description."), "fixed"),
                Instruction.Strict) { UseDoneActions = useDoneActions },
        };
        return new GridWorldEpisode(grid, AgentX, AgentY, AgentDir, instr, Mission ?? instr.Surface(), MaxSteps);
    }

    private static ObjectDescription Bind(Grid grid, DescriptionSpec spec, string which)
    {
        var desc = new ObjectDescription(spec.Type, spec.Color, spec.Location);
        try
        {
            desc.Bind(grid, spec.Positions);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Instruction {which} description: {e.Message}", e);
        }
        return desc;
    }

    /// <summary>
    /// Reads a layout from JSON in the shared fixture format: <c>width</c>, <c>height</c>,
    /// <c>grid</c> (flat encoding), <c>agent_pos</c> [x, y], <c>agent_dir</c>, <c>max_steps</c>,
    /// optional <c>mission</c>, and <c>instr</c> ({kind, desc} or {kind: "putnext", move, fixed},
    /// each description {type, color, loc, positions}). Errors name the key path.
    /// </summary>
    public static GridWorldLayout FromJson(JsonElement json)
    {
        int width = Int(json, "width"), height = Int(json, "height");
        var gridEl = Prop(json, "grid", "$");
        var bytes = new byte[gridEl.GetArrayLength()];
        int i = 0;
        foreach (var b in gridEl.EnumerateArray())
        {
            if (!b.TryGetByte(out bytes[i])) throw new FormatException($"$.grid[{i}]: {b} is not a byte.");
            i++;
        }
        var pos = Prop(json, "agent_pos", "$");
        if (pos.GetArrayLength() != 2) throw new FormatException("$.agent_pos: expected [x, y].");
        string? mission = json.TryGetProperty("mission", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        var instr = ParseInstruction(Prop(json, "instr", "$"));
        return new GridWorldLayout(width, height, bytes, pos[0].GetInt32(), pos[1].GetInt32(), Int(json, "agent_dir"), instr, Int(json, "max_steps"), mission);
    }

    private static InstructionSpec ParseInstruction(JsonElement el)
    {
        string kind = Prop(el, "kind", "$.instr").GetString() ?? "";
        bool strict = el.TryGetProperty("strict", out var s) && s.ValueKind == JsonValueKind.True;
        return kind switch
        {
            "goto" => new InstructionSpec(InstructionKind.GoTo, ParseDesc(Prop(el, "desc", "$.instr"), "$.instr.desc"), null, strict),
            "pickup" => new InstructionSpec(InstructionKind.Pickup, ParseDesc(Prop(el, "desc", "$.instr"), "$.instr.desc"), null, strict),
            "open" => new InstructionSpec(InstructionKind.Open, ParseDesc(Prop(el, "desc", "$.instr"), "$.instr.desc"), null, strict),
            "putnext" => new InstructionSpec(InstructionKind.PutNext, ParseDesc(Prop(el, "move", "$.instr"), "$.instr.move"),
                ParseDesc(Prop(el, "fixed", "$.instr"), "$.instr.fixed"), strict),
            _ => throw new FormatException($"$.instr.kind: '{kind}' is not goto, pickup, open or putnext."),
        };
    }

    private static DescriptionSpec ParseDesc(JsonElement el, string path)
    {
        ObjectType? type = OptString(el, "type") is { } t ? GridConstants.ParseType(t) : null;
        GridColor? color = OptString(el, "color") is { } c ? GridConstants.ParseColor(c) : null;
        ObjectLocation? loc = OptString(el, "loc") switch
        {
            null => null,
            "left" => ObjectLocation.Left,
            "right" => ObjectLocation.Right,
            "front" => ObjectLocation.Front,
            "behind" => ObjectLocation.Behind,
            var other => throw new FormatException($"{path}.loc: '{other}' is not left, right, front or behind."),
        };
        var positions = new List<(int, int)>();
        foreach (var p in Prop(el, "positions", path).EnumerateArray()) positions.Add((p[0].GetInt32(), p[1].GetInt32()));
        return new DescriptionSpec(type, color, loc, positions);
    }

    private static string? OptString(JsonElement el, string name) =>
        el.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static JsonElement Prop(JsonElement el, string name, string path) =>
        el.TryGetProperty(name, out var v) ? v : throw new FormatException($"{path}.{name}: missing.");

    private static int Int(JsonElement el, string name) =>
        Prop(el, name, "$").TryGetInt32(out int v) ? v : throw new FormatException($"$.{name}: not an integer.");
}
