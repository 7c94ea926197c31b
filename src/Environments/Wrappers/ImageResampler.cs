namespace RLAgents.Environments.Wrappers;

/// <summary>How <see cref="ImageResampler"/> weighs source pixels.</summary>
public enum ResizeInterpolation
{
    /// <summary>
    /// Area averaging (OpenCV's <c>INTER_AREA</c>, what Gymnasium's <c>ResizeObservation</c> uses):
    /// each output pixel is the mean of the source area it covers, partly covered source pixels
    /// weighted by the covered fraction. An integer factor k averages k×k blocks.
    /// </summary>
    Area,

    /// <summary>
    /// Bilinear on pixel centres (OpenCV's <c>INTER_LINEAR</c>, torch's <c>align_corners=False</c>,
    /// no antialiasing): output pixel i samples source coordinate (i + ½)·in/out − ½, clamped to the
    /// image, from its two nearest source pixels per axis.
    /// </summary>
    Bilinear,
}

/// <summary>
/// Resizes uint8 [H, W, C] images (row-major, channels last) in exact integer arithmetic, so the
/// result is defined to the byte and identical on every machine: per axis, output index i draws
/// on source indices with integer weights whose sum D is the same for every i (area: the overlap
/// of [i·in, (i+1)·in) with [r·out, (r+1)·out), D = in; bilinear: weights (2·out − f, f) on
/// pixels (⌊s⌋, min(⌊s⌋+1, in−1)) for s·2·out = max(0, (2i+1)·in − out) and f = that numerator
/// mod 2·out, D = 2·out). A pixel is Σ wy·wx·v over its taps, divided by Dy·Dx and rounded half
/// up: (2·sum + Dy·Dx) / (2·Dy·Dx). Tables are built once; <see cref="Resize"/> allocates nothing.
/// </summary>
public sealed class ImageResampler
{
    private readonly Axis _rows, _cols;
    private readonly long _denominator;

    /// <summary>Creates the resampler from [<paramref name="inHeight"/>, <paramref name="inWidth"/>, C] to [<paramref name="outHeight"/>, <paramref name="outWidth"/>, C].</summary>
    public ImageResampler(int inHeight, int inWidth, int outHeight, int outWidth, int channels, ResizeInterpolation interpolation)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inHeight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outHeight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        if (!Enum.IsDefined(interpolation)) throw new ArgumentOutOfRangeException(nameof(interpolation), interpolation, "Unknown interpolation.");
        (InHeight, InWidth, OutHeight, OutWidth, Channels, Interpolation) = (inHeight, inWidth, outHeight, outWidth, channels, interpolation);
        _rows = interpolation == ResizeInterpolation.Area ? Axis.Area(inHeight, outHeight) : Axis.Bilinear(inHeight, outHeight);
        _cols = interpolation == ResizeInterpolation.Area ? Axis.Area(inWidth, outWidth) : Axis.Bilinear(inWidth, outWidth);
        _denominator = checked(_rows.Denominator * _cols.Denominator);
    }

    /// <summary>Source rows.</summary>
    public int InHeight { get; }

    /// <summary>Source columns.</summary>
    public int InWidth { get; }

    /// <summary>Output rows.</summary>
    public int OutHeight { get; }

    /// <summary>Output columns.</summary>
    public int OutWidth { get; }

    /// <summary>Channels (unchanged).</summary>
    public int Channels { get; }

    /// <summary>The weighting.</summary>
    public ResizeInterpolation Interpolation { get; }

    /// <summary>Resizes <paramref name="source"/> [InHeight, InWidth, C] into <paramref name="destination"/> [OutHeight, OutWidth, C].</summary>
    public void Resize(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int c = Channels;
        if (source.Length != InHeight * InWidth * c) throw new ArgumentException($"Expected {InHeight}x{InWidth}x{c} = {InHeight * InWidth * c} source bytes, got {source.Length}.", nameof(source));
        if (destination.Length != OutHeight * OutWidth * c) throw new ArgumentException($"Expected {OutHeight}x{OutWidth}x{c} = {OutHeight * OutWidth * c} destination bytes, got {destination.Length}.", nameof(destination));
        long d = _denominator;
        int rowBytes = InWidth * c;
        for (int i = 0; i < OutHeight; i++)
        {
            int ry0 = _rows.Start[i], ry1 = _rows.Start[i + 1];
            for (int j = 0; j < OutWidth; j++)
            {
                int rx0 = _cols.Start[j], rx1 = _cols.Start[j + 1];
                for (int ch = 0; ch < c; ch++)
                {
                    long sum = 0;
                    for (int a = ry0; a < ry1; a++)
                    {
                        long rowSum = 0;
                        int rowStart = _rows.Index[a] * rowBytes + ch;
                        for (int b = rx0; b < rx1; b++) rowSum += _cols.Weight[b] * source[rowStart + _cols.Index[b] * c];
                        sum += _rows.Weight[a] * rowSum;
                    }
                    destination[(i * OutWidth + j) * c + ch] = (byte)((2 * sum + d) / (2 * d));
                }
            }
        }
    }

    /// <summary>
    /// One axis's taps: output i uses taps [Start[i], Start[i+1]), each a source index and an
    /// integer weight; the weights of every output index sum to <see cref="Denominator"/>.
    /// </summary>
    private sealed record Axis(int[] Start, int[] Index, long[] Weight, long Denominator)
    {
        public static Axis Area(int input, int output)
        {
            // Output i covers [i·input, (i+1)·input) and source r covers [r·output, (r+1)·output), in units of 1/(input·output) of the image.
            var start = new int[output + 1];
            var index = new List<int>();
            var weight = new List<long>();
            for (int i = 0; i < output; i++)
            {
                start[i] = index.Count;
                long lo = (long)i * input, hi = (long)(i + 1) * input;
                for (int r = (int)(lo / output); r < input && (long)r * output < hi; r++)
                {
                    long overlap = Math.Min(hi, (long)(r + 1) * output) - Math.Max(lo, (long)r * output);
                    if (overlap <= 0) continue;
                    index.Add(r);
                    weight.Add(overlap);
                }
            }
            start[output] = index.Count;
            return new Axis(start, [.. index], [.. weight], input);
        }

        public static Axis Bilinear(int input, int output)
        {
            long twice = 2L * output;
            var start = new int[output + 1];
            var index = new int[2 * output];
            var weight = new long[2 * output];
            for (int i = 0; i < output; i++)
            {
                // s = (i + ½)·input/output − ½ = numerator / (2·output), clamped at 0.
                long numerator = Math.Max(0, (2L * i + 1) * input - output);
                int s0 = (int)(numerator / twice);
                long frac = numerator % twice;
                if (s0 >= input - 1) (s0, frac) = (input - 1, 0);
                start[i] = 2 * i;
                index[2 * i] = s0;
                weight[2 * i] = twice - frac;
                index[2 * i + 1] = Math.Min(s0 + 1, input - 1);
                weight[2 * i + 1] = frac;
            }
            start[output] = 2 * output;
            return new Axis(start, index, weight, twice);
        }
    }
}
