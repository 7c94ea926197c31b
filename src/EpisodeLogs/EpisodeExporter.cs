using System.Runtime.InteropServices;
using System.Text.Json;
using Parquet;
using Parquet.Schema;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs;

/// <summary>
/// Exports a log's table (one row per observation, the columns of <see cref="EpisodeLogFormat"/>)
/// to JSON Lines or Parquet for tools that read neither Arrow streams nor RLAgents.
/// <list type="bullet">
/// <item>JSONL: one object per row with the Arrow column names; float32 modalities as number arrays,
/// uint8 modalities as base64 of the raw (decompressed) bytes, hashes as <c>"0x…"</c> hex strings.</item>
/// <item>Parquet: the same columns, except <c>action_probs</c> spread over <c>prob_0 … prob_{n-1}</c>;
/// float32 modalities of at most 16 elements as one column per element (<c>obs_state_0</c> …), larger
/// ones as binary of little-endian float32; uint8 modalities as binary; hashes as uint64. The log
/// header is the file's key-value metadata.</item>
/// </list>
/// </summary>
public static class EpisodeExporter
{
    private const int MaxElementColumns = 16;
    private const int RowGroupRows = 1 << 16;

    /// <summary>Writes the episodes of <paramref name="log"/> passing <paramref name="filter"/> as JSON Lines.</summary>
    public static ExportSummary ToJsonl(EpisodeLog log, string output, EpisodeFilter? filter = null)
    {
        filter ??= new EpisodeFilter();
        int written = 0, skipped = 0, steps = 0;
        using (var stream = File.Create(output))
        using (var json = new Utf8JsonWriter(stream))
        {
            foreach (var e in log.Episodes)
            {
                if (!filter.Accepts(log.Header.EnvId, e)) { skipped++; continue; }
                for (int t = 0; t <= e.Length; t++)
                {
                    WriteRow(json, log.Header, e, t);
                    json.Flush();
                    stream.WriteByte((byte)'\n');
                    json.Reset();
                }
                written++;
                steps += e.Length;
            }
        }
        return new ExportSummary(output, written, skipped, steps, log.Damages);
    }

    private static void WriteRow(Utf8JsonWriter w, EpisodeLogHeader h, RecordedEpisode e, int t)
    {
        bool step = t < e.Length;
        w.WriteStartObject();
        w.WriteNumber(EpisodeLogFormat.Columns.Episode, e.Index);
        w.WriteNumber(EpisodeLogFormat.Columns.Step, t);
        if (step) w.WriteNumber(EpisodeLogFormat.Columns.Action, e.Actions[t]); else w.WriteNull(EpisodeLogFormat.Columns.Action);
        if (step) w.WriteNumber(EpisodeLogFormat.Columns.Reward, e.Rewards[t]); else w.WriteNull(EpisodeLogFormat.Columns.Reward);
        if (step) w.WriteBoolean(EpisodeLogFormat.Columns.Terminated, e.Terminated[t]); else w.WriteNull(EpisodeLogFormat.Columns.Terminated);
        if (step) w.WriteBoolean(EpisodeLogFormat.Columns.Truncated, e.Truncated[t]); else w.WriteNull(EpisodeLogFormat.Columns.Truncated);
        w.WritePropertyName(EpisodeLogFormat.Columns.ActionProbs);
        if (step && e.ActionProbabilities[t] is { } p)
        {
            w.WriteStartArray();
            foreach (float f in p) w.WriteNumberValue(f);
            w.WriteEndArray();
        }
        else w.WriteNullValue();
        if (step && e.Values[t] is float v) w.WriteNumber(EpisodeLogFormat.Columns.Value, v); else w.WriteNull(EpisodeLogFormat.Columns.Value);
        if (e.Seed is long s) w.WriteNumber(EpisodeLogFormat.Columns.Seed, s); else w.WriteNull(EpisodeLogFormat.Columns.Seed);
        w.WriteString(EpisodeLogFormat.Columns.StartState, t == 0 ? e.StartState : null);
        w.WriteString(EpisodeLogFormat.Columns.CheckpointId, e.CheckpointId);
        w.WriteString(EpisodeLogFormat.Columns.Phase, e.Phase);
        w.WriteBoolean(EpisodeLogFormat.Columns.Evaluation, e.Evaluation);
        w.WriteNumber(EpisodeLogFormat.Columns.EpisodeReturn, e.Return);
        w.WriteNumber(EpisodeLogFormat.Columns.EpisodeLength, e.Length);
        if (e.Success is bool ok) w.WriteBoolean(EpisodeLogFormat.Columns.Success, ok); else w.WriteNull(EpisodeLogFormat.Columns.Success);
        foreach (var rec in e.Observations)
        {
            var l = rec.Layout;
            w.WritePropertyName(l.Column);
            if (!rec.HasValues) { w.WriteStringValue($"0x{rec.Hashes![t]:x16}"); continue; }
            int size = l.Size;
            switch (l.Storage)
            {
                case ModalityStorage.Float32:
                    w.WriteStartArray();
                    foreach (float f in rec.Floats.AsSpan(t * size, size)) w.WriteNumberValue(f);
                    w.WriteEndArray();
                    break;
                case ModalityStorage.UInt8: w.WriteBase64StringValue(rec.Bytes.AsSpan(t * size, size)); break;
                case ModalityStorage.Int32: w.WriteNumberValue(rec.Ints![t]); break;
                default: w.WriteStringValue(rec.Texts![t]); break;
            }
        }
        w.WriteEndObject();
    }

    /// <summary>Writes the episodes of <paramref name="log"/> passing <paramref name="filter"/> as a Parquet file.</summary>
    public static async Task<ExportSummary> ToParquetAsync(EpisodeLog log, string output, EpisodeFilter? filter = null, CancellationToken cancellationToken = default)
    {
        filter ??= new EpisodeFilter();
        var h = log.Header;
        var table = new ParquetTable(h);
        int written = 0, skipped = 0, steps = 0;
        await using (var stream = File.Create(output))
        {
            await using var writer = await ParquetWriter.CreateAsync(table.Schema, stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            writer.CustomMetadata = EpisodeLogFormat.BuildSchema(h).Metadata;
            foreach (var e in log.Episodes)
            {
                if (!filter.Accepts(h.EnvId, e)) { skipped++; continue; }
                table.Add(e);
                written++;
                steps += e.Length;
                if (table.Rows >= RowGroupRows) await table.FlushAsync(writer, cancellationToken).ConfigureAwait(false);
            }
            if (table.Rows > 0 || written == 0) await table.FlushAsync(writer, cancellationToken).ConfigureAwait(false);
        }
        return new ExportSummary(output, written, skipped, steps, log.Damages);
    }

    /// <summary>Column buffers of one row group and the schema they follow.</summary>
    private sealed class ParquetTable
    {
        private readonly EpisodeLogHeader _h;
        private readonly List<long> _episode = [];
        private readonly List<int> _step = [];
        private readonly List<int?> _action = [];
        private readonly List<double?> _reward = [];
        private readonly List<bool?> _terminated = [];
        private readonly List<bool?> _truncated = [];
        private readonly List<float?> _value = [];
        private readonly List<float?>[] _probs;
        private readonly List<long?> _seed = [];
        private readonly List<string?> _startState = [];
        private readonly List<string?> _checkpoint = [];
        private readonly List<string?> _phase = [];
        private readonly List<bool> _evaluation = [];
        private readonly List<double> _return = [];
        private readonly List<int> _length = [];
        private readonly List<bool?> _success = [];
        private readonly List<object>[] _obs; // per modality: element columns (List<float>) or one column

        public ParquetTable(EpisodeLogHeader h)
        {
            _h = h;
            _probs = Enumerable.Range(0, h.ActionCount).Select(_ => new List<float?>()).ToArray();
            var fields = new List<Field>
            {
                new DataField<long>(EpisodeLogFormat.Columns.Episode), new DataField<int>(EpisodeLogFormat.Columns.Step),
                new DataField<int?>(EpisodeLogFormat.Columns.Action), new DataField<double?>(EpisodeLogFormat.Columns.Reward),
                new DataField<bool?>(EpisodeLogFormat.Columns.Terminated), new DataField<bool?>(EpisodeLogFormat.Columns.Truncated),
                new DataField<float?>(EpisodeLogFormat.Columns.Value),
            };
            fields.AddRange(Enumerable.Range(0, h.ActionCount).Select(a => new DataField<float?>($"prob_{a}")));
            fields.AddRange([
                new DataField<long?>(EpisodeLogFormat.Columns.Seed), new DataField(EpisodeLogFormat.Columns.StartState, typeof(string), true),
                new DataField(EpisodeLogFormat.Columns.CheckpointId, typeof(string), true), new DataField(EpisodeLogFormat.Columns.Phase, typeof(string), true),
                new DataField<bool>(EpisodeLogFormat.Columns.Evaluation), new DataField<double>(EpisodeLogFormat.Columns.EpisodeReturn),
                new DataField<int>(EpisodeLogFormat.Columns.EpisodeLength), new DataField<bool?>(EpisodeLogFormat.Columns.Success)]);
            _obs = new List<object>[h.Modalities.Count];
            for (int m = 0; m < h.Modalities.Count; m++)
            {
                var l = h.Modalities[m];
                _obs[m] = [];
                if (l.Encoding == ObservationEncoding.Hash64) { fields.Add(new DataField<ulong>(l.Column)); _obs[m].Add(new List<ulong>()); }
                else if (l.Storage == ModalityStorage.Float32 && l.Size <= MaxElementColumns)
                    for (int i = 0; i < l.Size; i++) { fields.Add(new DataField<float>($"{l.Column}_{i}")); _obs[m].Add(new List<float>()); }
                else if (l.Storage is ModalityStorage.Float32 or ModalityStorage.UInt8) { fields.Add(new DataField<byte[]>(l.Column)); _obs[m].Add(new List<byte[]>()); }
                else if (l.Storage == ModalityStorage.Int32) { fields.Add(new DataField<int>(l.Column)); _obs[m].Add(new List<int>()); }
                else { fields.Add(new DataField(l.Column, typeof(string), false)); _obs[m].Add(new List<string>()); }
            }
            Schema = new ParquetSchema(fields);
        }

        public ParquetSchema Schema { get; }

        public int Rows => _step.Count;

        public void Add(RecordedEpisode e)
        {
            for (int t = 0; t <= e.Length; t++)
            {
                bool step = t < e.Length;
                _episode.Add(e.Index);
                _step.Add(t);
                _action.Add(step ? e.Actions[t] : null);
                _reward.Add(step ? e.Rewards[t] : null);
                _terminated.Add(step ? e.Terminated[t] : null);
                _truncated.Add(step ? e.Truncated[t] : null);
                _value.Add(step ? e.Values[t] : null);
                var p = step ? e.ActionProbabilities[t] : null;
                for (int a = 0; a < _probs.Length; a++) _probs[a].Add(p is not null && a < p.Length ? p[a] : null);
                _seed.Add(e.Seed);
                _startState.Add(t == 0 ? e.StartState : null);
                _checkpoint.Add(e.CheckpointId);
                _phase.Add(e.Phase);
                _evaluation.Add(e.Evaluation);
                _return.Add(e.Return);
                _length.Add(e.Length);
                _success.Add(e.Success);
                for (int m = 0; m < _obs.Length; m++) AddObservation(e.Observations[m], t, _obs[m]);
            }
        }

        private static void AddObservation(ModalityRecord rec, int t, List<object> cols)
        {
            var l = rec.Layout;
            int size = l.Size;
            if (!rec.HasValues) { ((List<ulong>)cols[0]).Add(rec.Hashes![t]); return; }
            switch (l.Storage)
            {
                case ModalityStorage.Float32 when size <= MaxElementColumns:
                    for (int i = 0; i < size; i++) ((List<float>)cols[i]).Add(rec.Floats![t * size + i]);
                    break;
                case ModalityStorage.Float32:
                    ((List<byte[]>)cols[0]).Add(MemoryMarshal.AsBytes(rec.Floats.AsSpan(t * size, size)).ToArray());
                    break;
                case ModalityStorage.UInt8: ((List<byte[]>)cols[0]).Add(rec.Bytes.AsSpan(t * size, size).ToArray()); break;
                case ModalityStorage.Int32: ((List<int>)cols[0]).Add(rec.Ints![t]); break;
                default: ((List<string>)cols[0]).Add(rec.Texts![t]); break;
            }
        }

        public async Task FlushAsync(ParquetWriter writer, CancellationToken ct)
        {
            var fields = Schema.GetDataFields();
            int f = 0;
            using (var rg = writer.CreateRowGroup())
            {
                await rg.WriteAsync<long>(fields[f++], _episode.ToArray(), null, null, ct).ConfigureAwait(false);
                await rg.WriteAsync<int>(fields[f++], _step.ToArray(), null, null, ct).ConfigureAwait(false);
                await rg.WriteAsync<int>(fields[f++], _action.ToArray(), null, null, ct).ConfigureAwait(false);
                await rg.WriteAsync<double>(fields[f++], _reward.ToArray(), null, null, ct).ConfigureAwait(false);
                await rg.WriteAsync<bool>(fields[f++], _terminated.ToArray(), null, null, ct).ConfigureAwait(false);
                await rg.WriteAsync<bool>(fields[f++], _truncated.ToArray(), null, null, ct).ConfigureAwait(false);
                await rg.WriteAsync<float>(fields[f++], _value.ToArray(), null, null, ct).ConfigureAwait(false);
                foreach (var p in _probs) await rg.WriteAsync<float>(fields[f++], p.ToArray(), null, null, ct).ConfigureAwait(false);
                await rg.WriteAsync<long>(fields[f++], _seed.ToArray(), null, null, ct).ConfigureAwait(false);
                await rg.WriteAsync(fields[f++], _startState, null).ConfigureAwait(false);
                await rg.WriteAsync(fields[f++], _checkpoint, null).ConfigureAwait(false);
                await rg.WriteAsync(fields[f++], _phase, null).ConfigureAwait(false);
                await rg.WriteAsync<bool>(fields[f++], _evaluation.ToArray(), null, null, ct).ConfigureAwait(false);
                await rg.WriteAsync<double>(fields[f++], _return.ToArray(), null, null, ct).ConfigureAwait(false);
                await rg.WriteAsync<int>(fields[f++], _length.ToArray(), null, null, ct).ConfigureAwait(false);
                await rg.WriteAsync<bool>(fields[f++], _success.ToArray(), null, null, ct).ConfigureAwait(false);
                foreach (var cols in _obs)
                    foreach (var col in cols)
                    {
                        var field = fields[f++];
                        switch (col)
                        {
                            case List<float> fl: await rg.WriteAsync<float>(field, fl.ToArray(), null, null, ct).ConfigureAwait(false); break;
                            case List<ulong> ul: await rg.WriteAsync<ulong>(field, ul.ToArray(), null, null, ct).ConfigureAwait(false); break;
                            case List<int> il: await rg.WriteAsync<int>(field, il.ToArray(), null, null, ct).ConfigureAwait(false); break;
                            case List<byte[]> bl: await rg.WriteAsync(field, bl, null).ConfigureAwait(false); break;
                            case List<string> sl: await rg.WriteAsync(field, sl, null).ConfigureAwait(false); break;
                        }
                    }
            }
            Clear();
        }

        private void Clear()
        {
            _episode.Clear(); _step.Clear(); _action.Clear(); _reward.Clear(); _terminated.Clear(); _truncated.Clear(); _value.Clear();
            foreach (var p in _probs) p.Clear();
            _seed.Clear(); _startState.Clear(); _checkpoint.Clear(); _phase.Clear(); _evaluation.Clear(); _return.Clear(); _length.Clear(); _success.Clear();
            foreach (var cols in _obs)
                foreach (var col in cols) ((System.Collections.IList)col).Clear();
        }
    }
}
