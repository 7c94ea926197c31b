using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace RLAgents.Environments.EpisodeLogs;

/// <summary>
/// Converts one <see cref="RecordedEpisode"/> to one Arrow record batch (L + 1 rows) and back.
/// Arrays are built straight from buffers (no per-value builders) so that recording stays cheap.
/// </summary>
internal static class EpisodeBatchCodec
{
    private static readonly ListType FloatList = new(new Field("item", FloatType.Default, false));

    public static RecordBatch Encode(Schema schema, EpisodeLogHeader header, RecordedEpisode e)
    {
        // Buffers are written once, straight as bytes: a short episode's fixed cost is what
        // recording adds per episode, so no intermediate typed arrays or per-row string encoding.
        int l = e.Length, rows = l + 1;
        var stepValid = PrefixBitmap(rows, l);
        var cols = new List<IArrowArray>(16 + header.Modalities.Count)
        {
            new Int64Array(Fill(rows, e.Index), ArrowBuffer.Empty, rows, 0, 0),
            new Int32Array(Steps(rows), ArrowBuffer.Empty, rows, 0, 0),
            new Int32Array(Padded<int>(e.Actions, rows), stepValid, rows, 1, 0),
            new DoubleArray(Padded<double>(e.Rewards, rows), stepValid, rows, 1, 0),
            new BooleanArray(BitsOf(e.Terminated, rows), stepValid, rows, 1, 0),
            new BooleanArray(BitsOf(e.Truncated, rows), stepValid, rows, 1, 0),
            FloatLists(rows, e.ActionProbabilities),
            Values(rows, e.Values),
            e.Seed is long s ? new Int64Array(Fill(rows, s), ArrowBuffer.Empty, rows, 0, 0) : new Int64Array(new ArrowBuffer(new byte[rows * 8]), AllNull(rows), rows, rows, 0),
            FirstRowString(rows, e.StartState),
            RepeatedString(rows, e.CheckpointId),
            RepeatedString(rows, e.Phase),
            new BooleanArray(RepeatedBits(rows, e.Evaluation), ArrowBuffer.Empty, rows, 0, 0),
            new DoubleArray(Fill(rows, e.Return), ArrowBuffer.Empty, rows, 0, 0),
            new Int32Array(Fill(rows, e.Length), ArrowBuffer.Empty, rows, 0, 0),
            e.Success is bool ok ? new BooleanArray(RepeatedBits(rows, ok), ArrowBuffer.Empty, rows, 0, 0) : new BooleanArray(new ArrowBuffer(new byte[(rows + 7) / 8]), AllNull(rows), rows, rows, 0),
        };
        for (int m = 0; m < header.Modalities.Count; m++)
            cols.Add(EncodeObservations(header.Modalities[m], e.Observations[m], rows));
        return new RecordBatch(schema, cols, rows);
    }

    private static IArrowArray EncodeObservations(ModalityLayout layout, ModalityRecord rec, int rows)
    {
        int size = layout.Size;
        switch (layout.Encoding)
        {
            case ObservationEncoding.Hash64:
                var hashes = rec.Hashes ?? Enumerable.Range(0, rows).Select(rec.HashAt).ToArray();
                return new UInt64Array(Buffer<ulong>(hashes.AsSpan(0, rows)), ArrowBuffer.Empty, rows, 0, 0);
            case ObservationEncoding.Zlib:
                var cells = new byte[rows][];
                for (int t = 0; t < rows; t++) cells[t] = Deflate(rec.Bytes.AsSpan(t * size, size));
                return Binary(cells);
        }
        switch (layout.Storage)
        {
            case ModalityStorage.Float32:
                var offsets = new int[rows + 1];
                for (int t = 0; t <= rows; t++) offsets[t] = t * size;
                var values = new FloatArray(Buffer<float>(rec.Floats.AsSpan(0, rows * size)), ArrowBuffer.Empty, rows * size, 0, 0);
                return new ListArray(FloatList, rows, Buffer<int>(offsets), values, ArrowBuffer.Empty, 0, 0);
            case ModalityStorage.UInt8:
                var boff = new int[rows + 1];
                for (int t = 0; t <= rows; t++) boff[t] = t * size;
                return new BinaryArray(BinaryType.Default, rows, Buffer<int>(boff), new ArrowBuffer(rec.Bytes.AsSpan(0, rows * size).ToArray()), ArrowBuffer.Empty, 0, 0);
            case ModalityStorage.Int32:
                return new Int32Array(Buffer<int>(rec.Ints.AsSpan(0, rows)), ArrowBuffer.Empty, rows, 0, 0);
            default:
                return Strings(rows, t => rec.Texts![t]);
        }
    }

    public static RecordedEpisode Decode(RecordBatch batch, EpisodeLogHeader header, long offset)
    {
        EpisodeLogFormatException Bad(string why) => new(why, offset);
        T Col<T>(string name) where T : class, IArrowArray
        {
            int i = batch.Schema.GetFieldIndex(name);
            if (i < 0) throw Bad($"column '{name}' is missing");
            return batch.Column(i) as T ?? throw Bad($"column '{name}' has type {batch.Column(i).Data.DataType.Name}, expected {typeof(T).Name}");
        }
        int rows = batch.Length;
        if (rows < 1) throw Bad("an episode batch has no rows");
        var lengthCol = Col<Int32Array>(EpisodeLogFormat.Columns.EpisodeLength);
        int l = lengthCol.GetValue(0) ?? -1;
        if (l != rows - 1) throw Bad($"episode_length is {l} but the batch has {rows} rows (expected length + 1)");
        var episodeCol = Col<Int64Array>(EpisodeLogFormat.Columns.Episode);
        var stepCol = Col<Int32Array>(EpisodeLogFormat.Columns.Step);
        for (int t = 0; t < rows; t++)
        {
            if (stepCol.GetValue(t) != t) throw Bad($"row {t} has step {stepCol.GetValue(t)}");
            if (episodeCol.GetValue(t) != episodeCol.GetValue(0)) throw Bad($"row {t} belongs to episode {episodeCol.GetValue(t)}, not {episodeCol.GetValue(0)}");
        }
        var actions = Col<Int32Array>(EpisodeLogFormat.Columns.Action);
        var rewards = Col<DoubleArray>(EpisodeLogFormat.Columns.Reward);
        var term = Col<BooleanArray>(EpisodeLogFormat.Columns.Terminated);
        var trunc = Col<BooleanArray>(EpisodeLogFormat.Columns.Truncated);
        var probs = Col<ListArray>(EpisodeLogFormat.Columns.ActionProbs);
        var values = Col<FloatArray>(EpisodeLogFormat.Columns.Value);
        var e = new RecordedEpisode
        {
            Index = episodeCol.GetValue(0)!.Value,
            Length = l,
            Seed = Col<Int64Array>(EpisodeLogFormat.Columns.Seed).GetValue(0),
            StartState = Col<StringArray>(EpisodeLogFormat.Columns.StartState).GetString(0),
            CheckpointId = Col<StringArray>(EpisodeLogFormat.Columns.CheckpointId).GetString(0),
            Phase = Col<StringArray>(EpisodeLogFormat.Columns.Phase).GetString(0),
            Evaluation = Col<BooleanArray>(EpisodeLogFormat.Columns.Evaluation).GetValue(0) ?? false,
            Return = Col<DoubleArray>(EpisodeLogFormat.Columns.EpisodeReturn).GetValue(0) ?? double.NaN,
            Success = Col<BooleanArray>(EpisodeLogFormat.Columns.Success).GetValue(0),
            Actions = new int[l],
            Rewards = new double[l],
            Terminated = new bool[l],
            Truncated = new bool[l],
            ActionProbabilities = new float[]?[l],
            Values = new float?[l],
        };
        var probValues = probs.Values as FloatArray;
        for (int t = 0; t < l; t++)
        {
            e.Actions[t] = actions.GetValue(t) ?? throw Bad($"step {t} has no action");
            e.Rewards[t] = rewards.GetValue(t) ?? throw Bad($"step {t} has no reward");
            e.Terminated[t] = term.GetValue(t) ?? throw Bad($"step {t} has no terminated flag");
            e.Truncated[t] = trunc.GetValue(t) ?? throw Bad($"step {t} has no truncated flag");
            if (!probs.IsNull(t))
            {
                if (probValues is null) throw Bad("action_probs values are not float32");
                int start = probs.ValueOffsets[t], end = probs.ValueOffsets[t + 1];
                e.ActionProbabilities[t] = probValues.Values.Slice(start, end - start).ToArray();
            }
            e.Values[t] = values.GetValue(t);
        }
        if (actions.GetValue(l) is not null) throw Bad($"the last row of episode {e.Index} has an action");
        e.Observations = new ModalityRecord[header.Modalities.Count];
        for (int m = 0; m < header.Modalities.Count; m++)
        {
            var layout = header.Modalities[m];
            int i = batch.Schema.GetFieldIndex(layout.Column);
            if (i < 0) throw Bad($"column '{layout.Column}' is missing");
            e.Observations[m] = DecodeObservations(layout, batch.Column(i), rows, Bad);
        }
        return e;
    }

    private static ModalityRecord DecodeObservations(ModalityLayout layout, IArrowArray col, int rows, Func<string, Exception> bad)
    {
        var rec = new ModalityRecord(layout);
        int size = layout.Size;
        switch (layout.Encoding, layout.Storage, col)
        {
            case (ObservationEncoding.Hash64, _, UInt64Array h):
                rec.Hashes = h.Values.ToArray();
                break;
            case (ObservationEncoding.Zlib, ModalityStorage.UInt8, BinaryArray z):
                rec.Bytes = new byte[rows * size];
                for (int t = 0; t < rows; t++)
                {
                    int n = Inflate(z.GetBytes(t), rec.Bytes.AsSpan(t * size, size));
                    if (n != size) throw bad($"column '{layout.Column}' row {t} inflates to {n} bytes, expected {size}");
                }
                break;
            case (ObservationEncoding.Raw, ModalityStorage.Float32, ListArray list):
                var fv = list.Values as FloatArray ?? throw bad($"column '{layout.Column}' does not hold float32 lists");
                rec.Floats = new float[rows * size];
                for (int t = 0; t < rows; t++)
                {
                    int start = list.ValueOffsets[t], n = list.ValueOffsets[t + 1] - start;
                    if (n != size) throw bad($"column '{layout.Column}' row {t} has {n} values, expected {size}");
                    fv.Values.Slice(start, n).CopyTo(rec.Floats.AsSpan(t * size, size));
                }
                break;
            case (ObservationEncoding.Raw, ModalityStorage.UInt8, BinaryArray b):
                rec.Bytes = new byte[rows * size];
                for (int t = 0; t < rows; t++)
                {
                    var cell = b.GetBytes(t);
                    if (cell.Length != size) throw bad($"column '{layout.Column}' row {t} has {cell.Length} bytes, expected {size}");
                    cell.CopyTo(rec.Bytes.AsSpan(t * size, size));
                }
                break;
            case (ObservationEncoding.Raw, ModalityStorage.Int32, Int32Array ints):
                rec.Ints = ints.Values.ToArray();
                break;
            case (ObservationEncoding.Raw, ModalityStorage.Text, StringArray s):
                rec.Texts = new string[rows];
                for (int t = 0; t < rows; t++) rec.Texts[t] = s.GetString(t) ?? throw bad($"column '{layout.Column}' row {t} is null");
                break;
            default:
                throw bad($"column '{layout.Column}' has type {col.Data.DataType.Name}, which does not match {layout.Storage}/{layout.Encoding}");
        }
        return rec;
    }

    // ---- buffers ----

    private static ArrowBuffer Buffer<T>(ReadOnlySpan<T> values) where T : struct =>
        new(MemoryMarshal.AsBytes(values).ToArray());

    private static ArrowBuffer Fill<T>(int n, T value) where T : unmanaged
    {
        var bytes = new byte[n * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()];
        MemoryMarshal.Cast<byte, T>(bytes.AsSpan()).Fill(value);
        return new ArrowBuffer(bytes);
    }

    private static ArrowBuffer Steps(int rows)
    {
        var bytes = new byte[rows * 4];
        var ints = MemoryMarshal.Cast<byte, int>(bytes.AsSpan());
        for (int t = 0; t < rows; t++) ints[t] = t;
        return new ArrowBuffer(bytes);
    }

    /// <summary>The values' bytes followed by zeros up to <paramref name="rows"/> elements (the null last row).</summary>
    private static ArrowBuffer Padded<T>(T[] values, int rows) where T : unmanaged
    {
        var bytes = new byte[rows * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()];
        MemoryMarshal.AsBytes(values.AsSpan(0, Math.Min(values.Length, rows))).CopyTo(bytes);
        return new ArrowBuffer(bytes);
    }

    /// <summary>Validity bitmap with the first <paramref name="valid"/> of <paramref name="rows"/> set.</summary>
    private static ArrowBuffer PrefixBitmap(int rows, int valid)
    {
        var bits = new byte[(rows + 7) / 8];
        bits.AsSpan(0, valid / 8).Fill(0xFF);
        for (int i = valid / 8 * 8; i < valid; i++) bits[i >> 3] |= (byte)(1 << (i & 7));
        return new ArrowBuffer(bits);
    }

    private static ArrowBuffer AllNull(int rows) => new(new byte[(rows + 7) / 8]);

    private static ArrowBuffer RepeatedBits(int rows, bool value)
    {
        var bits = new byte[(rows + 7) / 8];
        if (value) bits.AsSpan().Fill(0xFF);
        return new ArrowBuffer(bits);
    }

    private static ArrowBuffer BitsOf(bool[] values, int rows)
    {
        var bits = new byte[(rows + 7) / 8];
        for (int i = 0; i < values.Length && i < rows; i++)
            if (values[i]) bits[i >> 3] |= (byte)(1 << (i & 7));
        return new ArrowBuffer(bits);
    }

    private static FloatArray Values(int rows, float?[] values)
    {
        var bytes = new byte[rows * 4];
        var floats = MemoryMarshal.Cast<byte, float>(bytes.AsSpan());
        var bits = new byte[(rows + 7) / 8];
        int nulls = rows;
        for (int t = 0; t < values.Length && t < rows; t++)
            if (values[t] is float v)
            {
                floats[t] = v;
                bits[t >> 3] |= (byte)(1 << (t & 7));
                nulls--;
            }
        return new FloatArray(new ArrowBuffer(bytes), new ArrowBuffer(bits), rows, nulls, 0);
    }

    private static StringArray RepeatedString(int rows, string? value)
    {
        var offsets = new byte[(rows + 1) * 4];
        if (value is null) return new StringArray(rows, new ArrowBuffer(offsets), ArrowBuffer.Empty, AllNull(rows), rows, 0);
        byte[] one = Encoding.UTF8.GetBytes(value);
        var offs = MemoryMarshal.Cast<byte, int>(offsets.AsSpan());
        var data = new byte[checked(one.Length * rows)];
        for (int t = 0; t < rows; t++)
        {
            one.CopyTo(data, t * one.Length);
            offs[t + 1] = (t + 1) * one.Length;
        }
        return new StringArray(rows, new ArrowBuffer(offsets), new ArrowBuffer(data), ArrowBuffer.Empty, 0, 0);
    }

    private static StringArray FirstRowString(int rows, string? value)
    {
        if (value is null) return RepeatedString(rows, null);
        byte[] data = Encoding.UTF8.GetBytes(value);
        var offsets = new byte[(rows + 1) * 4];
        MemoryMarshal.Cast<byte, int>(offsets.AsSpan())[1..].Fill(data.Length);
        var bits = new byte[(rows + 7) / 8];
        bits[0] = 1;
        return new StringArray(rows, new ArrowBuffer(offsets), new ArrowBuffer(data), new ArrowBuffer(bits), rows - 1, 0);
    }

    private static StringArray Strings(int rows, Func<int, string?> value)
    {
        var offsets = new int[rows + 1];
        var data = new MemoryStream();
        var bits = new byte[(rows + 7) / 8];
        int nulls = 0;
        for (int t = 0; t < rows; t++)
        {
            if (value(t) is string s)
            {
                data.Write(Encoding.UTF8.GetBytes(s));
                bits[t >> 3] |= (byte)(1 << (t & 7));
            }
            else nulls++;
            offsets[t + 1] = checked((int)data.Length);
        }
        return new StringArray(rows, Buffer<int>(offsets), new ArrowBuffer(data.ToArray()), nulls == 0 ? ArrowBuffer.Empty : new ArrowBuffer(bits), nulls, 0);
    }

    private static BinaryArray Binary(byte[][] cells)
    {
        var offsets = new int[cells.Length + 1];
        for (int t = 0; t < cells.Length; t++) offsets[t + 1] = checked(offsets[t] + cells[t].Length);
        var data = new byte[offsets[^1]];
        for (int t = 0; t < cells.Length; t++) cells[t].CopyTo(data, offsets[t]);
        return new BinaryArray(BinaryType.Default, cells.Length, Buffer<int>(offsets), new ArrowBuffer(data), ArrowBuffer.Empty, 0, 0);
    }

    private static ListArray FloatLists(int rows, float[]?[] lists)
    {
        var offsets = new int[rows + 1];
        var bits = new byte[(rows + 7) / 8];
        int nulls = rows, total = 0;
        for (int t = 0; t < rows; t++)
        {
            if (t < lists.Length && lists[t] is { } p)
            {
                total += p.Length;
                bits[t >> 3] |= (byte)(1 << (t & 7));
                nulls--;
            }
            offsets[t + 1] = total;
        }
        var flat = new byte[total * 4];
        var floats = MemoryMarshal.Cast<byte, float>(flat.AsSpan());
        for (int t = 0; t < rows && t < lists.Length; t++)
            if (lists[t] is { } p) p.CopyTo(floats[offsets[t]..]);
        var values = new FloatArray(new ArrowBuffer(flat), ArrowBuffer.Empty, total, 0, 0);
        return new ListArray(FloatList, rows, Buffer<int>(offsets), values, nulls == 0 ? ArrowBuffer.Empty : new ArrowBuffer(bits), nulls, 0);
    }

    internal static byte[] Deflate(ReadOnlySpan<byte> raw)
    {
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw);
        return ms.ToArray();
    }

    private static int Inflate(ReadOnlySpan<byte> compressed, Span<byte> destination)
    {
        using var z = new ZLibStream(new MemoryStream(compressed.ToArray()), CompressionMode.Decompress);
        int total = 0;
        while (total < destination.Length)
        {
            int n = z.Read(destination[total..]);
            if (n == 0) break;
            total += n;
        }
        Span<byte> extra = stackalloc byte[1];
        return z.Read(extra) == 0 ? total : total + 1;
    }
}
