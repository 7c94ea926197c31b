using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using Google.Protobuf;

namespace RLAgents.Core.Metrics;

/// <summary>
/// Writes a run's metrics as a TensorBoard event file (<c>events.out.tfevents.&lt;seconds&gt;.&lt;host&gt;.&lt;pid&gt;.rlagents</c>
/// in the run directory), so <c>tensorboard --logdir runs</c> shows every run. The format is TensorFlow's
/// TFRecord framing (uint64 length, masked CRC-32C of the length, the bytes, masked CRC-32C of the bytes)
/// around <c>Event</c> protocol buffers: the first holds <c>file_version: "brain.Event:2"</c>; each metrics row
/// becomes one event at the row's <c>step</c> with a <c>Summary</c> of a scalar per metric (tag = the metric
/// key, wall-clock figures as <c>wall/&lt;key&gt;</c>) and a <c>HistogramProto</c> per histogram. Wall times
/// are fractional Unix seconds. One buffered write and one flush per row (TorchSharp's SummaryWriter
/// reopens the file per event and stores whole seconds), so writing costs microseconds per row.
/// </summary>
public sealed class TensorBoardWriter : IMetricsSink
{
    /// <summary>Event files start with this; TensorBoard finds them by it.</summary>
    public const string FilePrefix = "events.out.tfevents.";

    private readonly FileStream _file;
    private readonly MemoryStream _record = new();

    private TensorBoardWriter(FileStream file)
    {
        _file = file;
        Path = file.Name;
        WriteEvent(Now(), 0, o =>
        {
            o.WriteTag(3, WireFormat.WireType.LengthDelimited);
            o.WriteString("brain.Event:2");
        });
    }

    /// <summary>The event file.</summary>
    public string Path { get; }

    /// <summary>Starts a new event file in <paramref name="directory"/>.</summary>
    public static TensorBoardWriter Create(string directory)
    {
        string stem = FilePrefix + DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) + "."
            + Environment.MachineName + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        for (int i = 0; ; i++)
        {
            string path = System.IO.Path.Combine(directory, stem + (i == 0 ? "" : "." + i.ToString(CultureInfo.InvariantCulture)) + ".rlagents");
            try
            {
                return new TensorBoardWriter(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read));
            }
            catch (IOException) when (File.Exists(path))
            {
                // A second writer in this second and process (a resume in a test): the next suffix.
            }
        }
    }

    /// <summary>The event files of <paramref name="directory"/>.</summary>
    public static IEnumerable<string> EventFiles(string directory) =>
        Directory.Exists(directory) ? Directory.EnumerateFiles(directory, FilePrefix + "*") : [];

    /// <inheritdoc/>
    public void Write(MetricsRow row) => Write(row.Integer("step") ?? 0, row.MetricValues, row.WallValues, row.Histograms, Now());

    /// <summary>
    /// Writes a row read back from <c>metrics.jsonl</c> (a resumed run rebuilds its event file from the rows it
    /// keeps): integer fields are identity, float fields metrics, <c>wall</c> the wall-clock figures; the event's
    /// wall time is <paramref name="started"/> plus the row's <c>wall.time_s</c>. Histograms are not in the JSON.
    /// </summary>
    public void WriteJsonRow(JsonElement row, DateTimeOffset started)
    {
        var metrics = new SortedDictionary<string, double?>(StringComparer.Ordinal);
        var wall = new SortedDictionary<string, double>(StringComparer.Ordinal);
        long step = 0;
        foreach (var p in row.EnumerateObject())
        {
            if (p.Name == "step" && p.Value.TryGetInt64(out long s)) step = s;
            else if (p.Name == "wall" && p.Value.ValueKind == JsonValueKind.Object)
            {
                foreach (var w in p.Value.EnumerateObject())
                    if (w.Value.ValueKind == JsonValueKind.Number) wall[w.Name] = w.Value.GetDouble();
            }
            // metrics.jsonl writes metrics as floats (always a fraction or an exponent) and identity fields as integers.
            else if (p.Value.ValueKind == JsonValueKind.Number && p.Value.GetRawText().IndexOfAny(['.', 'e', 'E']) >= 0) metrics[p.Name] = p.Value.GetDouble();
        }
        double seconds = wall.TryGetValue("time_s", out double t) ? t : 0;
        Write(step, metrics, wall, new Dictionary<string, MetricsHistogram>(), (started - DateTimeOffset.UnixEpoch).TotalSeconds + seconds);
    }

    private void Write(long step, IReadOnlyDictionary<string, double?> metrics, IReadOnlyDictionary<string, double> wall,
        IReadOnlyDictionary<string, MetricsHistogram> histograms, double wallTime)
    {
        var summary = new MemoryStream();
        var s = new CodedOutputStream(summary, leaveOpen: true);
        foreach (var (key, value) in metrics)
            if (value is double v) WriteScalar(s, key, v);
        foreach (var (key, value) in wall) WriteScalar(s, "wall/" + key, value);
        foreach (var (key, h) in histograms) WriteHistogram(s, key, h);
        s.Flush();
        WriteEvent(wallTime, step, o =>
        {
            o.WriteTag(5, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(UnsafeByteOperations.UnsafeWrap(summary.GetBuffer().AsMemory(0, (int)summary.Length)));
        });
    }

    // Summary.value (field 1): Value { tag = 1; simple_value = 2 (float) }.
    private static void WriteScalar(CodedOutputStream o, string tag, double value)
    {
        int size = CodedOutputStream.ComputeStringSize(tag) + 1 + 1 + 4;
        o.WriteTag(1, WireFormat.WireType.LengthDelimited);
        o.WriteLength(size);
        o.WriteTag(1, WireFormat.WireType.LengthDelimited);
        o.WriteString(tag);
        o.WriteTag(2, WireFormat.WireType.Fixed32);
        o.WriteFloat((float)value);
    }

    // Summary.value (field 1): Value { tag = 1; histo = 5: HistogramProto { min 1, max 2, num 3, sum 4, sum_squares 5,
    // bucket_limit 6 (packed double), bucket 7 (packed double) } }.
    private static void WriteHistogram(CodedOutputStream o, string tag, MetricsHistogram h)
    {
        int bins = h.Counts.Count;
        int histoSize = 5 * (1 + 8) + 2 * (1 + CodedOutputStream.ComputeLengthSize(8 * bins) + 8 * bins);
        int valueSize = CodedOutputStream.ComputeStringSize(tag) + 1 + 1 + CodedOutputStream.ComputeLengthSize(histoSize) + histoSize;
        o.WriteTag(1, WireFormat.WireType.LengthDelimited);
        o.WriteLength(valueSize);
        o.WriteTag(1, WireFormat.WireType.LengthDelimited);
        o.WriteString(tag);
        o.WriteTag(5, WireFormat.WireType.LengthDelimited);
        o.WriteLength(histoSize);
        double[] moments = [h.Min, h.Max, h.Count, h.Sum, h.SumOfSquares];
        for (int f = 0; f < moments.Length; f++)
        {
            o.WriteTag(f + 1, WireFormat.WireType.Fixed64);
            o.WriteDouble(moments[f]);
        }
        o.WriteTag(6, WireFormat.WireType.LengthDelimited);
        o.WriteLength(8 * bins);
        for (int b = 0; b < bins; b++) o.WriteDouble(h.UpperEdge(b));
        o.WriteTag(7, WireFormat.WireType.LengthDelimited);
        o.WriteLength(8 * bins);
        for (int b = 0; b < bins; b++) o.WriteDouble(h.Counts[b]);
    }

    // Event { wall_time = 1 (double); step = 2 (int64); file_version = 3 | summary = 5 }, framed as a TFRecord.
    private void WriteEvent(double wallTime, long step, Action<CodedOutputStream> body)
    {
        var message = new MemoryStream();
        var o = new CodedOutputStream(message, leaveOpen: true);
        o.WriteTag(1, WireFormat.WireType.Fixed64);
        o.WriteDouble(wallTime);
        o.WriteTag(2, WireFormat.WireType.Varint);
        o.WriteInt64(step);
        body(o);
        o.Flush();
        var data = message.GetBuffer().AsSpan(0, (int)message.Length);

        _record.SetLength(0);
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32C.Masked(header[..8]));
        _record.Write(header);
        _record.Write(data);
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, Crc32C.Masked(data));
        _record.Write(footer);
        // One write and one flush per event: a killed process leaves whole records (and at most one torn last one).
        _file.Write(_record.GetBuffer().AsSpan(0, (int)_record.Length));
        _file.Flush();
    }

    private static double Now() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;

    /// <inheritdoc/>
    public void Dispose() => _file.Dispose();
}
