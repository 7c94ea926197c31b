namespace RLAgents.Environments.Wrappers;

/// <summary>
/// A vector environment whose text modalities (a mission, a description) reach the agent reworded by a
/// <see cref="ParaphraseTable"/>, while the environments themselves run unchanged: the same seeds give the same
/// episodes with the same goals; only the words the agent reads differ. At the start of each episode, env i draws
/// one alternative per key phrase from its own generator (derived from the reset seed and i), and keeps it for the
/// whole episode, in every text modality. Rewards, flags and infos pass through; <see cref="ObservationVectorWrapper.FinalObservations"/>
/// carry the ended episode's wording. Autoreset: every mode of the inner env.
/// </summary>
public sealed class ParaphrasedVectorEnv : ObservationVectorWrapper
{
    private readonly ParaphraseTable _table;
    private readonly int[] _textModalities;
    private readonly Rng[] _rngs;
    private readonly int[][] _choices;      // env → alternative per key, for its current episode
    private readonly string?[][] _lastIn, _lastOut;  // env × text modality → last text rewritten and its result

    /// <summary>Wraps <paramref name="inner"/> (owned, disposed with this) with <paramref name="table"/>.</summary>
    public ParaphrasedVectorEnv(IVectorEnv inner, ParaphraseTable table)
        : base(inner, (inner ?? throw new ArgumentNullException(nameof(inner))).SingleObservationSpace)
    {
        ArgumentNullException.ThrowIfNull(table);
        _table = table;
        var space = inner.SingleObservationSpace;
        _textModalities = [.. Enumerable.Range(0, space.Count).Where(m => space[m].Storage == ModalityStorage.Text)];
        int n = inner.NumEnvs;
        _rngs = new Rng[n];
        _choices = new int[n][];
        _lastIn = new string?[n][];
        _lastOut = new string?[n][];
        for (int i = 0; i < n; i++)
        {
            _choices[i] = new int[table.Count];
            _lastIn[i] = new string?[space.Count];
            _lastOut[i] = new string?[space.Count];
        }
        Seed(0);
    }

    /// <summary>Episodes started so far.</summary>
    public long EpisodesStarted { get; private set; }

    /// <summary>Episodes whose first observation's text the table changed (the rest read as the original).</summary>
    public long EpisodesRewritten { get; private set; }

    /// <inheritdoc />
    protected override void OnReset(long? seed)
    {
        if (seed is long s) Seed(s);
    }

    /// <inheritdoc />
    protected override void OnResetAt(int index, long? seed)
    {
        if (seed is long s) _rngs[index] = new Rng(Rng.DeriveSeed(unchecked((ulong)s), "paraphrase", index));
    }

    /// <inheritdoc />
    protected override void StartEpisode(int i)
    {
        _table.Choose(_rngs[i], _choices[i]);
        Array.Clear(_lastIn[i]);
        EpisodesStarted++;
        if (Rewrite(Inner.Observations, Observations, i)) EpisodesRewritten++;
    }

    /// <inheritdoc />
    protected override void ContinueEpisode(int i) => Rewrite(Inner.Observations, Observations, i);

    /// <inheritdoc />
    protected override void EndEpisode(int i) => Rewrite(Inner.FinalObservations, FinalObservations, i); // the ended episode keeps its wording

    private void Seed(long seed)
    {
        for (int i = 0; i < _rngs.Length; i++) _rngs[i] = new Rng(Rng.DeriveSeed(unchecked((ulong)seed), "paraphrase", i));
    }

    /// <summary>Copies slot <paramref name="i"/> with its texts reworded; true when any text changed.</summary>
    private bool Rewrite(ObservationBatch source, ObservationBatch destination, int i)
    {
        source.CopySlot(i, destination, i);
        bool changed = false;
        foreach (int m in _textModalities)
        {
            var texts = destination.Texts(m);
            string original = texts[i];
            // Missions repeat every step of an episode: reuse the last rewrite of the same text.
            if (!string.Equals(_lastIn[i][m], original, StringComparison.Ordinal))
            {
                _lastIn[i][m] = original;
                _lastOut[i][m] = _table.Apply(original, _choices[i]);
            }
            texts[i] = _lastOut[i][m]!;
            changed |= !string.Equals(texts[i], original, StringComparison.Ordinal);
        }
        return changed;
    }
}
