namespace RLAgents.Environments.Wrappers;

/// <summary>
/// A vector environment whose text modalities (a mission, a description) reach the agent reworded by a
/// <see cref="ParaphraseTable"/>, while the environments themselves run unchanged: the same seeds give the same
/// episodes with the same goals; only the words the agent reads differ. At the start of each episode, env i draws
/// one alternative per key phrase from its own generator (derived from the reset seed and i), and keeps it for the
/// whole episode, in every text modality. Rewards, flags and infos pass through; <see cref="FinalObservations"/>
/// carry the ended episode's wording. Autoreset: every mode of the inner env.
/// </summary>
public sealed class ParaphrasedVectorEnv : IVectorEnv
{
    private readonly IVectorEnv _inner;
    private readonly ParaphraseTable _table;
    private readonly int[] _textModalities;
    private readonly Rng[] _rngs;
    private readonly int[][] _choices;      // env → alternative per key, for its current episode
    private readonly bool[] _startsNext;    // NextStep: env i ended on the previous step, so this step starts an episode
    private readonly string?[][] _lastIn, _lastOut;  // env × text modality → last text rewritten and its result

    /// <summary>Wraps <paramref name="inner"/> (owned, disposed with this) with <paramref name="table"/>.</summary>
    public ParaphrasedVectorEnv(IVectorEnv inner, ParaphraseTable table)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(table);
        _inner = inner;
        _table = table;
        var space = inner.SingleObservationSpace;
        _textModalities = [.. Enumerable.Range(0, space.Count).Where(m => space[m].Storage == ModalityStorage.Text)];
        int n = inner.NumEnvs;
        Observations = new ObservationBatch(space, n);
        FinalObservations = new ObservationBatch(space, n);
        _rngs = new Rng[n];
        _choices = new int[n][];
        _startsNext = new bool[n];
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

    /// <summary>The wrapped vector environment.</summary>
    public IVectorEnv Inner => _inner;

    /// <summary>Episodes started so far.</summary>
    public long EpisodesStarted { get; private set; }

    /// <summary>Episodes whose first observation's text the table changed (the rest read as the original).</summary>
    public long EpisodesRewritten { get; private set; }

    /// <inheritdoc />
    public int NumEnvs => _inner.NumEnvs;

    /// <inheritdoc />
    public EnvId Id => _inner.Id;

    /// <inheritdoc />
    public ObservationSpace SingleObservationSpace => _inner.SingleObservationSpace;

    /// <inheritdoc />
    public Space SingleActionSpace => _inner.SingleActionSpace;

    /// <inheritdoc />
    public AutoresetMode AutoresetMode => _inner.AutoresetMode;

    /// <inheritdoc />
    public ObservationBatch Observations { get; }

    /// <inheritdoc />
    public ObservationBatch FinalObservations { get; }

    /// <inheritdoc />
    public ReadOnlySpan<double> Rewards => _inner.Rewards;

    /// <inheritdoc />
    public ReadOnlySpan<bool> Terminated => _inner.Terminated;

    /// <inheritdoc />
    public ReadOnlySpan<bool> Truncated => _inner.Truncated;

    /// <inheritdoc />
    public ReadOnlySpan<StepInfo> Infos => _inner.Infos;

    /// <inheritdoc />
    public void Reset(long? seed = null)
    {
        _inner.Reset(seed);
        if (seed is long s) Seed(s);
        for (int i = 0; i < NumEnvs; i++) Start(i);
    }

    /// <inheritdoc />
    public void ResetAt(int index, long? seed = null)
    {
        _inner.ResetAt(index, seed);
        if (seed is long s) _rngs[index] = new Rng(Rng.DeriveSeed(unchecked((ulong)s), "paraphrase", index));
        Start(index);
    }

    /// <inheritdoc />
    public void Step(ActionBatch actions)
    {
        _inner.Step(actions);
        AfterStep();
    }

    /// <inheritdoc />
    public void Step(ReadOnlySpan<int> actions)
    {
        _inner.Step(actions);
        AfterStep();
    }

    private void AfterStep()
    {
        var terminated = _inner.Terminated;
        var truncated = _inner.Truncated;
        for (int i = 0; i < NumEnvs; i++)
        {
            if (_startsNext[i])
            {
                Start(i);
                continue;
            }
            bool done = terminated[i] || truncated[i];
            if (done && _inner.AutoresetMode == AutoresetMode.SameStep)
            {
                // The ended episode's last observation keeps its wording; the new episode draws its own.
                Rewrite(_inner.FinalObservations, FinalObservations, i);
                Start(i);
                continue;
            }
            Rewrite(_inner.Observations, Observations, i);
            if (done && _inner.AutoresetMode == AutoresetMode.NextStep) _startsNext[i] = true;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _inner.Dispose();

    /// <inheritdoc />
    public override string ToString() => $"{nameof(ParaphrasedVectorEnv)}<{_inner}>";

    private void Seed(long seed)
    {
        for (int i = 0; i < _rngs.Length; i++) _rngs[i] = new Rng(Rng.DeriveSeed(unchecked((ulong)seed), "paraphrase", i));
    }

    private void Start(int i)
    {
        _startsNext[i] = false;
        _table.Choose(_rngs[i], _choices[i]);
        Array.Clear(_lastIn[i]);
        EpisodesStarted++;
        if (Rewrite(_inner.Observations, Observations, i)) EpisodesRewritten++;
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
