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
/// uint8 modalities as base64 of the raw (decompressed) bytes, hashes as <c>"0x…"</c> hex strings, and the
/// 64-bit integers (<c>episode</c>, <c>seed</c>) as decimal strings, since JSON readers that parse numbers
/// as doubles (JavaScript, DuckDB's auto-detection of large values aside) round them beyond 2^53 and a
/// rounded seed no longer reproduces its episode. A sidecar <c>&lt;file&gt;.schema.json</c> holds the log
/// header and each column's metadata (<see cref="ColumnsKey"/>).</item>
/// <item>Parquet: the same columns, except <c>action_probs</c> spread over <c>prob_0 … prob_{n-1}</c> and float
/// actions over <c>action_continuous_0 … action_continuous_{k-1}</c> (float32, null on an episode's last row);
/// float32 modalities of at most 16 elements as one column per element (<c>obs_state_0</c> …), larger
/// ones as binary of little-endian float32; uint8 modalities as binary; hashes as uint64. The log
/// header is the file's key-value metadata, with each observation column's metadata under <see cref="ColumnsKey"/>.</item>
/// </list>
/// Column metadata carries the log's field metadata (<c>rlagents.modality</c>, <c>rlagents.storage</c>,
/// <c>rlagents.shape</c>, <c>rlagents.encoding</c>: exports always hold raw values, so zlib cells say <c>Raw</c>),
/// plus <c>rlagents.export_layout</c> (how a cell is written) and, for per-element Parquet columns, <c>rlagents.export_columns</c>.
/// </summary>
public static class EpisodeExporter
{
    private const int MaxElementColumns = 16;
    private const int RowGroupRows = 1 << 16;

    /// <summary>Metadata key (Parquet key-value metadata, JSONL sidecar) of the per-column metadata, a JSON object column → key → value.</summary>
    public const string ColumnsKey = "rlagents.columns";

    /// <summary>Suffix of the JSONL export's sidecar: the log header and the column metadata.</summary>
    public const string JsonlSchemaSuffix = ".schema.json";

    /// <summary>Columns written as decimal strings in JSONL (int64 values).</summary>
    public static IReadOnlyList<string> Int64Columns { get; } = [EpisodeLogFormat.Columns.Episode, EpisodeLogFormat.Columns.Seed];

    /// <summary>Each observation column's metadata in an export (<paramref name="parquet"/> or JSONL layout).</summary>
    public static Dictionary<string, Dictionary<string, string>> ColumnMetadata(EpisodeLogHeader header, bool parquet)
    {
        var columns = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var m in header.Modalities)
        {
            bool hash = m.Encoding == ObservationEncoding.Hash64;
            bool elements = parquet && !hash && m.Storage == ModalityStorage.Float32 && m.Size <= MaxElementColumns;
            string layout = hash ? (parquet ? "uint64 hash" : "hex string of the uint64 hash")
                : m.Storage switch
                {
                    ModalityStorage.Float32 => elements ? "one float32 column per element, row-major" : parquet ? "binary, little-endian float32, row-major" : "number array, row-major",
                    ModalityStorage.UInt8 => parquet ? "binary, row-major" : "base64, row-major",
                    ModalityStorage.Int32 => "int32",
                    _ => "utf8 string",
                };
            var meta = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [EpisodeLogFormat.KeyModality] = m.Name,
                [EpisodeLogFormat.KeyStorage] = m.Storage.ToString(),
                [EpisodeLogFormat.KeyShape] = string.Join(",", m.Shape),
                [EpisodeLogFormat.KeyEncoding] = hash ? nameof(ObservationEncoding.Hash64) : nameof(ObservationEncoding.Raw),
                ["rlagents.export_layout"] = layout,
            };
            if (elements) meta["rlagents.export_columns"] = string.Join(",", Enumerable.Range(0, m.Size).Select(i => $"{m.Column}_{i}"));
            columns[m.Column] = meta;
        }
        if (!parquet)
            foreach (string c in Int64Columns) columns[c] = new(StringComparer.Ordinal) { ["rlagents.export_layout"] = "int64 as a decimal string" };
        return columns;
    }

    // The log header plus the column metadata, as Parquet key-value metadata and the JSONL sidecar hold them.
    private static Dictionary<string, string> FileMetadata(EpisodeLogHeader header, bool parquet)
    {
        var metadata = new Dictionary<string, string>(EpisodeLogFormat.BuildSchema(header).Metadata, StringComparer.Ordinal)
        {
            [ColumnsKey] = JsonSerializer.Serialize(ColumnMetadata(header, parquet)),
        };
        return metadata;
    }

    /// <summary>Writes the episodes of <paramref name="log"/> passing <paramref name="filter"/> as JSON Lines.</summary>
    public static ExportSummary ToJsonl(EpisodeLog log, string output, EpisodeFilter? filter = null)
    {
        filter ??= new EpisodeFilter();
        int written = 0, skipped = 0, steps = 0;
        var sidecar = FileMetadata(log.Header, parquet: false);
        var columns = sidecar[ColumnsKey];
        sidecar.Remove(ColumnsKey);
        RLAgents.Core.AtomicFile.WriteText(output + JsonlSchemaSuffix, new System.Text.Json.Nodes.JsonObject
        {
            ["metadata"] = JsonSerializer.SerializeToNode(sidecar),
            ["columns"] = System.Text.Json.Nodes.JsonNode.Parse(columns),
        }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
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
        w.WriteString(EpisodeLogFormat.Columns.Episode, e.Index.ToString(System.Globalization.CultureInfo.InvariantCulture));
        w.WriteNumber(EpisodeLogFormat.Columns.Step, t);
        if (step && h.HasDiscreteAction) w.WriteNumber(EpisodeLogFormat.Columns.Action, e.Actions[t]); else w.WriteNull(EpisodeLogFormat.Columns.Action);
        if (h.ActionFloats > 0)
        {
            // float32 → double is exact and the writer prints the shortest round-trip digits, so readers get the recorded bits back.
            w.WritePropertyName(EpisodeLogFormat.Columns.ActionContinuous);
            if (step)
            {
                w.WriteStartArray();
                foreach (float f in e.ContinuousActionAt(t)) w.WriteNumberValue(f);
                w.WriteEndArray();
            }
            else w.WriteNullValue();
        }
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
        if (e.Seed is long s) w.WriteString(EpisodeLogFormat.Columns.Seed, s.ToString(System.Globalization.CultureInfo.InvariantCulture)); else w.WriteNull(EpisodeLogFormat.Columns.Seed);
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
            writer.CustomMetadata = FileMetadata(h, parquet: true);
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
        private readonly List<float?>[] _floatActions;
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
            _floatActions = Enumerable.Range(0, h.ActionFloats).Select(_ => new List<float?>()).ToArray();
            var fields = new List<Field>
            {
                new DataField<long>(EpisodeLogFormat.Columns.Episode), new DataField<int>(EpisodeLogFormat.Columns.Step),
                new DataField<int?>(EpisodeLogFormat.Columns.Action),
            };
            fields.AddRange(Enumerable.Range(0, h.ActionFloats).Select(i => new DataField<float?>($"{EpisodeLogFormat.Columns.ActionContinuous}_{i}")));
            fields.AddRange([
                new DataField<double?>(EpisodeLogFormat.Columns.Reward),
                new DataField<bool?>(EpisodeLogFormat.Columns.Terminated), new DataField<bool?>(EpisodeLogFormat.Columns.Truncated),
                new DataField<float?>(EpisodeLogFormat.Columns.Value)]);
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
                _action.Add(step && _h.HasDiscreteAction ? e.Actions[t] : null);
                for (int i = 0; i < _floatActions.Length; i++) _floatActions[i].Add(step ? e.ContinuousActions[t * _floatActions.Length + i] : null);
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
                foreach (var a in _floatActions) await rg.WriteAsync<float>(fields[f++], a.ToArray(), null, null, ct).ConfigureAwait(false);
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
            foreach (var a in _floatActions) a.Clear();
            _seed.Clear(); _startState.Clear(); _checkpoint.Clear(); _phase.Clear(); _evaluation.Clear(); _return.Clear(); _length.Clear(); _success.Clear();
            foreach (var cols in _obs)
                foreach (var col in cols) ((System.Collections.IList)col).Clear();
        }
    }
}
