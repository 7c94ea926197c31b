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
        int l = e.Length, rows = l + 1;
        var cols = new List<IArrowArray>(16 + header.Modalities.Count)
        {
            Int64(Repeat(e.Index, rows), null, 0),
            Int32(Enumerable.Range(0, rows).ToArray(), null, 0),
        };
        var stepValid = Bitmap(rows, t => t < l, out int stepNulls);
        cols.Add(Int32(Pad(e.Actions, rows), stepValid, stepNulls));
        cols.Add(Double(Pad(e.Rewards, rows), stepValid, stepNulls));
        cols.Add(Bool(Pad(e.Terminated, rows), stepValid, stepNulls));
        cols.Add(Bool(Pad(e.Truncated, rows), stepValid, stepNulls));
        cols.Add(FloatLists(rows, t => t < l ? e.ActionProbabilities[t] : null));
        var valueValid = Bitmap(rows, t => t < l && e.Values[t].HasValue, out int valueNulls);
        cols.Add(Float(Enumerable.Range(0, rows).Select(t => t < l ? e.Values[t] ?? 0f : 0f).ToArray(), valueValid, valueNulls));
        cols.Add(e.Seed is long s ? Int64(Repeat(s, rows), null, 0) : Int64(new long[rows], Bitmap(rows, _ => false, out _), rows));
        cols.Add(Strings(rows, t => t == 0 ? e.StartState : null));
        cols.Add(Strings(rows, _ => e.CheckpointId));
        cols.Add(Strings(rows, _ => e.Phase));
        cols.Add(Bool(Repeat(e.Evaluation, rows), null, 0));
        cols.Add(Double(Repeat(e.Return, rows), null, 0));
        cols.Add(Int32(Repeat(e.Length, rows), null, 0));
        cols.Add(e.Success is bool ok ? Bool(Repeat(ok, rows), null, 0) : Bool(new bool[rows], Bitmap(rows, _ => false, out _), rows));
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
                return Int32(rec.Ints!.AsSpan(0, rows).ToArray(), null, 0);
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

    private static T[] Repeat<T>(T value, int n)
    {
        var a = new T[n];
        System.Array.Fill(a, value);
        return a;
    }

    private static T[] Pad<T>(T[] values, int rows)
    {
        var a = new T[rows];
        System.Array.Copy(values, a, Math.Min(values.Length, rows));
        return a;
    }

    private static ArrowBuffer Bitmap(int n, Func<int, bool> valid, out int nulls)
    {
        var bits = new byte[(n + 7) / 8];
        nulls = 0;
        for (int i = 0; i < n; i++)
        {
            if (valid(i)) bits[i >> 3] |= (byte)(1 << (i & 7));
            else nulls++;
        }
        return new ArrowBuffer(bits);
    }

    private static ArrowBuffer BitsOf(bool[] values)
    {
        var bits = new byte[(values.Length + 7) / 8];
        for (int i = 0; i < values.Length; i++)
            if (values[i]) bits[i >> 3] |= (byte)(1 << (i & 7));
        return new ArrowBuffer(bits);
    }

    private static Int64Array Int64(long[] v, ArrowBuffer? valid, int nulls) => new(Buffer<long>(v), nulls == 0 ? ArrowBuffer.Empty : valid!.Value, v.Length, nulls, 0);

    private static Int32Array Int32(int[] v, ArrowBuffer? valid, int nulls) => new(Buffer<int>(v), nulls == 0 ? ArrowBuffer.Empty : valid!.Value, v.Length, nulls, 0);

    private static DoubleArray Double(double[] v, ArrowBuffer? valid, int nulls) => new(Buffer<double>(v), nulls == 0 ? ArrowBuffer.Empty : valid!.Value, v.Length, nulls, 0);

    private static FloatArray Float(float[] v, ArrowBuffer? valid, int nulls) => new(Buffer<float>(v), nulls == 0 ? ArrowBuffer.Empty : valid!.Value, v.Length, nulls, 0);

    private static BooleanArray Bool(bool[] v, ArrowBuffer? valid, int nulls) => new(BitsOf(v), nulls == 0 ? ArrowBuffer.Empty : valid!.Value, v.Length, nulls, 0);

    private static StringArray Strings(int rows, Func<int, string?> value)
    {
        var offsets = new int[rows + 1];
        var data = new MemoryStream();
        var valid = Bitmap(rows, t => value(t) is not null, out int nulls);
        for (int t = 0; t < rows; t++)
        {
            if (value(t) is string s) data.Write(Encoding.UTF8.GetBytes(s));
            offsets[t + 1] = checked((int)data.Length);
        }
        return new StringArray(rows, Buffer<int>(offsets), new ArrowBuffer(data.ToArray()), nulls == 0 ? ArrowBuffer.Empty : valid, nulls, 0);
    }

    private static BinaryArray Binary(byte[][] cells)
    {
        var offsets = new int[cells.Length + 1];
        for (int t = 0; t < cells.Length; t++) offsets[t + 1] = checked(offsets[t] + cells[t].Length);
        var data = new byte[offsets[^1]];
        for (int t = 0; t < cells.Length; t++) cells[t].CopyTo(data, offsets[t]);
        return new BinaryArray(BinaryType.Default, cells.Length, Buffer<int>(offsets), new ArrowBuffer(data), ArrowBuffer.Empty, 0, 0);
    }

    private static ListArray FloatLists(int rows, Func<int, float[]?> value)
    {
        var offsets = new int[rows + 1];
        var flat = new List<float>();
        var valid = Bitmap(rows, t => value(t) is not null, out int nulls);
        for (int t = 0; t < rows; t++)
        {
            if (value(t) is float[] p) flat.AddRange(p);
            offsets[t + 1] = flat.Count;
        }
        var values = new FloatArray(Buffer<float>(CollectionsMarshal.AsSpan(flat)), ArrowBuffer.Empty, flat.Count, 0, 0);
        return new ListArray(FloatList, rows, Buffer<int>(offsets), values, nulls == 0 ? ArrowBuffer.Empty : valid, nulls, 0);
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
