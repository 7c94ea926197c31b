using RLAgents.Environments;

namespace RLAgents.EpisodeLogs;

/// <summary>
/// One finished episode as the encoder reads it: spans over whoever holds the data (the
/// recorder's <see cref="EpisodeBuilder"/>, reused across episodes, or a <see cref="RecordedEpisode"/>).
/// Step spans have <see cref="Length"/> entries, observation spans Length + 1.
/// </summary>
internal interface IEpisodeColumns
{
    long Index { get; }
    long? Seed { get; }
    string? StartState { get; }
    string? CheckpointId { get; }
    string? Phase { get; }
    bool Evaluation { get; }
    double Return { get; }
    int Length { get; }
    bool? Success { get; }
    ReadOnlySpan<int> Actions { get; }

    /// <summary>The floats of the actions, [Length × header's ActionFloats] (empty for discrete actions).</summary>
    ReadOnlySpan<float> ContinuousActions { get; }
    ReadOnlySpan<double> Rewards { get; }
    ReadOnlySpan<bool> Terminated { get; }
    ReadOnlySpan<bool> Truncated { get; }

    /// <summary>Per step, how many action probabilities were attached (0 = none, a null cell).</summary>
    ReadOnlySpan<int> ProbabilityCounts { get; }

    /// <summary>All attached probabilities, step after step.</summary>
    ReadOnlySpan<float> ProbabilityValues { get; }

    /// <summary>Per step, the attached value (meaningful where <see cref="ValueSet"/>).</summary>
    ReadOnlySpan<float> ValueData { get; }

    /// <summary>Per step, whether a value was attached.</summary>
    ReadOnlySpan<bool> ValueSet { get; }

    ReadOnlySpan<float> Floats(int m);
    ReadOnlySpan<byte> Bytes(int m);
    ReadOnlySpan<int> Ints(int m);
    ReadOnlySpan<ulong> Hashes(int m);
    string Text(int m, int t);
}

/// <summary>A <see cref="RecordedEpisode"/> seen as columns (the path of <see cref="EpisodeLogWriter.Write(RecordedEpisode)"/>).</summary>
internal sealed class RecordedEpisodeColumns : IEpisodeColumns
{
    private readonly RecordedEpisode _e;
    private readonly int[] _probCounts;
    private readonly float[] _probValues;
    private readonly float[] _values;
    private readonly bool[] _valueSet;
    private readonly ulong[]?[] _hashes;

    public RecordedEpisodeColumns(RecordedEpisode e)
    {
        _e = e;
        int l = e.Length;
        _probCounts = new int[l];
        _values = new float[l];
        _valueSet = new bool[l];
        int total = 0;
        for (int t = 0; t < l && t < e.ActionProbabilities.Length; t++) total += _probCounts[t] = e.ActionProbabilities[t]?.Length ?? 0;
        _probValues = new float[total];
        for (int t = 0, at = 0; t < l && t < e.ActionProbabilities.Length; t++)
            if (e.ActionProbabilities[t] is { } p) { p.CopyTo(_probValues, at); at += p.Length; }
        for (int t = 0; t < l && t < e.Values.Length; t++)
            if (e.Values[t] is float v) { _values[t] = v; _valueSet[t] = true; }
        // Hash-mode logs fed full observations: hash them here.
        _hashes = new ulong[]?[e.Observations.Length];
        for (int m = 0; m < e.Observations.Length; m++)
        {
            var rec = e.Observations[m];
            if (rec.Layout.Encoding != ObservationEncoding.Hash64) continue;
            _hashes[m] = rec.Hashes ?? Enumerable.Range(0, l + 1).Select(rec.HashAt).ToArray();
        }
    }

    public long Index => _e.Index;
    public long? Seed => _e.Seed;
    public string? StartState => _e.StartState;
    public string? CheckpointId => _e.CheckpointId;
    public string? Phase => _e.Phase;
    public bool Evaluation => _e.Evaluation;
    public double Return => _e.Return;
    public int Length => _e.Length;
    public bool? Success => _e.Success;
    public ReadOnlySpan<int> Actions => _e.Actions;
    public ReadOnlySpan<float> ContinuousActions => _e.ContinuousActions;
    public ReadOnlySpan<double> Rewards => _e.Rewards;
    public ReadOnlySpan<bool> Terminated => _e.Terminated;
    public ReadOnlySpan<bool> Truncated => _e.Truncated;
    public ReadOnlySpan<int> ProbabilityCounts => _probCounts;
    public ReadOnlySpan<float> ProbabilityValues => _probValues;
    public ReadOnlySpan<float> ValueData => _values;
    public ReadOnlySpan<bool> ValueSet => _valueSet;
    public ReadOnlySpan<float> Floats(int m) => _e.Observations[m].Floats;
    public ReadOnlySpan<byte> Bytes(int m) => _e.Observations[m].Bytes;
    public ReadOnlySpan<int> Ints(int m) => _e.Observations[m].Ints;
    public ReadOnlySpan<ulong> Hashes(int m) => _hashes[m];
    public string Text(int m, int t) => _e.Observations[m].Texts![t];
}
