using System.Collections;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Xml.Linq;
using RLAgents.Environments.Configuration;

namespace RLAgents.Experiments.Cli;

/// <summary>
/// Renders the configuration reference of an options class as Markdown: every key path with its
/// type, default, allowed range and the property's XML documentation. The same reflection the
/// binder uses drives it, so the reference cannot drift from what the binder accepts.
/// </summary>
internal static class ConfigReference
{
    public static string Render(Type root, string title)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"### {title}").AppendLine();
        sb.AppendLine("| key | type | default | description |");
        sb.AppendLine("|---|---|---|---|");
        Walk(root, Activator.CreateInstance(root)!, "", sb, new HashSet<Type>());
        return sb.ToString();
    }

    private static void Walk(Type type, object defaults, string prefix, StringBuilder sb, HashSet<Type> visiting, bool declaredOnly = false)
    {
        if (!visiting.Add(type)) return;
        var flags = BindingFlags.Public | BindingFlags.Instance | (declaredOnly ? BindingFlags.DeclaredOnly : 0);
        // Base-class keys first (shared options read before the ones a derived class adds), declaration order within a class.
        foreach (var p in type.GetProperties(flags)
                     .Where(p => p.CanWrite && p.SetMethod!.IsPublic && p.GetIndexParameters().Length == 0 && p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
                     .OrderBy(p => Depth(p.DeclaringType!)).ThenBy(p => p.MetadataToken))
        {
            string key = prefix + (p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(p.Name));
            object? value = p.GetValue(defaults);
            var t = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            bool nested = t.IsClass && t != typeof(string) && !typeof(IEnumerable).IsAssignableFrom(t);
            string doc = Docs(p);
            string range = p.GetCustomAttribute<RangeAttribute>() is { } r ? " " + Range(r) : "";
            string required = p.GetCustomAttribute<RequiredAttribute>() is not null ? " Required." : "";
            if (nested)
            {
                sb.AppendLine($"| `{key}` | object | | {Escape(doc)}{required} |");
                Walk(t, value ?? Activator.CreateInstance(t)!, key + ".", sb, visiting);
                continue;
            }
            if (t.IsArray && t.GetElementType() is { IsClass: true } element && element != typeof(string))
            {
                // A list of options objects: the element's own keys, and the keys it inherits by reference to where they are listed.
                string inherits = element.BaseType is { } b && b != typeof(object) ? $" Each entry also takes every key of the {JsonNamingPolicy.CamelCase.ConvertName(b.Name.Replace("Options", ""))} section above." : "";
                sb.AppendLine($"| `{key}` | object[] | | {Escape(doc + inherits + range + required)} |");
                Walk(element, Activator.CreateInstance(element)!, key + "[].", sb, visiting, declaredOnly: true);
                continue;
            }
            sb.AppendLine($"| `{key}` | {TypeName(p.PropertyType)} | {Default(value)} | {Escape(doc + range + required)} |");
        }
        visiting.Remove(type);
    }

    private static int Depth(Type t)
    {
        int depth = 0;
        for (var b = t.BaseType; b is not null; b = b.BaseType) depth++;
        return depth;
    }

    /// <summary>"Range [a, b]." or, when the upper bound is only the type's limit, "At least a.".</summary>
    private static string Range(RangeAttribute r)
    {
        double max = Convert.ToDouble(r.Maximum, CultureInfo.InvariantCulture);
        string min = Convert.ToString(r.Minimum, CultureInfo.InvariantCulture)!;
        return max >= int.MaxValue
            ? $"At least {min}."
            : string.Create(CultureInfo.InvariantCulture, $"Range [{min}, {r.Maximum}].");
    }

    private static string TypeName(Type t)
    {
        var u = Nullable.GetUnderlyingType(t);
        if (u is not null) return TypeName(u) + " or null";
        if (t == typeof(JsonElement)) return "object (free-form)";
        if (t.IsEnum) return string.Join(" \\| ", Enum.GetNames(t).Select(JsonNamingPolicy.CamelCase.ConvertName));
        if (t.IsArray) return TypeName(t.GetElementType()!) + "[]";
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>)) return TypeName(t.GetGenericArguments()[0]) + "[]";
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Dictionary<,>)) return "map of " + TypeName(t.GetGenericArguments()[1]);
        return t == typeof(int) || t == typeof(long) ? "integer" : t == typeof(double) || t == typeof(float) ? "number" : t == typeof(bool) ? "bool" : t == typeof(string) ? "string" : t.Name;
    }

    private static string Default(object? value) => value switch
    {
        null => "",
        JsonElement => "",
        _ when value.GetType().IsClass && value is not string && value is not IEnumerable => "",
        _ => "`" + OptionsBinder.Serialize(value).Replace("\n", "").Replace("  ", "") + "`",
    };

    private static string Escape(string s) => s.Replace("|", "\\|").Replace("\n", " ").Trim();

    private static readonly Dictionary<Assembly, XDocument?> XmlDocs = new();

    /// <summary>The &lt;summary&gt; of a property from its assembly's generated XML documentation file.</summary>
    private static string Docs(PropertyInfo p)
    {
        var assembly = p.DeclaringType!.Assembly;
        if (!XmlDocs.TryGetValue(assembly, out var xml))
        {
            string file = Path.ChangeExtension(assembly.Location, ".xml");
            xml = File.Exists(file) ? XDocument.Load(file) : null;
            XmlDocs[assembly] = xml;
        }
        string member = $"P:{p.DeclaringType!.FullName!.Replace('+', '.')}.{p.Name}";
        var summary = xml?.Descendants("member").FirstOrDefault(m => (string?)m.Attribute("name") == member)?.Element("summary");
        if (summary is null) return "";
        // <see cref="T:X.Y"/> and <c>code</c> become plain text.
        var text = string.Concat(summary.Nodes().Select(n => n switch
        {
            XText t => t.Value,
            // A method cref carries its parameter list ("M:N.T.Run(N.A,N.B)"): name the method, not its last parameter.
            XElement { Name.LocalName: "see" } e => ((string?)e.Attribute("cref"))?.Split('(')[0].Split('.').Last() ?? (string?)e.Attribute("langword") ?? e.Value,
            XElement { Name.LocalName: "c" } e => "`" + e.Value + "`",
            XElement e => e.Value,
            _ => "",
        }));
        return string.Join(' ', text.Split((char[])['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries));
    }
}
