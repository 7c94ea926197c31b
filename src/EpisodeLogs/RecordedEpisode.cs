using RLAgents.Environments;

namespace RLAgents.EpisodeLogs;

/// <summary>
/// The observations of one modality over an episode: <c>Length + 1</c> entries (the reset
/// observation, then one per step). Exactly one of the arrays is set, by the layout's storage
/// and encoding: <see cref="Floats"/> and <see cref="Bytes"/> are flattened, entry t at
/// <c>[t*Size, (t+1)*Size)</c>.
/// </summary>
public sealed class ModalityRecord
{
    /// <summary>Creates an empty record for <paramref name="layout"/>.</summary>
    public ModalityRecord(ModalityLayout layout) => Layout = layout;

    /// <summary>Name, storage, shape and encoding.</summary>
    public ModalityLayout Layout { get; }

    /// <summary>Float32 values, [(Length+1) × Size], or null.</summary>
    public float[]? Floats { get; set; }

    /// <summary>UInt8 values (decompressed), [(Length+1) × Size], or null.</summary>
    public byte[]? Bytes { get; set; }

    /// <summary>Int32 values, [Length+1], or null.</summary>
    public int[]? Ints { get; set; }

    /// <summary>Text values, [Length+1], or null.</summary>
    public string[]? Texts { get; set; }

    /// <summary>Hashes, [Length+1], in hash mode; null otherwise.</summary>
    public ulong[]? Hashes { get; set; }

    /// <summary>True when the values are stored (not only hashes).</summary>
    public bool HasValues => Hashes is null;

    /// <summary>The <see cref="ObservationHash"/> of entry <paramref name="t"/>, stored or computed from the values.</summary>
    public ulong HashAt(int t)
    {
        if (Hashes is not null) return Hashes[t];
        int size = Layout.Size;
        return Layout.Storage switch
        {
            ModalityStorage.Float32 => ObservationHash.Hash(new ReadOnlySpan<float>(Floats, t * size, size)),
            ModalityStorage.UInt8 => ObservationHash.Hash(new ReadOnlySpan<byte>(Bytes, t * size, size)),
            ModalityStorage.Int32 => ObservationHash.Hash(Ints![t]),
            _ => ObservationHash.Hash(Texts![t]),
        };
    }

    /// <summary>Writes entry <paramref name="t"/> into modality <paramref name="m"/> of <paramref name="destination"/>; needs values.</summary>
    public void CopyTo(int t, Observation destination, int m)
    {
        if (!HasValues) throw new InvalidOperationException($"Modality '{Layout.Name}' was recorded as hashes only; replay the episode to regenerate its observations.");
        int size = Layout.Size;
        switch (Layout.Storage)
        {
            case ModalityStorage.Float32: Floats.AsSpan(t * size, size).CopyTo(destination.Floats(m)); break;
            case ModalityStorage.UInt8: Bytes.AsSpan(t * size, size).CopyTo(destination.Bytes(m)); break;
            case ModalityStorage.Int32: destination.SetInt(m, Ints![t]); break;
            default: destination.SetText(m, Texts![t]); break;
        }
    }
}

/// <summary>
/// One recorded episode as the reader returns it and the recorder builds it. Step arrays have
/// <see cref="Length"/> entries: entry t is the action taken on observation t, the reward of that
/// transition and its flags. Observations have <c>Length + 1</c> entries.
/// </summary>
public sealed class RecordedEpisode
{
    /// <summary>Index of the episode in the run (counts every episode the recorder saw, recorded or not).</summary>
    public long Index { get; set; }

    /// <summary>The seed passed to <see cref="IEnv.Reset"/>, or null when the start state is recorded instead.</summary>
    public long? Seed { get; set; }

    /// <summary>The start state (JSON from <see cref="IStartStateEnv.CaptureStartState"/>), or null.</summary>
    public string? StartState { get; set; }

    /// <summary>Checkpoint the acting policy came from, or null.</summary>
    public string? CheckpointId { get; set; }

    /// <summary>Training phase (e.g. <c>rl</c>, <c>sft</c>, <c>eval</c>, <c>bot</c>), or null.</summary>
    public string? Phase { get; set; }

    /// <summary>True when recorded during evaluation.</summary>
    public bool Evaluation { get; set; }

    /// <summary>Number of steps.</summary>
    public int Length { get; set; }

    /// <summary>Undiscounted sum of rewards.</summary>
    public double Return { get; set; }

    /// <summary>Whether the goal was reached (from <see cref="StepInfo.IsSuccess"/> on the last step), or null when unknown.</summary>
    public bool? Success { get; set; }

    /// <summary>Actions, [Length]: the integer of each action (0 when the action space has no discrete part).</summary>
    public int[] Actions { get; set; } = [];

    /// <summary>Floats per action (<see cref="EpisodeLogHeader.ActionFloats"/>); 0 for discrete actions.</summary>
    public int ActionFloats { get; set; }

    /// <summary>The floats of the actions, [Length × <see cref="ActionFloats"/>] row-major (empty for discrete actions).</summary>
    public float[] ContinuousActions { get; set; } = [];

    /// <summary>The floats of action <paramref name="t"/>, [<see cref="ActionFloats"/>].</summary>
    public ReadOnlySpan<float> ContinuousActionAt(int t) => ContinuousActions.AsSpan(t * ActionFloats, ActionFloats);

    /// <summary>
    /// Action <paramref name="t"/> as an environment of <paramref name="layout"/> takes it: its integer
    /// (when the layout has a discrete element) and its floats.
    /// </summary>
    public EnvAction ActionAt(int t, ActionLayout layout) =>
        new(layout.DiscreteCount == 0 ? default : Actions.AsSpan(t, 1), ContinuousActionAt(t));

    /// <summary>Action <paramref name="t"/> for people: <c>2</c>, or the floats as <c>[0.5, -1.25]</c> (round-trip digits).</summary>
    public string DescribeAction(int t)
    {
        if (ActionFloats == 0) return Actions[t].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "[" + string.Join(", ", ContinuousActionAt(t).ToArray().Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]";
    }

    /// <summary>Rewards, [Length].</summary>
    public double[] Rewards { get; set; } = [];

    /// <summary>Termination flags, [Length].</summary>
    public bool[] Terminated { get; set; } = [];

    /// <summary>Truncation flags, [Length].</summary>
    public bool[] Truncated { get; set; } = [];

    /// <summary>Action probabilities the agent attached, [Length] (null entries where none).</summary>
    public float[]?[] ActionProbabilities { get; set; } = [];

    /// <summary>Value estimates the agent attached, [Length] (null entries where none).</summary>
    public float?[] Values { get; set; } = [];

    /// <summary>Observations per modality in the log's order, each with Length + 1 entries.</summary>
    public ModalityRecord[] Observations { get; set; } = [];

    /// <summary>The observation record of the modality named <paramref name="name"/>.</summary>
    public ModalityRecord Modality(string name) => Observations.FirstOrDefault(o => o.Layout.Name == name)
        ?? throw new KeyNotFoundException($"No modality '{name}' in this log; it has: {string.Join(", ", Observations.Select(o => o.Layout.Name))}.");

    /// <summary>True when the episode ended by termination (not truncation).</summary>
    public bool EndedTerminated => Length > 0 && Terminated[^1];

    /// <summary>True when the episode ended by truncation.</summary>
    public bool EndedTruncated => Length > 0 && Truncated[^1];
}
