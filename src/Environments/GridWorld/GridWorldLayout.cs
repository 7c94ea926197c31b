using System.Text;
using System.Text.Json;

namespace RLAgents.Environments.GridWorld;

/// <summary>What a box holds at the start of an episode (the grid encoding cannot show it).</summary>
/// <param name="X">Box column.</param>
/// <param name="Y">Box row.</param>
/// <param name="Type">Type of the contents.</param>
/// <param name="Color">Colour of the contents.</param>
/// <param name="State">Door state of the contents (doors only; 0 otherwise).</param>
public readonly record struct BoxContent(int X, int Y, ObjectType Type, GridColor Color, DoorState State = DoorState.Open);

/// <summary>
/// An explicit episode start: a full-grid encoding in Minigrid's <c>grid.encode()</c> layout
/// (width × height × 3, index <c>((x*height)+y)*3+ch</c>), what boxes hold, the agent's pose, the
/// instruction (any BabyAI tree) with its target positions, the mission and the step limit. Used by
/// tests, replays and parity checks; <see cref="GridWorldEnv.FromLayout"/> turns it into an
/// environment and <see cref="Capture"/> takes one from a running environment.
/// </summary>
/// <remarks>
/// JSON (<see cref="FromJson"/>, <see cref="ToJson"/>) is the shared fixture format: version 1 has
/// single-action instructions only; version 2 (<c>"format": 2</c>) adds sequences
/// (<c>{"kind": "before"|"after"|"and", "a", "b"}</c>) and <c>box_contents</c>
/// <c>[[x, y, type, color, state], …]</c>.
/// </remarks>
public sealed class GridWorldLayout
{
    /// <summary>The JSON format version <see cref="ToJson"/> writes.</summary>
    public const int FormatVersion = 2;

    private readonly byte[] _encoding;

    /// <summary>Creates a layout; it is validated at once by building it.</summary>
    public GridWorldLayout(int width, int height, ReadOnlySpan<byte> encoding, int agentX, int agentY, int agentDir,
        InstructionSpec instruction, int maxSteps, string? mission = null, IReadOnlyList<BoxContent>? boxContents = null)
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
        BoxContents = boxContents is null ? [] : [.. boxContents];
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

    /// <summary>Contents of the boxes that hold something.</summary>
    public IReadOnlyList<BoxContent> BoxContents { get; }

    /// <summary>Builds a fresh episode start (new objects) from the layout.</summary>
    public GridWorldEpisode Build(bool useDoneActions)
    {
        var grid = Grid.Decode(_encoding, Width, Height);
        for (int i = 0; i < BoxContents.Count; i++)
        {
            var c = BoxContents[i];
            var box = grid.InBounds(c.X, c.Y) ? grid.Get(c.X, c.Y) : null;
            if (box is not { Type: ObjectType.Box })
                throw new ArgumentException($"box_contents[{i}]: no box at ({c.X}, {c.Y}).");
            if (c.Type is not (ObjectType.Key or ObjectType.Ball or ObjectType.Box or ObjectType.Door))
                throw new ArgumentException($"box_contents[{i}]: a box cannot hold a {c.Type.Name()}.");
            box.Contains = new WorldObject(c.Type, c.Color, c.State);
        }
        var instr = Instruction.Bind(grid, useDoneActions);
        return new GridWorldEpisode(grid, AgentX, AgentY, AgentDir, instr, Mission ?? instr.Surface(), MaxSteps);
    }

    /// <summary>
    /// The layout of <paramref name="env"/>'s current state: grid, box contents, pose, instruction
    /// with its tracked positions, mission and step limit. Taken right after a reset it restarts the
    /// same episode; an agent that starts carrying an object (PutNext…Carrying) cannot be captured.
    /// </summary>
    public static GridWorldLayout Capture(GridWorldEnv env)
    {
        if (env.Carrying is not null) throw new InvalidOperationException("A layout cannot express an agent that carries an object.");
        var grid = env.Grid;
        var contents = new List<BoxContent>();
        for (int x = 0; x < grid.Width; x++)
            for (int y = 0; y < grid.Height; y++)
                if (grid.Get(x, y) is { Type: ObjectType.Box, Contains: { } inner })
                    contents.Add(new BoxContent(x, y, inner.Type, inner.Color, inner.State));
        return new GridWorldLayout(grid.Width, grid.Height, grid.Encode(), env.AgentX, env.AgentY, env.AgentDir,
            InstructionSpec.From(env.Instruction), env.MaxSteps, env.Mission, contents);
    }

    /// <summary>
    /// Reads a layout from JSON in the shared fixture format (version 1 or 2): <c>width</c>,
    /// <c>height</c>, <c>grid</c> (flat encoding), <c>agent_pos</c> [x, y], <c>agent_dir</c>,
    /// <c>max_steps</c>, optional <c>mission</c>, <c>instr</c> (see <see cref="InstructionSpec.FromJson"/>)
    /// and optional <c>box_contents</c>. Other keys (recorded steps) are ignored. Errors name the key path.
    /// </summary>
    public static GridWorldLayout FromJson(JsonElement json)
    {
        if (json.TryGetProperty("format", out var f) && (!f.TryGetInt32(out int version) || version is < 1 or > FormatVersion))
            throw new FormatException($"$.format: {f} is not a layout format this library reads (1 or {FormatVersion}).");
        int width = Int(json, "width"), height = Int(json, "height");
        var gridEl = Prop(json, "grid", "$");
        if (gridEl.ValueKind != JsonValueKind.Array) throw new FormatException("$.grid: expected an array of bytes.");
        var bytes = new byte[gridEl.GetArrayLength()];
        int i = 0;
        foreach (var b in gridEl.EnumerateArray())
        {
            if (!b.TryGetByte(out bytes[i])) throw new FormatException($"$.grid[{i}]: {b} is not a byte.");
            i++;
        }
        var pos = Prop(json, "agent_pos", "$");
        if (pos.ValueKind != JsonValueKind.Array || pos.GetArrayLength() != 2 || !pos[0].TryGetInt32(out int ax) || !pos[1].TryGetInt32(out int ay))
            throw new FormatException("$.agent_pos: expected [x, y].");
        string? mission = json.TryGetProperty("mission", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        var instr = InstructionSpec.FromJson(Prop(json, "instr", "$"));
        var contents = new List<BoxContent>();
        if (json.TryGetProperty("box_contents", out var boxes) && boxes.ValueKind != JsonValueKind.Null)
        {
            if (boxes.ValueKind != JsonValueKind.Array) throw new FormatException("$.box_contents: expected an array.");
            int k = 0;
            foreach (var e in boxes.EnumerateArray())
            {
                var v = new int[5];
                if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != 5) throw new FormatException($"$.box_contents[{k}]: expected [x, y, type, color, state].");
                for (int j = 0; j < 5; j++)
                    if (!e[j].TryGetInt32(out v[j])) throw new FormatException($"$.box_contents[{k}][{j}]: not an integer.");
                if ((uint)v[2] > (uint)ObjectType.Agent || (uint)v[3] > (uint)GridColor.Grey || (uint)v[4] > (uint)DoorState.Locked)
                    throw new FormatException($"$.box_contents[{k}]: unknown type, colour or state code in [{string.Join(", ", v)}].");
                contents.Add(new BoxContent(v[0], v[1], (ObjectType)v[2], (GridColor)v[3], (DoorState)v[4]));
                k++;
            }
        }
        return new GridWorldLayout(width, height, bytes, ax, ay, Int(json, "agent_dir"), instr, Int(json, "max_steps"), mission, contents);
    }

    /// <summary>The layout as one line of format-2 JSON (what <see cref="FromJson"/> reads).</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteNumber("format", FormatVersion);
            if (Mission is not null) w.WriteString("mission", Mission);
            w.WritePropertyName("instr");
            Instruction.WriteJson(w);
            w.WriteNumber("width", Width);
            w.WriteNumber("height", Height);
            w.WriteNumber("max_steps", MaxSteps);
            w.WriteStartArray("agent_pos");
            w.WriteNumberValue(AgentX);
            w.WriteNumberValue(AgentY);
            w.WriteEndArray();
            w.WriteNumber("agent_dir", AgentDir);
            w.WriteStartArray("grid");
            foreach (byte b in _encoding) w.WriteNumberValue(b);
            w.WriteEndArray();
            w.WriteStartArray("box_contents");
            foreach (var c in BoxContents)
            {
                w.WriteStartArray();
                w.WriteNumberValue(c.X);
                w.WriteNumberValue(c.Y);
                w.WriteNumberValue((int)c.Type);
                w.WriteNumberValue((int)c.Color);
                w.WriteNumberValue((int)c.State);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding8.GetString(stream.ToArray());
    }

    private static readonly UTF8Encoding Encoding8 = new(false);

    private static JsonElement Prop(JsonElement el, string name, string path) =>
        el.TryGetProperty(name, out var v) ? v : throw new FormatException($"{path}.{name}: missing.");

    private static int Int(JsonElement el, string name) =>
        Prop(el, name, "$").TryGetInt32(out int v) ? v : throw new FormatException($"$.{name}: not an integer.");
}
