namespace RLAgents.Core.Metrics;

/// <summary>
/// A fixed-bin histogram of values in [<see cref="Low"/>, <see cref="High"/>] (values outside are clamped
/// into the end bins), kept as counts plus the moments TensorBoard's HistogramProto carries. Adding is O(1)
/// and allocation-free, so a hot loop (every env step) can fill one between metrics rows.
/// </summary>
public sealed class MetricsHistogram
{
    private readonly double[] _counts;

    /// <summary>A histogram of <paramref name="bins"/> equal bins over [<paramref name="low"/>, <paramref name="high"/>].</summary>
    public MetricsHistogram(double low, double high, int bins)
    {
        if (!(high > low)) throw new ArgumentException($"high ({high}) must exceed low ({low}).", nameof(high));
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        (Low, High) = (low, high);
        _counts = new double[bins];
        Clear();
    }

    /// <summary>Lower edge of the first bin.</summary>
    public double Low { get; }

    /// <summary>Upper edge of the last bin.</summary>
    public double High { get; }

    /// <summary>Values added since the last <see cref="Clear"/>.</summary>
    public long Count { get; private set; }

    /// <summary>Smallest value added (+∞ when empty).</summary>
    public double Min { get; private set; }

    /// <summary>Largest value added (−∞ when empty).</summary>
    public double Max { get; private set; }

    /// <summary>Sum of the values.</summary>
    public double Sum { get; private set; }

    /// <summary>Sum of the squared values.</summary>
    public double SumOfSquares { get; private set; }

    /// <summary>Counts per bin; bin i covers (<see cref="UpperEdge"/>(i − 1), <see cref="UpperEdge"/>(i)].</summary>
    public IReadOnlyList<double> Counts => _counts;

    /// <summary>The upper edge of bin <paramref name="bin"/>.</summary>
    public double UpperEdge(int bin) => Low + (High - Low) * (bin + 1) / _counts.Length;

    /// <summary>Adds one value (a non-finite one is ignored).</summary>
    public void Add(double value)
    {
        if (!double.IsFinite(value)) return;
        int bin = (int)Math.Ceiling((value - Low) / (High - Low) * _counts.Length) - 1;
        _counts[Math.Clamp(bin, 0, _counts.Length - 1)]++;
        Count++;
        Sum += value;
        SumOfSquares += value * value;
        if (value < Min) Min = value;
        if (value > Max) Max = value;
    }

    /// <summary>Forgets every value.</summary>
    public void Clear()
    {
        Array.Clear(_counts);
        (Count, Sum, SumOfSquares, Min, Max) = (0, 0, 0, double.PositiveInfinity, double.NegativeInfinity);
    }

    /// <summary>An independent copy (a metrics row keeps one while the original goes on filling).</summary>
    public MetricsHistogram Clone()
    {
        var copy = new MetricsHistogram(Low, High, _counts.Length) { Count = Count, Sum = Sum, SumOfSquares = SumOfSquares, Min = Min, Max = Max };
        _counts.CopyTo(copy._counts, 0);
        return copy;
    }
}
