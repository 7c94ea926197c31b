using System.Buffers.Binary;
using Google.Protobuf;

namespace RLAgents.Core.Tests.Metrics;

/// <summary>
/// An independent reader of TensorBoard event files for the tests: TFRecord framing checked record by record
/// (both masked CRC-32Cs, computed here bit by bit rather than with the writer's hardware CRC), and Event,
/// Summary and HistogramProto decoded field by field, as TensorBoard's own loader does.
/// </summary>
internal static class TensorBoardEventReader
{
    public sealed record Histogram(double Min, double Max, double Num, double Sum, double SumSquares, double[] BucketLimits, double[] Buckets);

    public sealed record Event(long Offset, double WallTime, long Step, string? FileVersion, Dictionary<string, float> Scalars, Dictionary<string, Histogram> Histograms);

    /// <summary>The events of <paramref name="path"/>, and the damage (offset and reason) that ended reading, if any.</summary>
    public static (List<Event> Events, string? Damage) Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var events = new List<Event>();
        long offset = 0;
        while (offset < bytes.Length)
        {
            if (bytes.Length - offset < 12) return (events, $"offset {offset}: torn record header");
            var header = bytes.AsSpan((int)offset, 12);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(header);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header[8..]) != Masked(header[..8])) return (events, $"offset {offset}: length CRC mismatch");
            if ((ulong)(bytes.Length - offset - 12) < length + 4) return (events, $"offset {offset}: torn record");
            var data = bytes.AsSpan((int)offset + 12, (int)length);
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)(offset + 12 + (long)length), 4)) != Masked(data)) return (events, $"offset {offset}: data CRC mismatch");
            events.Add(ParseEvent(offset, data.ToArray()));
            offset += 12 + (long)length + 4;
        }
        return (events, null);
    }

    private static Event ParseEvent(long offset, byte[] data)
    {
        var input = new CodedInputStream(data);
        double wall = 0;
        long step = 0;
        string? version = null;
        var scalars = new Dictionary<string, float>();
        var histograms = new Dictionary<string, Histogram>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: wall = input.ReadDouble(); break;
                case 2: step = input.ReadInt64(); break;
                case 3: version = input.ReadString(); break;
                case 5: ParseSummary(input.ReadBytes().ToByteArray(), scalars, histograms); break;
                default: input.SkipLastField(); break;
            }
        }
        return new Event(offset, wall, step, version, scalars, histograms);
    }

    private static void ParseSummary(byte[] data, Dictionary<string, float> scalars, Dictionary<string, Histogram> histograms)
    {
        var input = new CodedInputStream(data);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) != 1) { input.SkipLastField(); continue; }
            var value = new CodedInputStream(input.ReadBytes().ToByteArray());
            string name = "";
            float? simple = null;
            Histogram? histo = null;
            uint vt;
            while ((vt = value.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(vt))
                {
                    case 1: name = value.ReadString(); break;
                    case 2: simple = value.ReadFloat(); break;
                    case 5: histo = ParseHistogram(value.ReadBytes().ToByteArray()); break;
                    default: value.SkipLastField(); break;
                }
            }
            if (simple is float f) scalars[name] = f;
            if (histo is not null) histograms[name] = histo;
        }
    }

    private static Histogram ParseHistogram(byte[] data)
    {
        var input = new CodedInputStream(data);
        var moments = new double[5];
        double[] limits = [], buckets = [];
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            int field = WireFormat.GetTagFieldNumber(tag);
            if (field is >= 1 and <= 5) moments[field - 1] = input.ReadDouble();
            else if (field is 6 or 7)
            {
                // Packed repeated double: a length, then little-endian doubles.
                byte[] packed = input.ReadBytes().ToByteArray();
                var values = Enumerable.Range(0, packed.Length / 8).Select(i => BinaryPrimitives.ReadDoubleLittleEndian(packed.AsSpan(8 * i))).ToArray();
                if (field == 6) limits = values; else buckets = values;
            }
            else input.SkipLastField();
        }
        return new Histogram(moments[0], moments[1], moments[2], moments[3], moments[4], limits, buckets);
    }

    /// <summary>CRC-32C bit by bit (reflected polynomial 0x82F63B78), masked as TFRecord masks it.</summary>
    public static uint Masked(ReadOnlySpan<byte> data)
    {
        uint crc = BitwiseCrc32C(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }

    public static uint BitwiseCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return ~crc;
    }
}
