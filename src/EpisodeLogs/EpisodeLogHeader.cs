using System.Text.Json;
using RLAgents.Environments;
using RLAgents.Environments.Wrappers;

namespace RLAgents.EpisodeLogs;

/// <summary>How a modality's observations are stored in a log column.</summary>
public enum ObservationEncoding
{
    /// <summary>The values themselves: list&lt;float&gt; (Float32), binary (UInt8), int32 (Int32), utf8 (Text).</summary>
    Raw,
    /// <summary>UInt8 modalities only: each cell is the zlib (RFC 1950) stream of the raw bytes.</summary>
    Zlib,
    /// <summary>uint64 <see cref="ObservationHash"/> of the values only (hash mode).</summary>
    Hash64,
}

/// <summary>One observation modality of a log: its name, storage, shape and column encoding.</summary>
/// <param name="Name">Modality name; the column is <c>obs_{Name}</c>.</param>
/// <param name="Storage">Element storage of the modality.</param>
/// <param name="Shape">Dimensions, outermost first (empty for Int32 and Text).</param>
/// <param name="Encoding">How the column stores each observation.</param>
/// <param name="Picture">
/// True for a pixel image: a uint8 [H, W] or [H, W, C] modality bounded by 0..255 (an RGB view, a
/// grey or resized frame, a frame stack), as opposed to uint8 codes such as Minigrid's symbolic
/// 7×7×3 grid. The log keeps no bounds, so the recorder notes this for the viewer.
/// </param>
public sealed record ModalityLayout(string Name, ModalityStorage Storage, int[] Shape, ObservationEncoding Encoding, bool Picture = false)
{
    /// <summary>Elements per observation (product of the shape; 1 for Int32 and Text).</summary>
    public int Size => Shape.Length == 0 ? 1 : Shape.Aggregate(1, (a, b) => a * b);

    /// <summary>The Arrow column name.</summary>
    public string Column => EpisodeLogFormat.ObservationPrefix + Name;

    /// <summary>True when the layout matches a modality of a live environment (name, storage, size).</summary>
    public bool Matches(Modality modality) => modality.Name == Name && modality.Storage == Storage && modality.Size == Size;

    /// <summary>
    /// A modality of this name, storage and shape to hold logged values. The log keeps no bounds, so
    /// its space is the widest of its kind (Box ±∞ or 0..255, any integer, any text).
    /// </summary>
    public Modality ToModality() => new(Name, Storage switch
    {
        ModalityStorage.Float32 => new BoxSpace(float.NegativeInfinity, float.PositiveInfinity, Shape),
        ModalityStorage.UInt8 => new BoxSpace(0, 255, Shape, DType.UInt8),
        ModalityStorage.Int32 => new DiscreteSpace(int.MaxValue, int.MinValue / 2),
        _ => new TextSpace(int.MaxValue, minLength: 0),
    });
}

/// <summary>
/// Log-level metadata, stored once as the Arrow schema's key-value metadata: everything needed
/// to rebuild the environment of every episode in the log.
/// </summary>
public sealed record EpisodeLogHeader
{
    /// <summary>Format version of the log (<see cref="EpisodeLogFormat.Version"/> when written by this build).</summary>
    public int FormatVersion { get; init; } = EpisodeLogFormat.Version;

    /// <summary>Versioned environment id, e.g. <c>CartPole-v1</c>.</summary>
    public required string EnvId { get; init; }

    /// <summary>The environment's options as a JSON object (camelCase keys), <c>{}</c> for defaults.</summary>
    public string EnvOptionsJson { get; init; } = "{}";

    /// <summary>The wrapper stack, outermost first (e.g. <c>TimeLimit(500)</c>); empty when unwrapped.</summary>
    public IReadOnlyList<string> Wrappers { get; init; } = [];

    /// <summary>Full name of the environment's .NET type (the innermost, unwrapped one when known).</summary>
    public string? EnvType { get; init; }

    /// <summary>Name and version of the assembly that implements the environment, e.g. <c>MyEnvs, 1.2.0.0</c>.</summary>
    public string? EnvAssembly { get; init; }

    /// <summary>Plug-in specification <c>path.dll:Namespace.Type</c> for environments outside the built-in registry.</summary>
    public string? Plugin { get; init; }

    /// <summary>Observation modalities in the environment's fixed order.</summary>
    public required IReadOnlyList<ModalityLayout> Modalities { get; init; }

    /// <summary>Number of discrete actions: the size of a Discrete action space (or of the one Discrete part of a Dict); 0 when actions have no discrete part.</summary>
    public int ActionCount { get; init; }

    /// <summary>
    /// Floats per action (the continuous elements of a Box action space or of a Dict's Box parts; see
    /// <see cref="ActionLayout"/>); 0 for discrete actions. Logs with float actions carry them in
    /// <see cref="EpisodeLogFormat.Columns.ActionContinuous"/> and are format version 3.
    /// </summary>
    public int ActionFloats { get; init; }

    /// <summary>True when actions have an integer (the <see cref="EpisodeLogFormat.Columns.Action"/> column holds it); false for a Box action space.</summary>
    public bool HasDiscreteAction => ActionFloats == 0 || ActionCount > 0;

    /// <summary>The action space as <see cref="Space.ToString"/> wrote it (e.g. <c>Box(-2.0, 2.0, (1,), float32)</c>); null for a Discrete space, whose <see cref="ActionCount"/> says it all.</summary>
    public string? ActionSpace { get; init; }

    /// <summary>Version of the recorder that wrote the log.</summary>
    public string RecorderVersion { get; init; } = EpisodeLogFormat.RecorderVersion;

    /// <summary>True when observations are stored as hashes only.</summary>
    public bool ObservationHashes => Modalities.Any(m => m.Encoding == ObservationEncoding.Hash64);

    /// <summary>Builds the header for recording <paramref name="env"/>.</summary>
    /// <param name="env">The environment as the agent sees it (wrappers included).</param>
    /// <param name="options">Recording options (hash mode, compression threshold).</param>
    /// <param name="envOptions">The environment's options object (serialised to camelCase JSON), or null for defaults.</param>
    /// <param name="wrappers">Wrapper stack description, outermost first; null to derive it from the env.</param>
    /// <param name="plugin">Plug-in specification when the env is not built in.</param>
    public static EpisodeLogHeader For(IEnv env, EpisodeRecorderOptions options, object? envOptions = null,
        IReadOnlyList<string>? wrappers = null, string? plugin = null)
    {
        var inner = EnvStack.Innermost(env);
        var layout = env.ActionSpace.ActionLayout;
        // One integer column and one float-list column hold an action: a Discrete or Box space, or a Dict with at most one Discrete part.
        if (layout.DiscreteCount > 1 || layout.Parts.Any(p => p.Space is MultiDiscreteSpace))
            throw new UnsupportedActionSpaceException("Episode logs", "a Discrete, float32 Box or Dict of one Discrete and Boxes", env.ActionSpace);
        var asm = inner.GetType().Assembly.GetName();
        return new EpisodeLogHeader
        {
            EnvId = env.Id.ToString(),
            EnvOptionsJson = envOptions is null ? "{}" : JsonSerializer.Serialize(envOptions, envOptions.GetType(), EpisodeLogFormat.OptionsJson),
            Wrappers = wrappers ?? EnvStack.Describe(env),
            EnvType = inner.GetType().FullName,
            EnvAssembly = $"{asm.Name}, {asm.Version}",
            Plugin = plugin,
            FormatVersion = layout.IsDiscrete ? EpisodeLogFormat.DiscreteVersion : EpisodeLogFormat.Version,
            ActionCount = layout.IsDiscrete ? ((DiscreteSpace)env.ActionSpace).N
                : layout.Parts.Select(p => p.Space).OfType<DiscreteSpace>().Select(d => d.N).SingleOrDefault(),
            ActionFloats = layout.ContinuousCount,
            ActionSpace = layout.IsDiscrete ? null : env.ActionSpace.ToString(),
            Modalities = env.ObservationSpace.Modalities.Select(m => new ModalityLayout(
                m.Name, m.Storage,
                m.Space is BoxSpace b ? b.ShapeArray() : [],
                options.ObservationHashes ? ObservationEncoding.Hash64
                    : m.Storage == ModalityStorage.UInt8 && m.Size >= options.CompressImagesFromBytes ? ObservationEncoding.Zlib
                    : ObservationEncoding.Raw,
                ImageModalities.IsPixelImage(m.Space))).ToArray(),
        };
    }
}
