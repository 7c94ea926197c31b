using System.Collections;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace RLAgents.Environments.Configuration;

/// <summary>
/// Strict binding of JSON configuration onto options classes. Keys are the camelCase names of
/// public settable properties; an unknown key, a value of the wrong JSON type, an enum name that
/// does not exist or a value that fails its DataAnnotations attributes ([Range], [Required],
/// [MinLength], <see cref="IValidatableObject"/>) throws a <see cref="ConfigurationException"/>
/// naming the key path. Properties absent from the JSON keep the defaults of the class.
/// Supported property types: bool, integers, float, double, string, enums (by name), nullable
/// forms, arrays and <see cref="List{T}"/> of these, <see cref="Dictionary{TKey,TValue}"/> with
/// string keys, nested options classes, and <see cref="JsonElement"/> (kept raw, bound later).
/// </summary>
public static class OptionsBinder
{
    /// <summary>Serializer settings matching the binder: camelCase keys, enums as camelCase names, indented.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Binds <paramref name="json"/> (an object) to a new <typeparamref name="T"/>.</summary>
    public static T Bind<T>(JsonElement json, string path = "") where T : new() => (T)Bind(json, typeof(T), path);

    /// <summary>Binds <paramref name="json"/> (an object) to a new instance of <paramref name="type"/>.</summary>
    public static object Bind(JsonElement json, Type type, string path = "")
    {
        return ReadValue(json, type, path);
    }

    /// <summary>Reads and binds a JSON file; a missing or malformed file is a <see cref="ConfigurationException"/>.</summary>
    public static T BindFile<T>(string file, IEnumerable<string>? overrides = null) where T : new()
    {
        var node = LoadFile(file);
        if (overrides is not null)
            foreach (var o in overrides) ApplyOverride(node, o);
        using var doc = JsonDocument.Parse(node.ToJsonString());
        return Bind<T>(doc.RootElement);
    }

    /// <summary>Parses a JSON object file into a mutable tree (comments and trailing commas allowed).</summary>
    public static JsonObject LoadFile(string file)
    {
        if (Directory.Exists(file)) throw new ConfigurationException("", $"'{file}' is a folder, not a configuration file");
        if (!File.Exists(file)) throw new ConfigurationException("", $"configuration file '{file}' does not exist");
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(file), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return node as JsonObject ?? throw new ConfigurationException("", $"'{file}' must hold a JSON object");
        }
        catch (JsonException e)
        {
            throw new ConfigurationException("", $"'{file}' is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {FirstLine(e.Message)}");
        }
    }

    /// <summary>
    /// Applies one <c>path=value</c> override (e.g. <c>algorithm.ppo.learningRate=1e-3</c>,
    /// <c>env.id=CartPole-v1</c>, <c>phases[1].steps=50000</c>) to a configuration tree. The value
    /// is parsed as JSON when it is valid JSON (numbers, true/false, arrays, objects, quoted
    /// strings) and taken as a string otherwise. Missing intermediate objects are created; an
    /// index addresses an existing array element (the same <c>key[i]</c> form errors report);
    /// the binder then rejects unknown keys.
    /// </summary>
    public static void ApplyOverride(JsonObject root, string assignment)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0) throw new ConfigurationException("", $"--set expects path=value, got '{assignment}'");
        string path = assignment[..eq].Trim();
        string raw = assignment[(eq + 1)..];
        JsonNode? value;
        try { value = JsonNode.Parse(raw); }
        catch (JsonException) { value = JsonValue.Create(raw); }
        var parts = path.Split('.');
        if (parts.Any(string.IsNullOrWhiteSpace)) throw new ConfigurationException(path, "empty segment in --set path");
        JsonNode current = root;
        string walked = "";
        for (int i = 0; i < parts.Length; i++)
        {
            var (key, indices) = ParseSegment(parts[i], path);
            bool last = i == parts.Length - 1;
            var obj = current as JsonObject ?? throw new ConfigurationException(walked, "is not an object, so it has no keys to set");
            walked = walked.Length == 0 ? key : $"{walked}.{key}";
            if (last && indices.Count == 0) { obj[key] = value; return; }
            if (obj[key] is null)
            {
                if (indices.Count > 0) throw new ConfigurationException(walked, "is not set, so it has no elements to index");
                obj[key] = new JsonObject();
            }
            current = obj[key]!;
            for (int k = 0; k < indices.Count; k++)
            {
                var array = current as JsonArray ?? throw new ConfigurationException(walked, "is not an array, so it cannot be indexed");
                int index = indices[k];
                if (index >= array.Count) throw new ConfigurationException($"{walked}[{index}]", $"is out of range: the array has {array.Count} element(s)");
                walked += $"[{index}]";
                if (last && k == indices.Count - 1) { array[index] = value; return; }
                current = array[index] ?? throw new ConfigurationException(walked, "is null, so it has no keys to set");
            }
        }
    }

    /// <summary>Splits <c>key[i][j]</c> into the key and its indices.</summary>
    private static (string Key, List<int> Indices) ParseSegment(string segment, string path)
    {
        int bracket = segment.IndexOf('[');
        if (bracket < 0) return (segment, []);
        string key = segment[..bracket];
        var indices = new List<int>();
        string rest = segment[bracket..];
        while (rest.Length > 0)
        {
            int close = rest.IndexOf(']');
            if (rest[0] != '[' || close < 0 || !int.TryParse(rest[1..close], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index))
                throw new ConfigurationException(path, $"'{segment}' is not key or key[index]");
            indices.Add(index);
            rest = rest[(close + 1)..];
        }
        if (key.Length == 0) throw new ConfigurationException(path, $"'{segment}' has no key before its index");
        return (key, indices);
    }

    /// <summary>Serializes options to JSON with the binder's conventions (for resolved configs in run directories).</summary>
    public static string Serialize(object options) => JsonSerializer.Serialize(options, options.GetType(), JsonOptions);

    private static object ReadValue(JsonElement json, Type type, string path)
    {
        if (type == typeof(JsonElement)) return json.Clone();
        var underlying = Nullable.GetUnderlyingType(type);
        if (underlying is not null)
            return json.ValueKind == JsonValueKind.Null ? null! : ReadValue(json, underlying, path);
        if (type == typeof(string))
            return json.ValueKind == JsonValueKind.String ? json.GetString()! : throw Expected(path, "a string", json);
        if (type == typeof(bool))
            return json.ValueKind is JsonValueKind.True or JsonValueKind.False ? json.GetBoolean() : throw Expected(path, "true or false", json);
        if (type.IsEnum) return ReadEnum(json, type, path);
        if (IsNumber(type)) return ReadNumber(json, type, path);
        if (type.IsArray)
        {
            var list = ReadList(json, type.GetElementType()!, path);
            var array = Array.CreateInstance(type.GetElementType()!, list.Count);
            for (int i = 0; i < list.Count; i++) array.SetValue(list[i], i);
            return array;
        }
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            var list = (IList)Activator.CreateInstance(type)!;
            foreach (var item in ReadList(json, type.GetGenericArguments()[0], path)) list.Add(item);
            return list;
        }
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            if (type.GetGenericArguments()[0] != typeof(string)) throw new InvalidOperationException($"Options dictionaries need string keys ({path}).");
            if (json.ValueKind != JsonValueKind.Object) throw Expected(path, "an object", json);
            var dict = (IDictionary)Activator.CreateInstance(type)!;
            foreach (var p in json.EnumerateObject())
                dict[p.Name] = ReadValue(p.Value, type.GetGenericArguments()[1], Join(path, p.Name));
            return dict;
        }
        if (type.IsClass) return ReadObject(json, type, path);
        throw new InvalidOperationException($"OptionsBinder cannot bind type {type.Name} at '{path}'.");
    }

    private static object ReadObject(JsonElement json, Type type, string path)
    {
        if (json.ValueKind != JsonValueKind.Object) throw Expected(path, "an object", json);
        object target = Activator.CreateInstance(type)
            ?? throw new InvalidOperationException($"{type.Name} needs a public parameterless constructor.");
        var props = Properties(type);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in json.EnumerateObject())
        {
            string keyPath = Join(path, p.Name);
            if (!props.TryGetValue(p.Name, out var prop))
            {
                string known = props.Count == 0 ? "none" : string.Join(", ", props.Keys.Order(StringComparer.Ordinal));
                string? close = Closest(p.Name, props.Keys);
                throw new ConfigurationException(keyPath, close is not null
                    ? $"unknown key; did you mean '{close}'?"
                    : $"unknown key (known keys here: {known})");
            }
            if (!seen.Add(p.Name)) throw new ConfigurationException(keyPath, "key given twice");
            prop.SetValue(target, ReadValue(p.Value, prop.PropertyType, keyPath));
        }
        Validate(target, path);
        return target;
    }

    /// <summary>Runs DataAnnotations validation on an already built options object, naming the failing key path.</summary>
    public static void Validate(object target, string path = "")
    {
        var props = Properties(target.GetType());
        foreach (var (key, prop) in props)
        {
            object? value = prop.GetValue(target);
            foreach (var attr in prop.GetCustomAttributes<ValidationAttribute>())
            {
                if (!attr.IsValid(value))
                    throw new ConfigurationException(Join(path, key), Describe(attr, value));
            }
        }
        if (target is IValidatableObject v)
        {
            var results = v.Validate(new ValidationContext(target)).ToList();
            if (results.Count > 0)
            {
                var r = results[0];
                string member = r.MemberNames.FirstOrDefault() is { } m ? JsonNamingPolicy.CamelCase.ConvertName(m) : "";
                throw new ConfigurationException(member.Length > 0 ? Join(path, member) : path, r.ErrorMessage ?? "invalid value");
            }
        }
    }

    private static string Describe(ValidationAttribute attr, object? value) => attr switch
    {
        RangeAttribute r => $"{Show(value)} is out of range [{Convert.ToString(r.Minimum, CultureInfo.InvariantCulture)}, {Convert.ToString(r.Maximum, CultureInfo.InvariantCulture)}]"
                            + (r.MinimumIsExclusive || r.MaximumIsExclusive ? " (exclusive bounds)" : ""),
        RequiredAttribute => "is required",
        MinLengthAttribute m => $"needs at least {m.Length} entries",
        MaxLengthAttribute m => $"allows at most {m.Length} entries",
        _ => attr.FormatErrorMessage("value") + $" (got {Show(value)})",
    };

    private static string Show(object? v) => v switch
    {
        null => "null",
        string s => $"'{s}'",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    private static List<object> ReadList(JsonElement json, Type element, string path)
    {
        if (json.ValueKind != JsonValueKind.Array) throw Expected(path, "an array", json);
        var list = new List<object>();
        int i = 0;
        foreach (var item in json.EnumerateArray())
            list.Add(ReadValue(item, element, $"{path}[{i++}]"));
        return list;
    }

    private static object ReadEnum(JsonElement json, Type type, string path)
    {
        string names = string.Join(", ", Enum.GetNames(type).Select(JsonNamingPolicy.CamelCase.ConvertName));
        if (json.ValueKind != JsonValueKind.String) throw Expected(path, $"one of: {names}", json);
        string s = json.GetString()!;
        foreach (var n in Enum.GetNames(type))
            if (string.Equals(n, s, StringComparison.OrdinalIgnoreCase) || string.Equals(n.Replace("_", ""), s.Replace("-", "").Replace("_", ""), StringComparison.OrdinalIgnoreCase))
                return Enum.Parse(type, n);
        throw new ConfigurationException(path, $"'{s}' is not one of: {names}");
    }

    private static bool IsNumber(Type t) => t == typeof(int) || t == typeof(long) || t == typeof(double) || t == typeof(float)
        || t == typeof(short) || t == typeof(byte) || t == typeof(uint) || t == typeof(ulong) || t == typeof(decimal);

    private static object ReadNumber(JsonElement json, Type type, string path)
    {
        if (json.ValueKind != JsonValueKind.Number) throw Expected(path, "a number", json);
        bool ok;
        object value;
        if (type == typeof(int)) { ok = json.TryGetInt32(out var v); value = v; }
        else if (type == typeof(long)) { ok = json.TryGetInt64(out var v); value = v; }
        else if (type == typeof(short)) { ok = json.TryGetInt16(out var v); value = v; }
        else if (type == typeof(byte)) { ok = json.TryGetByte(out var v); value = v; }
        else if (type == typeof(uint)) { ok = json.TryGetUInt32(out var v); value = v; }
        else if (type == typeof(ulong)) { ok = json.TryGetUInt64(out var v); value = v; }
        else if (type == typeof(decimal)) { ok = json.TryGetDecimal(out var v); value = v; }
        else if (type == typeof(float)) { ok = json.TryGetSingle(out var v) && float.IsFinite(v); value = v; }
        else { ok = json.TryGetDouble(out var v) && double.IsFinite(v); value = v; }
        if (!ok)
        {
            string kind = type == typeof(float) || type == typeof(double) || type == typeof(decimal) ? "a finite number" : $"a whole number that fits {type.Name}";
            throw new ConfigurationException(path, $"expected {kind}, got {json.GetRawText()}");
        }
        return value;
    }

    private static Dictionary<string, PropertyInfo> Properties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.SetMethod!.IsPublic && p.GetIndexParameters().Length == 0 && p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
            .ToDictionary(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(p.Name), StringComparer.Ordinal);

    private static ConfigurationException Expected(string path, string what, JsonElement got) =>
        new(path, $"expected {what}, got {Kind(got)}");

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{e.GetString()}\"",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"{e.GetRawText()}",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    /// <summary>The known key a typo most likely meant: same letters ignoring case, or within two edits.</summary>
    private static string? Closest(string key, IEnumerable<string> known)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var k in known)
        {
            int d = string.Equals(k, key, StringComparison.OrdinalIgnoreCase) ? 0 : EditDistance(k.ToLowerInvariant(), key.ToLowerInvariant());
            if (d < bestDistance) (best, bestDistance) = (k, d);
        }
        return bestDistance <= Math.Min(2, Math.Max(1, key.Length / 3)) ? best : null;
    }

    private static int EditDistance(string a, string b)
    {
        var row = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) row[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
}
