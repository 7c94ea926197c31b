using System.Text;
using System.Text.Json;

namespace RLAgents.Environments.GridWorld.Demonstrations;

/// <summary>
/// Demonstration files are JSON Lines, one episode per line (UTF-8, no byte-order mark):
/// <code>
/// {"format":"rlagents-demos-v1","env_id":"BabyAI-GoToLocal-v0","seed":123,"mission":"go to the red ball",
///  "actions":[1,2,2],"images":["&lt;base64 of 147 bytes&gt;",…],"directions":[0,1,1],
///  "rewards":[0,0,0.9578125],"return":0.9578125,"length":3,"success":true,
///  "descriptions":["You see …",…]}
/// </code>
/// <c>images[t]</c>, <c>directions[t]</c> and the optional <c>descriptions[t]</c> are what the
/// agent observed before <c>actions[t]</c>; <c>rewards[t]</c> followed it. Images use Minigrid's
/// view layout: byte <c>((vx*7)+vy)*3+ch</c>, channels (object, colour, state). Rewards are
/// written with round-trip precision. Replaying <c>actions</c> after <c>Reset(seed)</c> of
/// <c>env_id</c> reproduces the episode.
/// </summary>
public static class DemonstrationFormat
{
    /// <summary>The value of the <c>format</c> field.</summary>
    public const string FormatName = "rlagents-demos-v1";
}

/// <summary>Writes demonstrations as JSON Lines (see <see cref="DemonstrationFormat"/>).</summary>
public sealed class DemonstrationWriter : IDisposable
{
    private readonly TextWriter _writer;
    private readonly bool _ownsWriter;

    /// <summary>Writes to <paramref name="writer"/>; <paramref name="ownsWriter"/> disposes it with this writer.</summary>
    public DemonstrationWriter(TextWriter writer, bool ownsWriter = false)
    {
        _writer = writer;
        _ownsWriter = ownsWriter;
    }

    /// <summary>Creates (or overwrites) a file.</summary>
    public static DemonstrationWriter Create(string path) =>
        new(new StreamWriter(path, append: false, new UTF8Encoding(false)), ownsWriter: true);

    /// <summary>Episodes written so far.</summary>
    public int Count { get; private set; }

    /// <summary>Appends one episode as one line.</summary>
    public void Write(Demonstration demo)
    {
        demo.Validate();
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("format", DemonstrationFormat.FormatName);
            json.WriteString("env_id", demo.EnvId);
            json.WriteNumber("seed", demo.Seed);
            json.WriteString("mission", demo.Mission);
            json.WriteStartArray("actions");
            foreach (int a in demo.Actions) json.WriteNumberValue(a);
            json.WriteEndArray();
            json.WriteStartArray("images");
            foreach (var img in demo.Images) json.WriteStringValue(Convert.ToBase64String(img));
            json.WriteEndArray();
            json.WriteStartArray("directions");
            foreach (int d in demo.Directions) json.WriteNumberValue(d);
            json.WriteEndArray();
            json.WriteStartArray("rewards");
            foreach (double r in demo.Rewards) json.WriteNumberValue(r);
            json.WriteEndArray();
            json.WriteNumber("return", demo.Return);
            json.WriteNumber("length", demo.Length);
            json.WriteBoolean("success", demo.Success);
            if (demo.Descriptions is { } descriptions)
            {
                json.WriteStartArray("descriptions");
                foreach (var d in descriptions) json.WriteStringValue(d);
                json.WriteEndArray();
            }
            json.WriteEndObject();
        }
        _writer.Write(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        _writer.Write('\n');
        Count++;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _writer.Flush();
        if (_ownsWriter) _writer.Dispose();
    }
}

/// <summary>Reads demonstration files (see <see cref="DemonstrationFormat"/>); errors name the line and key.</summary>
public static class DemonstrationReader
{
    /// <summary>Reads every episode of a file.</summary>
    public static List<Demonstration> ReadAll(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        return Read(reader, path).ToList();
    }

    /// <summary>Reads episodes line by line; blank lines are skipped.</summary>
    public static IEnumerable<Demonstration> Read(TextReader reader, string source = "demonstrations")
    {
        int lineNo = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            yield return Parse(line, $"{source}:{lineNo}");
        }
    }

    /// <summary>Parses one line.</summary>
    public static Demonstration Parse(string line, string where = "line")
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{where}: not valid JSON ({e.Message}).", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            string format = Get(root, "format", where).GetString() ?? "";
            if (format != DemonstrationFormat.FormatName)
                throw new FormatException($"{where}: $.format is '{format}', expected '{DemonstrationFormat.FormatName}'.");
            try
            {
                var demo = new Demonstration
                {
                    EnvId = Get(root, "env_id", where).GetString() ?? throw new FormatException($"{where}: $.env_id is null."),
                    Seed = Get(root, "seed", where).GetInt64(),
                    Mission = Get(root, "mission", where).GetString() ?? "",
                    Actions = Get(root, "actions", where).EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                    Images = Get(root, "images", where).EnumerateArray().Select(e => Convert.FromBase64String(e.GetString() ?? "")).ToArray(),
                    Directions = Get(root, "directions", where).EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                    Rewards = Get(root, "rewards", where).EnumerateArray().Select(e => e.GetDouble()).ToArray(),
                    Success = Get(root, "success", where).GetBoolean(),
                    Descriptions = root.TryGetProperty("descriptions", out var d) ? d.EnumerateArray().Select(e => e.GetString() ?? "").ToArray() : null,
                };
                demo.Validate();
                return demo;
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException && e.Message.IndexOf(where, StringComparison.Ordinal) < 0)
            {
                throw new FormatException($"{where}: {e.Message}", e);
            }
        }
    }

    private static JsonElement Get(JsonElement root, string name, string where) =>
        root.TryGetProperty(name, out var v) ? v : throw new FormatException($"{where}: missing key $.{name}.");
}
