using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RLAgents.Core.Metrics;

/// <summary>
/// One row of a run's <c>metrics.jsonl</c>. Keys follow one convention in every kind of run:
/// lower-case <c>snake_case</c> (letters, digits, underscores). Identity fields (integers, strings)
/// come first in the order they were set; metric values follow in key order. Wall-clock figures,
/// which differ between two runs with one seed, live under the nested <c>wall</c> object, so rows
/// of such runs compare equal without it. Histograms (<see cref="Histogram"/>) go to sinks that can hold
/// them (TensorBoard) and are not part of the JSON line.
/// </summary>
public sealed partial class MetricsRow
{
    private readonly List<(string Key, object Value)> _fields = [];
    private readonly SortedDictionary<string, double?> _metrics = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, double> _wall = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, MetricsHistogram> _histograms = new(StringComparer.Ordinal);

    /// <summary>Adds an integer identity field (e.g. <c>step</c>, <c>episodes</c>).</summary>
    public MetricsRow Set(string key, long value) => AddField(key, value);

    /// <summary>Adds a string identity field (e.g. <c>phase</c>).</summary>
    public MetricsRow Set(string key, string value) => AddField(key, value);

    /// <summary>Adds a metric; a non-finite value is written as <c>null</c>, and a null one (not applicable here) is left out.</summary>
    public MetricsRow Metric(string key, double? value)
    {
        CheckKey(key);
        if (value is double v) _metrics[key] = double.IsFinite(v) ? v : null;
        return this;
    }

    /// <summary>Adds every metric of <paramref name="metrics"/>.</summary>
    public MetricsRow Metrics(IEnumerable<KeyValuePair<string, double>> metrics)
    {
        foreach (var (k, v) in metrics) Metric(k, v);
        return this;
    }

    /// <summary>Adds a wall-clock figure (seconds, throughput) under <c>wall</c>.</summary>
    public MetricsRow Wall(string key, double value)
    {
        CheckKey(key);
        if (double.IsFinite(value)) _wall[key] = value;
        return this;
    }

    /// <summary>Adds a histogram (a copy of <paramref name="histogram"/> as it is now); an empty one is left out.</summary>
    public MetricsRow Histogram(string key, MetricsHistogram histogram)
    {
        CheckKey(key);
        if (histogram.Count > 0) _histograms[key] = histogram.Clone();
        return this;
    }

    /// <summary>The metrics set so far.</summary>
    public IReadOnlyDictionary<string, double?> MetricValues => _metrics;

    /// <summary>The wall-clock figures set so far.</summary>
    public IReadOnlyDictionary<string, double> WallValues => _wall;

    /// <summary>The histograms set so far.</summary>
    public IReadOnlyDictionary<string, MetricsHistogram> Histograms => _histograms;

    /// <summary>The integer identity field <paramref name="key"/>, or null when the row has none.</summary>
    public long? Integer(string key) => _fields.FirstOrDefault(f => f.Key == key).Value is long l ? l : null;

    /// <summary>True when <paramref name="key"/> is a valid metrics key: <c>^[a-z][a-z0-9_]*$</c>.</summary>
    public static bool IsValidKey(string key) => KeyPattern().IsMatch(key);

    /// <summary>
    /// A name (e.g. a task label <c>GoToLocal</c> or <c>PutNextS5N3</c>) as a key part in snake_case:
    /// <c>go_to_local</c>, <c>put_next_s5_n3</c>. Words split before a capital that follows a lower-case
    /// letter or digit, or that starts a word after an acronym; other characters become underscores.
    /// </summary>
    public static string ToKeyPart(string name)
    {
        var sb = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsAsciiLetterUpper(c))
            {
                bool afterWord = i > 0 && (char.IsAsciiLetterLower(name[i - 1]) || char.IsAsciiDigit(name[i - 1]));
                bool endsAcronym = i > 0 && char.IsAsciiLetterUpper(name[i - 1]) && i + 1 < name.Length && char.IsAsciiLetterLower(name[i + 1]);
                if ((afterWord || endsAcronym) && sb.Length > 0 && sb[^1] != '_') sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else if (char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)) sb.Append(c);
            else if (sb.Length > 0 && sb[^1] != '_') sb.Append('_');
        }
        string key = sb.ToString().TrimEnd('_');
        return key.Length > 0 && char.IsAsciiLetterLower(key[0]) ? key : "x_" + key;
    }

    /// <summary>The row as one line of JSON (no newline).</summary>
    public string ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            foreach (var (key, value) in _fields)
            {
                if (value is long l) w.WriteNumber(key, l);
                else w.WriteString(key, (string)value);
            }
            foreach (var (key, value) in _metrics)
            {
                w.WritePropertyName(key);
                if (value is double v) w.WriteRawValue(FormatFloat(v));
                else w.WriteNullValue();
            }
            if (_wall.Count > 0)
            {
                w.WriteStartObject("wall");
                foreach (var (key, value) in _wall)
                {
                    w.WritePropertyName(key);
                    w.WriteRawValue(FormatFloat(value));
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A float as a JSON float: shortest round-trip digits, always with a fraction or exponent (<c>1.0</c>, not <c>1</c>).</summary>
    public static string FormatFloat(double value)
    {
        string s = value.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains('.') || s.Contains('E') ? s : s + ".0";
    }

    private MetricsRow AddField(string key, object value)
    {
        CheckKey(key);
        if (_fields.Any(f => f.Key == key)) throw new ArgumentException($"Metrics field '{key}' is set twice.", nameof(key));
        _fields.Add((key, value));
        return this;
    }

    private static void CheckKey(string key)
    {
        if (!IsValidKey(key)) throw new ArgumentException($"Metrics key '{key}' is not snake_case (^[a-z][a-z0-9_]*$).", nameof(key));
    }

    [GeneratedRegex("^[a-z][a-z0-9_]*$")]
    private static partial Regex KeyPattern();
}

/// <summary>A destination of metrics rows (<c>metrics.jsonl</c>, TensorBoard event files); <see cref="RunMetrics"/> feeds each row to every sink.</summary>
public interface IMetricsSink : IDisposable
{
    /// <summary>Writes <paramref name="row"/> durably enough that a killed process keeps every earlier row.</summary>
    void Write(MetricsRow row);
}

/// <summary>
/// Appends <see cref="MetricsRow"/>s to a run's <c>metrics.jsonl</c>, one complete line per write
/// (flushed, so a killed process leaves whole lines and at most one torn last line).
/// </summary>
public sealed class MetricsWriter : IMetricsSink
{
    /// <summary>The file name in a run directory.</summary>
    public const string FileName = "metrics.jsonl";

    private readonly FileStream _file;

    private MetricsWriter(FileStream file) => _file = file;

    /// <summary>Creates a new metrics file (an existing one is an error: runs never overwrite their metrics).</summary>
    public static MetricsWriter Create(string path) => new(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read));

    /// <summary>
    /// Opens <paramref name="path"/> to continue a run: keeps the leading rows that <paramref name="keep"/>
    /// accepts (the rows written up to the checkpoint being resumed) and drops the rest, including a
    /// torn last line left by a killed process. Returns the writer and how many lines were dropped.
    /// </summary>
    /// <exception cref="InputException">A line before the last is not a JSON object (damage a killed writer cannot leave):
    /// one line naming the file, the line and its byte offset; the file is left as it was.</exception>
    public static MetricsWriter Resume(string path, Func<JsonElement, bool> keep, out int dropped) => Resume(path, keep, out dropped, out _);

    /// <summary>As <see cref="Resume(string, Func{JsonElement, bool}, out int)"/>, also returning the kept rows (for sinks rebuilt from them).</summary>
    public static MetricsWriter Resume(string path, Func<JsonElement, bool> keep, out int dropped, out IReadOnlyList<JsonElement> keptRows)
    {
        dropped = 0;
        var rows = new List<JsonElement>();
        keptRows = rows;
        var kept = new StringBuilder();
        foreach (var (text, row) in ReadRows(path))
        {
            if (row is { } r && dropped == 0 && keep(r))
            {
                kept.Append(text).Append('\n');
                rows.Add(r);
            }
            else dropped++;
        }
        AtomicFile.WriteText(path, kept.ToString());
        return new MetricsWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read));
    }

    /// <summary>
    /// Throws what <see cref="Resume(string, Func{JsonElement, bool}, out int)"/> would for a file damaged before its
    /// last line, without changing anything: a resume checks this before it touches the run directory.
    /// </summary>
    /// <exception cref="InputException">A line before the last is not a JSON object.</exception>
    public static void CheckResumable(string path) => _ = ReadRows(path).Count;

    // The non-empty lines of the file with their rows; a torn last line has none. Damage before the last line throws.
    private static List<(string Text, JsonElement? Row)> ReadRows(string path)
    {
        var lines = new List<(string, JsonElement?)>();
        if (!File.Exists(path)) return lines;
        byte[] bytes = File.ReadAllBytes(path);
        int start = 0, number = 0;
        while (start < bytes.Length)
        {
            int end = Array.IndexOf(bytes, (byte)'\n', start);
            bool last = end < 0 || bytes.AsSpan(end + 1).IndexOfAnyExcept((byte)'\n') < 0;
            var line = bytes.AsSpan(start, (end < 0 ? bytes.Length : end) - start);
            number++;
            if (line.Length > 0)
            {
                bool parsed = TryParseRow(line, out var row);
                // Only the last line of a killed writer can be torn; damage before it would silently cost every later row.
                if (!parsed && !last)
                    throw new InputException($"{path}: line {number} (byte offset {start}) is not a JSON metrics row; the file is damaged before its end, so the run cannot resume from it (it was left as it is)");
                lines.Add((Encoding.UTF8.GetString(line), parsed ? row : null));
            }
            if (end < 0) break;
            start = end + 1;
        }
        return lines;
    }

    private static bool TryParseRow(ReadOnlySpan<byte> line, out JsonElement row)
    {
        row = default;
        try
        {
            using var doc = JsonDocument.Parse(line.ToArray());
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return false;
            row = doc.RootElement.Clone();
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Appends <paramref name="row"/> as one line and flushes it to the OS.</summary>
    public void Write(MetricsRow row)
    {
        var bytes = Encoding.UTF8.GetBytes(row.ToJson() + "\n");
        _file.Write(bytes);
        _file.Flush();
    }

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();
}
