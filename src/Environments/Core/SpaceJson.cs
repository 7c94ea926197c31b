using System.Text.Json;
using System.Text.Json.Nodes;

namespace RLAgents.Environments;

/// <summary>
/// Spaces as JSON, for everything that describes a policy outside the process: an exported model's
/// metadata, a policy server's <c>/v1/spaces</c>. Every field of a space is kept, so reading gives
/// back an equal space. Keys are snake_case; a Box's bounds are one number when all elements share
/// it and an array (row-major) otherwise; infinite bounds are the strings <c>"inf"</c> and <c>"-inf"</c>.
/// <code>
/// {"type": "box", "dtype": "uint8", "shape": [7, 7, 3], "low": 0, "high": [10, 5, 2, …]}
/// {"type": "discrete", "n": 4, "start": 0}
/// {"type": "text", "max_length": 10, "vocabulary": ["go", "to", …]}   (or "charset", "min_length")
/// {"type": "observation", "modalities": [{"name": "image", "space": {…}}, …]}
/// </code>
/// </summary>
public static class SpaceJson
{
    /// <summary>The JSON of <paramref name="space"/> (Box, Discrete, MultiDiscrete, Text or an observation space).</summary>
    public static JsonObject Write(Space space) => space switch
    {
        BoxSpace box => new JsonObject
        {
            ["type"] = "box",
            ["dtype"] = box.DType == DType.Float32 ? "float32" : "uint8",
            ["shape"] = new JsonArray(box.ShapeArray().Select(d => (JsonNode)d).ToArray()),
            ["low"] = Bounds(box.Low),
            ["high"] = Bounds(box.High),
        },
        DiscreteSpace d => new JsonObject { ["type"] = "discrete", ["n"] = d.N, ["start"] = d.Start },
        MultiDiscreteSpace md => new JsonObject { ["type"] = "multi_discrete", ["nvec"] = new JsonArray(md.Nvec.ToArray().Select(n => (JsonNode)n).ToArray()) },
        TextSpace { Vocabulary: { } words } t => new JsonObject
        {
            ["type"] = "text", ["max_length"] = t.MaxLength, ["vocabulary"] = new JsonArray(words.Select(w => (JsonNode)w).ToArray()),
        },
        TextSpace t => new JsonObject { ["type"] = "text", ["max_length"] = t.MaxLength, ["min_length"] = t.MinLength, ["charset"] = t.Charset },
        ObservationSpace o => new JsonObject
        {
            ["type"] = "observation",
            ["modalities"] = new JsonArray(o.Modalities.Select(m => (JsonNode)new JsonObject { ["name"] = m.Name, ["space"] = Write(m.Space) }).ToArray()),
        },
        _ => throw new ArgumentException($"{space} has no JSON form.", nameof(space)),
    };

    /// <summary>Parses a space written by <see cref="Write"/>; <paramref name="path"/> names the value in errors.</summary>
    /// <exception cref="InvalidDataException">A missing or malformed field, named by its path.</exception>
    public static Space Read(JsonNode? node, string path)
    {
        if (node is not JsonObject o) throw new InvalidDataException($"{path}: expected a space object");
        string type = String(o, "type", path);
        try
        {
            switch (type)
            {
                case "box":
                    var shape = Array(o, "shape", path).Select((d, i) => Int(d, $"{path}.shape[{i}]")).ToArray();
                    var dtype = String(o, "dtype", path) switch
                    {
                        "float32" => DType.Float32,
                        "uint8" => DType.UInt8,
                        var other => throw new InvalidDataException($"{path}.dtype: '{other}' is not float32 or uint8"),
                    };
                    int size = shape.Aggregate(1, (a, b) => checked(a * b));
                    return new BoxSpace(ReadBounds(o["low"], size, $"{path}.low"), ReadBounds(o["high"], size, $"{path}.high"), shape, dtype);
                case "discrete":
                    return new DiscreteSpace(Int(o["n"], $"{path}.n"), o["start"] is null ? 0 : Int(o["start"], $"{path}.start"));
                case "multi_discrete":
                    return new MultiDiscreteSpace(Array(o, "nvec", path).Select((n, i) => Int(n, $"{path}.nvec[{i}]")).ToArray());
                case "text":
                    int max = Int(o["max_length"], $"{path}.max_length");
                    if (o["vocabulary"] is not null)
                        return new TextSpace(max, Array(o, "vocabulary", path).Select((w, i) => Str(w, $"{path}.vocabulary[{i}]")));
                    return new TextSpace(max, String(o, "charset", path), o["min_length"] is null ? 0 : Int(o["min_length"], $"{path}.min_length"));
                case "observation":
                    var modalities = Array(o, "modalities", path).Select((m, i) =>
                    {
                        string at = $"{path}.modalities[{i}]";
                        if (m is not JsonObject mo) throw new InvalidDataException($"{at}: expected an object with name and space");
                        return new Modality(String(mo, "name", at), Read(mo["space"], $"{at}.space"));
                    }).ToArray();
                    return new ObservationSpace(modalities);
                default:
                    throw new InvalidDataException($"{path}.type: unknown space type '{type}'");
            }
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}");
        }
    }

    /// <summary>Parses an observation space written by <see cref="Write"/>.</summary>
    public static ObservationSpace ReadObservation(JsonNode? node, string path) =>
        Read(node, path) as ObservationSpace ?? throw new InvalidDataException($"{path}: expected an observation space");

    /// <summary>Parses a Discrete space written by <see cref="Write"/>.</summary>
    public static DiscreteSpace ReadDiscrete(JsonNode? node, string path) =>
        Read(node, path) as DiscreteSpace ?? throw new InvalidDataException($"{path}: expected a discrete space");

    private static JsonNode Bounds(ReadOnlySpan<float> values)
    {
        float first = values[0];
        bool uniform = true;
        foreach (float v in values) uniform &= v.Equals(first);
        if (uniform) return Bound(first);
        var array = new JsonArray();
        foreach (float v in values) array.Add(Bound(v));
        return array;
    }

    private static JsonNode Bound(float v) =>
        float.IsPositiveInfinity(v) ? JsonValue.Create("inf") : float.IsNegativeInfinity(v) ? JsonValue.Create("-inf") : JsonValue.Create(v);

    private static float[] ReadBounds(JsonNode? node, int size, string path)
    {
        if (node is JsonArray a)
        {
            if (a.Count != size) throw new InvalidDataException($"{path}: expected {size} bounds, got {a.Count}");
            return a.Select((v, i) => ReadBound(v, $"{path}[{i}]")).ToArray();
        }
        return Enumerable.Repeat(ReadBound(node, path), size).ToArray();
    }

    private static float ReadBound(JsonNode? node, string path)
    {
        if (node is JsonValue v)
        {
            if (v.TryGetValue(out string? s))
                return s switch
                {
                    "inf" => float.PositiveInfinity,
                    "-inf" => float.NegativeInfinity,
                    _ => throw new InvalidDataException($"{path}: '{s}' is not a number, \"inf\" or \"-inf\""),
                };
            if (v.GetValueKind() == JsonValueKind.Number) return v.GetValue<float>();
        }
        throw new InvalidDataException($"{path}: expected a number");
    }

    private static string String(JsonObject o, string key, string path) => Str(o[key], $"{path}.{key}");

    private static string Str(JsonNode? node, string path) =>
        node is JsonValue v && v.TryGetValue(out string? s) ? s : throw new InvalidDataException($"{path}: expected a string");

    private static int Int(JsonNode? node, string path) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out int i)
            ? i
            : throw new InvalidDataException($"{path}: expected an integer, got {node?.ToJsonString() ?? "nothing"}");

    private static JsonArray Array(JsonObject o, string key, string path) =>
        o[key] as JsonArray ?? throw new InvalidDataException($"{path}.{key}: expected an array");
}
