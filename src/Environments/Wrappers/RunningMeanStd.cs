namespace RLAgents.Environments.Wrappers;

/// <summary>
/// Per-element running mean and (population) variance of float vectors, updated one sample at a
/// time (Welford) or by merging another set's moments (Chan, Golub and LeVeque's parallel
/// formula); the single-sample update is the merge with a set of one. Moments are float64.
/// </summary>
public sealed class RunningMeanStd
{
    private readonly double[] _mean;
    private readonly double[] _variance;

    /// <summary>Creates empty statistics for vectors of <paramref name="size"/> elements (mean 0, variance 1, count 0).</summary>
    public RunningMeanStd(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        _mean = new double[size];
        _variance = new double[size];
        _variance.AsSpan().Fill(1.0);
    }

    /// <summary>Elements per vector.</summary>
    public int Size => _mean.Length;

    /// <summary>Number of samples merged so far.</summary>
    public double Count { get; private set; }

    /// <summary>Running mean, one per element.</summary>
    public ReadOnlySpan<double> Mean => _mean;

    /// <summary>Running population variance, one per element (1 before the first sample).</summary>
    public ReadOnlySpan<double> Variance => _variance;

    /// <summary>Adds one sample.</summary>
    public void Update(ReadOnlySpan<float> sample) => UpdateCore(sample);

    /// <summary>Adds one float64 sample (e.g. a discounted return).</summary>
    public void Update(ReadOnlySpan<double> sample) => UpdateCore(sample);

    private void UpdateCore<T>(ReadOnlySpan<T> sample) where T : struct, System.Numerics.INumberBase<T>
    {
        CheckSize(sample.Length);
        double n = Count, total = n + 1;
        for (int i = 0; i < _mean.Length; i++)
        {
            double delta = double.CreateTruncating(sample[i]) - _mean[i];
            _mean[i] += delta / total;
            // M2_new = M2_old + delta² · n / (n + 1); variance = M2 / count.
            _variance[i] = n == 0 ? 0.0 : (_variance[i] * n + delta * delta * n / total) / total;
        }
        Count = total;
    }

    /// <summary>Merges the moments of another set of <paramref name="count"/> samples.</summary>
    public void Merge(ReadOnlySpan<double> mean, ReadOnlySpan<double> variance, double count)
    {
        CheckSize(mean.Length);
        CheckSize(variance.Length);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0) return;
        double na = Count, total = na + count;
        for (int i = 0; i < _mean.Length; i++)
        {
            double delta = mean[i] - _mean[i];
            double varA = na == 0 ? 0.0 : _variance[i];
            _mean[i] += delta * count / total;
            _variance[i] = (varA * na + variance[i] * count + delta * delta * na * count / total) / total;
        }
        Count = total;
    }

    /// <summary>Merges <paramref name="other"/>'s moments into these.</summary>
    public void Merge(RunningMeanStd other) => Merge(other._mean, other._variance, other.Count);

    /// <summary>
    /// Normalises <paramref name="values"/> in place: <c>clip((v − mean) / sqrt(variance + epsilon), −clip, clip)</c>.
    /// </summary>
    public void Normalize(Span<float> values, double epsilon, double clip)
    {
        CheckSize(values.Length);
        for (int i = 0; i < values.Length; i++)
        {
            double z = (values[i] - _mean[i]) / Math.Sqrt(_variance[i] + epsilon);
            values[i] = (float)Math.Clamp(z, -clip, clip);
        }
    }

    /// <summary>The moments as plain arrays, for saving next to a checkpoint.</summary>
    public RunningMeanStdState Save() => new(Count, (double[])_mean.Clone(), (double[])_variance.Clone());

    /// <summary>Replaces the moments with a saved state.</summary>
    public void Load(RunningMeanStdState state)
    {
        CheckSize(state.Mean.Length);
        CheckSize(state.Variance.Length);
        if (!(state.Count >= 0)) throw new ArgumentException($"Saved count {state.Count} is negative.", nameof(state));
        state.Mean.CopyTo(_mean, 0);
        state.Variance.CopyTo(_variance, 0);
        Count = state.Count;
    }

    private void CheckSize(int length)
    {
        if (length != _mean.Length)
            throw new ArgumentException($"Running statistics hold {_mean.Length} elements, got {length}.");
    }
}

/// <summary>Saved moments of a <see cref="RunningMeanStd"/>: plain arrays, JSON-friendly.</summary>
/// <param name="Count">Samples merged.</param>
/// <param name="Mean">Per-element mean.</param>
/// <param name="Variance">Per-element population variance.</param>
public sealed record RunningMeanStdState(double Count, double[] Mean, double[] Variance);
