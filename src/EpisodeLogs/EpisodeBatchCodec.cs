using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs;

/// <summary>
/// Converts one Arrow record batch (L + 1 rows) back to a <see cref="RecordedEpisode"/>; the
/// writing side is <see cref="EpisodeBatchEncoder"/>.
/// </summary>
internal static class EpisodeBatchCodec
{
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
        int k = header.ActionFloats;
        var floatActions = k > 0 ? Col<ListArray>(EpisodeLogFormat.Columns.ActionContinuous) : null;
        var floatValues = floatActions is null ? null : floatActions.Values as FloatArray ?? throw Bad("action_continuous values are not float32");
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
            ActionFloats = k,
            ContinuousActions = new float[l * k],
            Rewards = new double[l],
            Terminated = new bool[l],
            Truncated = new bool[l],
            ActionProbabilities = new float[]?[l],
            Values = new float?[l],
        };
        var probValues = probs.Values as FloatArray;
        for (int t = 0; t < l; t++)
        {
            if (header.HasDiscreteAction) e.Actions[t] = actions.GetValue(t) ?? throw Bad($"step {t} has no action");
            if (floatActions is not null)
            {
                if (floatActions.IsNull(t)) throw Bad($"step {t} has no action_continuous");
                int start = floatActions.ValueOffsets[t], n = floatActions.ValueOffsets[t + 1] - start;
                if (n != k) throw Bad($"step {t} has {n} action floats, expected {k}");
                floatValues!.Values.Slice(start, k).CopyTo(e.ContinuousActions.AsSpan(t * k, k));
            }
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
        if (actions.GetValue(l) is not null || (floatActions is not null && !floatActions.IsNull(l))) throw Bad($"the last row of episode {e.Index} has an action");
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
