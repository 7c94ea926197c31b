using System.Globalization;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;

namespace RLAgents.EpisodeLogs;

/// <summary>
/// The episode log format: an Apache Arrow IPC stream, one record batch per episode, one row per
/// observation. An episode of length L has L + 1 rows; row t (0 ≤ t ≤ L) holds observation t
/// (row 0 the reset observation) and, for t &lt; L, the action taken on it, the agent's action
/// probabilities and value there, and the reward and flags of that transition; row L has null
/// action, reward and flags. Episode-level columns repeat on every row (start_state only on row 0).
/// The schema's key-value metadata holds the <see cref="EpisodeLogHeader"/>.
/// <para>Read it without RLAgents: <c>pyarrow.ipc.open_stream(path).read_all().to_pandas()</c>, or
/// DuckDB's <c>read_arrow</c> / <c>pyarrow</c> scan; zlib cells decompress with Python's <c>zlib.decompress</c>.</para>
/// </summary>
public static class EpisodeLogFormat
{
    /// <summary>
    /// Current format version; readers reject logs with a larger one. Version 2 adds a CRC-32C to every
    /// message (see <see cref="BatchChecksum"/>): the schema's in its metadata, a record batch's in its
    /// message's custom metadata; version 1 logs, which have none, are still read. Version 3 adds float
    /// actions (<see cref="Columns.ActionContinuous"/>, for Box and Dict action spaces); logs of discrete
    /// actions are still written as <see cref="DiscreteVersion"/>, so that builds that read version 2 keep reading them.
    /// </summary>
    public const int Version = 3;

    /// <summary>The version written for logs of a Discrete action space (their layout has not changed since version 2).</summary>
    public const int DiscreteVersion = 2;

    /// <summary>Recorder version written into new logs.</summary>
    public const string RecorderVersion = "rlagents-episode-recorder/1.0";

    /// <summary>Value of the <c>rlagents.format</c> metadata key identifying an episode log.</summary>
    public const string FormatName = "rlagents-episode-log";

    /// <summary>
    /// File extension of episode logs: Arrow's own convention for the IPC stream format (<c>.arrows</c>);
    /// <c>.arrow</c> names Arrow's file format (magic header and footer), which Feather, pandas and polars file
    /// readers expect. Readers look at the content, not the name, so logs named <see cref="LegacyFileExtension"/> still read.
    /// </summary>
    public const string FileExtension = ".arrows";

    /// <summary>The extension earlier builds gave episode logs (the same stream format).</summary>
    public const string LegacyFileExtension = ".arrow";

    /// <summary>Prefix of observation columns: modality <c>image</c> is column <c>obs_image</c>.</summary>
    public const string ObservationPrefix = "obs_";

    // Schema metadata keys.
    internal const string KeyFormat = "rlagents.format";
    internal const string KeyVersion = "rlagents.format_version";
    internal const string KeyRecorder = "rlagents.recorder_version";
    internal const string KeyEnvId = "rlagents.env_id";
    internal const string KeyEnvOptions = "rlagents.env_options";
    internal const string KeyWrappers = "rlagents.wrappers";
    internal const string KeyEnvType = "rlagents.env_type";
    internal const string KeyEnvAssembly = "rlagents.env_assembly";
    internal const string KeyPlugin = "rlagents.plugin";
    internal const string KeyActionCount = "rlagents.action_count";
    internal const string KeyActionFloats = "rlagents.action_floats";
    internal const string KeyActionSpace = "rlagents.action_space";
    // Field metadata keys of observation columns.
    internal const string KeyModality = "rlagents.modality";
    internal const string KeyStorage = "rlagents.storage";
    internal const string KeyShape = "rlagents.shape";
    internal const string KeyEncoding = "rlagents.encoding";
    internal const string KeyPicture = "rlagents.picture"; // "true" on pixel images only; absent in older logs

    /// <summary>Column names, in schema order before the observation columns.</summary>
    public static class Columns
    {
        /// <summary>int64: episode index in the run.</summary>
        public const string Episode = "episode";
        /// <summary>int32: row index t within the episode, 0..L.</summary>
        public const string Step = "step";
        /// <summary>int32, null on the last row: action taken on observation t (null on every row when the action space has no discrete part).</summary>
        public const string Action = "action";
        /// <summary>
        /// list&lt;float&gt; of <see cref="EpisodeLogHeader.ActionFloats"/> values, null on the last row: the floats of
        /// the action taken on observation t, exactly as the environment received them (float32 bits).
        /// Present only in logs of an action space with continuous elements.
        /// </summary>
        public const string ActionContinuous = "action_continuous";
        /// <summary>float64, null on the last row: reward of transition t.</summary>
        public const string Reward = "reward";
        /// <summary>bool, null on the last row: transition t terminated the episode.</summary>
        public const string Terminated = "terminated";
        /// <summary>bool, null on the last row: transition t truncated the episode.</summary>
        public const string Truncated = "truncated";
        /// <summary>list&lt;float&gt;, nullable: the agent's action probabilities on observation t.</summary>
        public const string ActionProbs = "action_probs";
        /// <summary>float32, nullable: the agent's value estimate on observation t.</summary>
        public const string Value = "value";
        /// <summary>int64, nullable: reset seed.</summary>
        public const string Seed = "seed";
        /// <summary>utf8 JSON, row 0 only, nullable: start state.</summary>
        public const string StartState = "start_state";
        /// <summary>utf8, nullable: checkpoint id of the acting policy.</summary>
        public const string CheckpointId = "checkpoint_id";
        /// <summary>utf8, nullable: training phase.</summary>
        public const string Phase = "phase";
        /// <summary>bool: recorded during evaluation.</summary>
        public const string Evaluation = "evaluation";
        /// <summary>float64: episode return.</summary>
        public const string EpisodeReturn = "episode_return";
        /// <summary>int32: episode length L.</summary>
        public const string EpisodeLength = "episode_length";
        /// <summary>bool, nullable: episode success.</summary>
        public const string Success = "success";
    }

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    /// <summary>Environment options are written as the strict options binder reads them (camelCase keys and enums), on one line.</summary>
    internal static readonly JsonSerializerOptions OptionsJson = new(OptionsBinder.JsonOptions) { WriteIndented = false };

    /// <summary>Builds the Arrow schema of a log with <paramref name="header"/>.</summary>
    public static Schema BuildSchema(EpisodeLogHeader header)
    {
        var b = new Schema.Builder()
            .Field(new Field(Columns.Episode, Int64Type.Default, false))
            .Field(new Field(Columns.Step, Int32Type.Default, false))
            .Field(new Field(Columns.Action, Int32Type.Default, true));
        if (header.ActionFloats > 0) b.Field(new Field(Columns.ActionContinuous, new ListType(new Field("item", FloatType.Default, false)), true));
        b.Field(new Field(Columns.Reward, DoubleType.Default, true))
            .Field(new Field(Columns.Terminated, BooleanType.Default, true))
            .Field(new Field(Columns.Truncated, BooleanType.Default, true))
            .Field(new Field(Columns.ActionProbs, new ListType(new Field("item", FloatType.Default, false)), true))
            .Field(new Field(Columns.Value, FloatType.Default, true))
            .Field(new Field(Columns.Seed, Int64Type.Default, true))
            .Field(new Field(Columns.StartState, StringType.Default, true))
            .Field(new Field(Columns.CheckpointId, StringType.Default, true))
            .Field(new Field(Columns.Phase, StringType.Default, true))
            .Field(new Field(Columns.Evaluation, BooleanType.Default, false))
            .Field(new Field(Columns.EpisodeReturn, DoubleType.Default, false))
            .Field(new Field(Columns.EpisodeLength, Int32Type.Default, false))
            .Field(new Field(Columns.Success, BooleanType.Default, true));
        foreach (var m in header.Modalities)
        {
            var meta = new Dictionary<string, string>
            {
                [KeyModality] = m.Name,
                [KeyStorage] = m.Storage.ToString(),
                [KeyShape] = string.Join(",", m.Shape),
                [KeyEncoding] = m.Encoding.ToString(),
            };
            if (m.Picture) meta[KeyPicture] = "true";
            b.Field(new Field(m.Column, ColumnType(m), false, meta));
        }
        b.Metadata(KeyFormat, FormatName)
            .Metadata(KeyVersion, header.FormatVersion.ToString(CultureInfo.InvariantCulture))
            .Metadata(KeyRecorder, header.RecorderVersion)
            .Metadata(KeyEnvId, header.EnvId)
            .Metadata(KeyEnvOptions, header.EnvOptionsJson)
            .Metadata(KeyWrappers, JsonSerializer.Serialize(header.Wrappers, Json))
            .Metadata(KeyActionCount, header.ActionCount.ToString(CultureInfo.InvariantCulture));
        if (header.ActionFloats > 0) b.Metadata(KeyActionFloats, header.ActionFloats.ToString(CultureInfo.InvariantCulture));
        if (header.ActionSpace is not null) b.Metadata(KeyActionSpace, header.ActionSpace);
        if (header.EnvType is not null) b.Metadata(KeyEnvType, header.EnvType);
        if (header.EnvAssembly is not null) b.Metadata(KeyEnvAssembly, header.EnvAssembly);
        if (header.Plugin is not null) b.Metadata(KeyPlugin, header.Plugin);
        // Its digits are filled in once the schema message is serialised (see BatchChecksum).
        b.Metadata(BatchChecksum.Key, BatchChecksum.Unsealed);
        return b.Build();
    }

    /// <summary>Arrow type of an observation column.</summary>
    internal static IArrowType ColumnType(ModalityLayout m) => m.Encoding switch
    {
        ObservationEncoding.Hash64 => UInt64Type.Default,
        ObservationEncoding.Zlib => BinaryType.Default,
        _ => m.Storage switch
        {
            ModalityStorage.Float32 => new ListType(new Field("item", FloatType.Default, false)),
            ModalityStorage.UInt8 => BinaryType.Default,
            ModalityStorage.Int32 => Int32Type.Default,
            _ => StringType.Default,
        },
    };

    /// <summary>Reads the header from a log's schema; throws <see cref="EpisodeLogFormatException"/> when it is not a log this build can read.</summary>
    public static EpisodeLogHeader ParseHeader(Schema schema, long offset = 0)
    {
        try
        {
            return ParseHeaderOrThrow(schema, offset);
        }
        catch (Exception e) when (e is FormatException or OverflowException or JsonException)
        {
            throw new EpisodeLogFormatException($"the schema's metadata is unreadable ({e.Message})", offset);
        }
    }

    private static EpisodeLogHeader ParseHeaderOrThrow(Schema schema, long offset)
    {
        var md = schema.Metadata ?? new Dictionary<string, string>();
        string Get(string key) => md.TryGetValue(key, out var v) ? v
            : throw new EpisodeLogFormatException($"the schema lacks metadata key '{key}'", offset);
        if (!md.TryGetValue(KeyFormat, out var fmt) || fmt != FormatName)
            throw new EpisodeLogFormatException($"not an RLAgents episode log (metadata '{KeyFormat}' is {(fmt is null ? "missing" : $"'{fmt}'")})", offset);
        if (!int.TryParse(Get(KeyVersion), NumberStyles.None, CultureInfo.InvariantCulture, out int version) || version < 1)
            throw new EpisodeLogFormatException($"invalid format version '{Get(KeyVersion)}'", offset);
        if (version > Version)
            throw new EpisodeLogFormatException($"format version {version} is newer than this build reads ({Version}); update RLAgents", offset);
        if (version >= 2 && !md.ContainsKey(BatchChecksum.Key))
            throw new EpisodeLogFormatException("the schema is damaged: a format-2 schema without its checksum", offset);
        var modalities = new List<ModalityLayout>();
        foreach (var f in schema.FieldsList)
        {
            if (!f.Name.StartsWith(ObservationPrefix, StringComparison.Ordinal)) continue;
            var fm = f.Metadata ?? new Dictionary<string, string>();
            if (!fm.TryGetValue(KeyModality, out var name) || !fm.TryGetValue(KeyStorage, out var storage)
                || !fm.TryGetValue(KeyShape, out var shape) || !fm.TryGetValue(KeyEncoding, out var enc)
                || !Enum.TryParse<ModalityStorage>(storage, out var st) || !Enum.TryParse<ObservationEncoding>(enc, out var en))
                throw new EpisodeLogFormatException($"column '{f.Name}' lacks valid modality metadata", offset);
            int[] dims = shape.Length == 0 ? [] : shape.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            modalities.Add(new ModalityLayout(name, st, dims, en, fm.TryGetValue(KeyPicture, out var picture) && picture == "true"));
        }
        if (modalities.Count == 0) throw new EpisodeLogFormatException("the schema has no observation columns", offset);
        return new EpisodeLogHeader
        {
            FormatVersion = version,
            EnvId = Get(KeyEnvId),
            EnvOptionsJson = Get(KeyEnvOptions),
            Wrappers = JsonSerializer.Deserialize<string[]>(Get(KeyWrappers), Json) ?? [],
            EnvType = md.GetValueOrDefault(KeyEnvType),
            EnvAssembly = md.GetValueOrDefault(KeyEnvAssembly),
            Plugin = md.GetValueOrDefault(KeyPlugin),
            ActionCount = int.Parse(Get(KeyActionCount), CultureInfo.InvariantCulture),
            ActionFloats = md.TryGetValue(KeyActionFloats, out var floats) ? int.Parse(floats, NumberStyles.None, CultureInfo.InvariantCulture) : 0,
            ActionSpace = md.GetValueOrDefault(KeyActionSpace),
            RecorderVersion = Get(KeyRecorder),
            Modalities = modalities,
        };
    }
}

/// <summary>A log is damaged or not an episode log: the message names what and where (byte offset).</summary>
public sealed class EpisodeLogFormatException : Exception
{
    /// <summary>Creates the error; the message reads "episode log damaged at byte {offset}: {reason}".</summary>
    public EpisodeLogFormatException(string reason, long offset)
        : base($"episode log damaged at byte {offset}: {reason}")
    {
        Reason = reason;
        Offset = offset;
    }

    /// <summary>What is wrong.</summary>
    public string Reason { get; }

    /// <summary>Byte offset of the damaged message in the file.</summary>
    public long Offset { get; }
}
