using System.Text.Json;

namespace RLAgents.Environments.GridWorld;

/// <summary>Which BabyAI instruction a specification describes.</summary>
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
    /// <summary>"A, then B": A first.</summary>
    Before,
    /// <summary>"A after you B": B first.</summary>
    After,
    /// <summary>"A and B": both, in any order.</summary>
    And,
}

/// <summary>
/// An object description with the explicit positions of the objects it designates (the
/// verifier's target set): object identity is "the objects at these positions".
/// </summary>
/// <param name="Type">Object type, or null for any ("object").</param>
/// <param name="Color">Colour, or null for any.</param>
/// <param name="Location">Location word used in the mission, or null.</param>
/// <param name="Positions">Positions of the designated objects (empty for a description parsed from a mission).</param>
public sealed record DescriptionSpec(ObjectType? Type, GridColor? Color, ObjectLocation? Location, IReadOnlyList<(int X, int Y)> Positions)
{
    /// <summary>
    /// The article a mission used: true for "the" (one object matched), false for "a"; null means
    /// "from <see cref="Positions"/>".
    /// </summary>
    public bool? Definite { get; init; }

    /// <summary>"the red ball", "a door on your left".</summary>
    public string Surface()
    {
        bool definite = Definite ?? Positions.Count switch
        {
            0 => throw new InvalidOperationException($"The description '{Noun()}' designates no object, so its article is unknown."),
            1 => true,
            _ => false,
        };
        return (definite ? "the " : "a ") + Noun();
    }

    /// <summary>True when type, colour and location agree (positions and article aside).</summary>
    public bool SameWords(DescriptionSpec other) => Type == other.Type && Color == other.Color && Location == other.Location;

    private string Noun() => new ObjectDescription(Type, Color, Location).ToString();
}

/// <summary>
/// A resolved BabyAI instruction as plain data: a leaf (goto, pickup, open with
/// <see cref="Target"/>; putnext with <see cref="Target"/> moved next to <see cref="Fixed"/>) or a
/// sequencing node (before, after, and over <see cref="A"/> and <see cref="B"/>). Layouts carry it;
/// <see cref="Bind"/> turns it into a verifier over a grid; <see cref="ParseMission"/> reads the
/// mission grammar back.
/// </summary>
/// <param name="Kind">Instruction kind.</param>
/// <param name="Target">The object (goto, pickup, open) or the object to move (putnext); null for sequences.</param>
/// <param name="Fixed">For putnext, the object to put it next to; otherwise null.</param>
/// <param name="Strict">BabyAI's strict flag.</param>
/// <param name="A">First part of a sequence (as written), else null.</param>
/// <param name="B">Second part of a sequence (as written), else null.</param>
public sealed record InstructionSpec(InstructionKind Kind, DescriptionSpec? Target, DescriptionSpec? Fixed = null, bool Strict = false,
    InstructionSpec? A = null, InstructionSpec? B = null)
{
    /// <summary>True for before, after and and.</summary>
    public bool IsSequence => Kind is InstructionKind.Before or InstructionKind.After or InstructionKind.And;

    /// <summary>A sequencing node over two parts.</summary>
    public static InstructionSpec Sequence(InstructionKind kind, InstructionSpec a, InstructionSpec b, bool strict = false) =>
        kind is InstructionKind.Before or InstructionKind.After or InstructionKind.And
            ? new InstructionSpec(kind, null, null, strict, a, b)
            : throw new ArgumentException($"{kind} is not a sequencing kind.", nameof(kind));

    /// <summary>The mission sentence, with articles from <see cref="DescriptionSpec.Definite"/> or the position counts.</summary>
    public string Surface() => Kind switch
    {
        InstructionKind.GoTo => "go to " + Leaf().Surface(),
        InstructionKind.Pickup => "pick up " + Leaf().Surface(),
        InstructionKind.Open => "open " + Leaf().Surface(),
        InstructionKind.PutNext => "put " + Leaf().Surface() + " next to " + FixedOrThrow().Surface(),
        InstructionKind.Before => PartA().Surface() + ", then " + PartB().Surface(),
        InstructionKind.After => PartA().Surface() + " after you " + PartB().Surface(),
        _ => PartA().Surface() + " and " + PartB().Surface(),
    };

    /// <summary>
    /// Builds the verifier on <paramref name="grid"/>: every description is bound to the objects at
    /// its positions. Errors name the description's path in the tree (e.g. <c>a.b.fixed</c>).
    /// </summary>
    public Instruction Bind(Grid grid, bool useDoneActions = false)
    {
        var instr = BindNode(grid, "instr");
        instr.UseDoneActions = useDoneActions;
        return instr;
    }

    private Instruction BindNode(Grid grid, string path) => Kind switch
    {
        InstructionKind.GoTo => new GoToInstruction(BindDesc(grid, Leaf(), path + ".desc")),
        InstructionKind.Pickup => new PickupInstruction(BindDesc(grid, Leaf(), path + ".desc"), Strict),
        InstructionKind.Open => new OpenInstruction(BindDesc(grid, Leaf(), path + ".desc"), Strict),
        InstructionKind.PutNext => new PutNextInstruction(BindDesc(grid, Leaf(), path + ".move"), BindDesc(grid, FixedOrThrow(), path + ".fixed"), Strict),
        InstructionKind.Before => new BeforeInstruction(PartA().BindNode(grid, path + ".a"), PartB().BindNode(grid, path + ".b"), Strict),
        InstructionKind.After => new AfterInstruction(PartA().BindNode(grid, path + ".a"), PartB().BindNode(grid, path + ".b"), Strict),
        _ => new AndInstruction(PartA().BindNode(grid, path + ".a"), PartB().BindNode(grid, path + ".b"), Strict),
    };

    private static ObjectDescription BindDesc(Grid grid, DescriptionSpec spec, string path)
    {
        var desc = new ObjectDescription(spec.Type, spec.Color, spec.Location);
        try
        {
            desc.Bind(grid, spec.Positions);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{path}: {e.Message}", e);
        }
        return desc;
    }

    /// <summary>The specification of a verifier, with each description's currently tracked positions.</summary>
    public static InstructionSpec From(Instruction instruction) => instruction switch
    {
        GoToInstruction g => new(InstructionKind.GoTo, Describe(g.Target)),
        PickupInstruction p => new(InstructionKind.Pickup, Describe(p.Target), null, p.Strict),
        OpenInstruction o => new(InstructionKind.Open, Describe(o.Target), null, o.Strict),
        PutNextInstruction n => new(InstructionKind.PutNext, Describe(n.Move), Describe(n.Fixed), n.Strict),
        BeforeInstruction s => Sequence(InstructionKind.Before, From(s.A), From(s.B), s.Strict),
        AfterInstruction s => Sequence(InstructionKind.After, From(s.A), From(s.B), s.Strict),
        AndInstruction s => Sequence(InstructionKind.And, From(s.A), From(s.B), s.Strict),
        _ => throw new NotSupportedException($"No specification for {instruction.GetType().Name}."),
    };

    private static DescriptionSpec Describe(ObjectDescription d) => new(d.Type, d.Color, d.Location, [.. d.Positions]);

    /// <summary>
    /// True when <paramref name="other"/> has the same tree, kinds and description words (what a
    /// mission says: positions, articles and strictness aside).
    /// </summary>
    public bool SameShape(InstructionSpec other)
    {
        if (Kind != other.Kind) return false;
        if (IsSequence) return PartA().SameShape(other.PartA()) && PartB().SameShape(other.PartB());
        if (!Leaf().SameWords(other.Leaf())) return false;
        return Kind != InstructionKind.PutNext || FixedOrThrow().SameWords(other.FixedOrThrow());
    }

    private DescriptionSpec Leaf() => Target ?? throw new ArgumentException($"A {Kind} instruction needs a target description.");

    private DescriptionSpec FixedOrThrow() => Fixed ?? throw new ArgumentException("A putnext instruction needs a fixed object description.");

    private InstructionSpec PartA() => A ?? throw new ArgumentException($"A {Kind} instruction needs a first part.");

    private InstructionSpec PartB() => B ?? throw new ArgumentException($"A {Kind} instruction needs a second part.");

    // ---- JSON (the shared fixture format) ----

    /// <summary>
    /// Reads <c>{kind, desc}</c>, <c>{kind: "putnext", move, fixed}</c> or
    /// <c>{kind: "before"|"after"|"and", a, b}</c> (each description <c>{type, color, loc, positions}</c>,
    /// <c>strict</c> optional). Errors name the key path, e.g. <c>$.instr.a.desc.loc</c>.
    /// </summary>
    public static InstructionSpec FromJson(JsonElement el, string path = "$.instr")
    {
        if (el.ValueKind != JsonValueKind.Object) throw new FormatException($"{path}: expected an object.");
        string kind = Prop(el, "kind", path).GetString() ?? "";
        bool strict = el.TryGetProperty("strict", out var s) && s.ValueKind == JsonValueKind.True;
        return kind switch
        {
            "goto" => new(InstructionKind.GoTo, DescFromJson(Prop(el, "desc", path), path + ".desc"), null, strict),
            "pickup" => new(InstructionKind.Pickup, DescFromJson(Prop(el, "desc", path), path + ".desc"), null, strict),
            "open" => new(InstructionKind.Open, DescFromJson(Prop(el, "desc", path), path + ".desc"), null, strict),
            "putnext" => new(InstructionKind.PutNext, DescFromJson(Prop(el, "move", path), path + ".move"), DescFromJson(Prop(el, "fixed", path), path + ".fixed"), strict),
            "before" => Sequence(InstructionKind.Before, FromJson(Prop(el, "a", path), path + ".a"), FromJson(Prop(el, "b", path), path + ".b"), strict),
            "after" => Sequence(InstructionKind.After, FromJson(Prop(el, "a", path), path + ".a"), FromJson(Prop(el, "b", path), path + ".b"), strict),
            "and" => Sequence(InstructionKind.And, FromJson(Prop(el, "a", path), path + ".a"), FromJson(Prop(el, "b", path), path + ".b"), strict),
            _ => throw new FormatException($"{path}.kind: '{kind}' is not goto, pickup, open, putnext, before, after or and."),
        };
    }

    /// <summary>Writes the JSON form <see cref="FromJson"/> reads.</summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("kind", Kind switch
        {
            InstructionKind.GoTo => "goto",
            InstructionKind.Pickup => "pickup",
            InstructionKind.Open => "open",
            InstructionKind.PutNext => "putnext",
            InstructionKind.Before => "before",
            InstructionKind.After => "after",
            _ => "and",
        });
        if (IsSequence)
        {
            w.WritePropertyName("a");
            PartA().WriteJson(w);
            w.WritePropertyName("b");
            PartB().WriteJson(w);
        }
        else if (Kind == InstructionKind.PutNext)
        {
            WriteDesc(w, "move", Leaf());
            WriteDesc(w, "fixed", FixedOrThrow());
        }
        else WriteDesc(w, "desc", Leaf());
        if (Kind != InstructionKind.GoTo) w.WriteBoolean("strict", Strict);
        w.WriteEndObject();
    }

    private static void WriteDesc(Utf8JsonWriter w, string name, DescriptionSpec d)
    {
        w.WriteStartObject(name);
        if (d.Type is ObjectType t) w.WriteString("type", t.Name()); else w.WriteNull("type");
        if (d.Color is GridColor c) w.WriteString("color", c.Name()); else w.WriteNull("color");
        if (d.Location is ObjectLocation l) w.WriteString("loc", LocationWords[(int)l]); else w.WriteNull("loc");
        w.WriteStartArray("positions");
        foreach (var (x, y) in d.Positions)
        {
            w.WriteStartArray();
            w.WriteNumberValue(x);
            w.WriteNumberValue(y);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    // Indexed by ObjectLocation: the fixture's "loc" values.
    private static readonly string[] LocationWords = ["left", "right", "front", "behind"];

    private static DescriptionSpec DescFromJson(JsonElement el, string path)
    {
        if (el.ValueKind != JsonValueKind.Object) throw new FormatException($"{path}: expected an object.");
        ObjectType? type = OptString(el, "type", path) is { } t ? Wrap(() => GridConstants.ParseType(t), path + ".type") : null;
        if (type is not (null or ObjectType.Box or ObjectType.Ball or ObjectType.Key or ObjectType.Door))
            throw new FormatException($"{path}.type: instructions describe boxes, balls, keys or doors, not '{type.Value.Name()}'.");
        GridColor? color = OptString(el, "color", path) is { } c ? Wrap(() => GridConstants.ParseColor(c), path + ".color") : null;
        ObjectLocation? loc = null;
        if (OptString(el, "loc", path) is { } l)
        {
            int i = Array.IndexOf(LocationWords, l);
            loc = i >= 0 ? (ObjectLocation)i : throw new FormatException($"{path}.loc: '{l}' is not left, right, front or behind.");
        }
        var positions = new List<(int, int)>();
        var arr = Prop(el, "positions", path);
        if (arr.ValueKind != JsonValueKind.Array) throw new FormatException($"{path}.positions: expected an array of [x, y].");
        int k = 0;
        foreach (var p in arr.EnumerateArray())
        {
            if (p.ValueKind != JsonValueKind.Array || p.GetArrayLength() != 2 || !p[0].TryGetInt32(out int x) || !p[1].TryGetInt32(out int y))
                throw new FormatException($"{path}.positions[{k}]: expected [x, y].");
            positions.Add((x, y));
            k++;
        }
        return new DescriptionSpec(type, color, loc, positions);
    }

    private static T Wrap<T>(Func<T> parse, string path)
    {
        try
        {
            return parse();
        }
        catch (FormatException e)
        {
            throw new FormatException($"{path}: {e.Message}", e);
        }
    }

    private static string? OptString(JsonElement el, string name, string path)
    {
        if (!el.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw new FormatException($"{path}.{name}: expected a string or null.");
    }

    private static JsonElement Prop(JsonElement el, string name, string path) =>
        el.TryGetProperty(name, out var v) ? v : throw new FormatException($"{path}.{name}: missing.");

    // ---- the mission grammar ----

    private static readonly (string Words, ObjectLocation Location)[] LocationPhrases =
    [
        ("on your left", ObjectLocation.Left), ("on your right", ObjectLocation.Right),
        ("in front of you", ObjectLocation.Front), ("behind you", ObjectLocation.Behind),
    ];

    /// <summary>
    /// Parses a BabyAI mission (the LevelGen grammar, see the GridWorld README): <c>PART</c>,
    /// <c>PART, then PART</c> or <c>PART after you PART</c>, where <c>PART</c> is an action or
    /// <c>ACTION and ACTION</c>, and an action is <c>go to D</c>, <c>pick up D</c>, <c>open D</c>
    /// or <c>put D next to D</c>. Descriptions keep their article in
    /// <see cref="DescriptionSpec.Definite"/> and have no positions. Errors quote the mission and
    /// name the part that does not parse.
    /// </summary>
    public static InstructionSpec ParseMission(string mission)
    {
        ArgumentNullException.ThrowIfNull(mission);
        try
        {
            foreach (var (sep, kind) in new[] { (", then ", InstructionKind.Before), (" after you ", InstructionKind.After) })
            {
                int i = mission.IndexOf(sep, StringComparison.Ordinal);
                if (i < 0) continue;
                var b = mission[(i + sep.Length)..];
                if (b.Contains(", then ", StringComparison.Ordinal) || b.Contains(" after you ", StringComparison.Ordinal))
                    throw new FormatException("more than one ', then' / 'after you'");
                return Sequence(kind, ParsePart(mission[..i]), ParsePart(b));
            }
            return ParsePart(mission);
        }
        catch (FormatException e)
        {
            throw new FormatException($"Mission '{mission}': {e.Message}.", e);
        }
    }

    private static InstructionSpec ParsePart(string text)
    {
        int i = text.IndexOf(" and ", StringComparison.Ordinal);
        if (i < 0) return ParseAction(text);
        return Sequence(InstructionKind.And, ParseAction(text[..i]), ParseAction(text[(i + 5)..]));
    }

    private static InstructionSpec ParseAction(string text)
    {
        if (text.StartsWith("go to ", StringComparison.Ordinal)) return new(InstructionKind.GoTo, ParseDesc(text[6..]));
        if (text.StartsWith("pick up ", StringComparison.Ordinal)) return new(InstructionKind.Pickup, ParseDesc(text[8..], noDoor: true));
        if (text.StartsWith("open ", StringComparison.Ordinal))
        {
            var d = ParseDesc(text[5..]);
            return d.Type == ObjectType.Door ? new(InstructionKind.Open, d) : throw new FormatException($"'{text}' opens something that is not a door");
        }
        if (text.StartsWith("put ", StringComparison.Ordinal))
        {
            int i = text.IndexOf(" next to ", StringComparison.Ordinal);
            if (i < 0) throw new FormatException($"'{text}' lacks 'next to'");
            return new(InstructionKind.PutNext, ParseDesc(text[4..i], noDoor: true), ParseDesc(text[(i + 9)..]));
        }
        throw new FormatException($"'{text}' does not start with 'go to', 'pick up', 'open' or 'put'");
    }

    private static DescriptionSpec ParseDesc(string text, bool noDoor = false)
    {
        ObjectLocation? loc = null;
        foreach (var (words, l) in LocationPhrases)
            if (text.EndsWith(" " + words, StringComparison.Ordinal))
            {
                loc = l;
                text = text[..^(words.Length + 1)];
                break;
            }
        var tokens = text.Split(' ');
        if (tokens.Length is < 2 or > 3) throw new FormatException($"'{text}' is not '(the|a) [colour] type'");
        bool definite = tokens[0] switch
        {
            "the" => true,
            "a" => false,
            _ => throw new FormatException($"'{text}' does not start with 'the' or 'a'"),
        };
        GridColor? color = tokens.Length == 3 ? GridConstants.ParseColor(tokens[1]) : null;
        ObjectType? type = tokens[^1] switch
        {
            "object" => null,
            "box" => ObjectType.Box,
            "ball" => ObjectType.Ball,
            "key" => ObjectType.Key,
            "door" => ObjectType.Door,
            var other => throw new FormatException($"'{other}' is not box, ball, key, door or object"),
        };
        if (noDoor && type == ObjectType.Door) throw new FormatException("a door cannot be picked up or moved");
        return new DescriptionSpec(type, color, loc, []) { Definite = definite };
    }
}
