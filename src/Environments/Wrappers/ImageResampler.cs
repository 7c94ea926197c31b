using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RLAgents.Environments.Wrappers;

/// <summary>How <see cref="ImageResampler"/> weighs source pixels.</summary>
public enum ResizeInterpolation
{
    /// <summary>
    /// Area averaging (OpenCV's <c>INTER_AREA</c>, what Gymnasium's <c>ResizeObservation</c> uses):
    /// each output pixel is the mean of the source area it covers, partly covered source pixels
    /// weighted by the covered fraction. An integer factor k averages k×k blocks. The weights are
    /// OpenCV's; the rounding is this class's exact one, so a pixel can differ from OpenCV's
    /// fixed-point result by one.
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
/// Shrinking by whole factors with area averaging takes a faster path with the same result. An
/// instance is not thread-safe (that path keeps a row of block sums).
/// </summary>
public sealed class ImageResampler
{
    private readonly Axis _rows, _cols;
    private readonly long _denominator; // Dy·Dx (ky·kx on the whole-factor path)
    private readonly int[]? _blockSums; // whole-factor area shrinking: block sums of one output row, else null
    private readonly ulong _reciprocal; // ⌈2⁶⁴ / 2D⌉ when every numerator 2·sum + D ≤ 511·D fits in 32 bits, else 0

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
        if (interpolation == ResizeInterpolation.Area && inHeight % outHeight == 0 && inWidth % outWidth == 0 && (long)inHeight * inWidth / ((long)outHeight * outWidth) <= 1 << 23)
        {
            // Whole-factor shrinking sums each block with the reduced denominator ky·kx (see ShrinkByIntegerFactor).
            _blockSums = new int[outWidth * channels];
            _denominator = (long)(inHeight / outHeight) * (inWidth / outWidth);
        }
        _reciprocal = 511 * _denominator <= uint.MaxValue ? ulong.MaxValue / (ulong)(2 * _denominator) + 1 : 0;
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
        // Lengths are checked above and every tap index lies inside the source, so the loops read
        // through references without bounds checks. Per output element: Σ_a wy_a · Σ_b wx_b · v.
        ref int rowStart = ref MemoryMarshal.GetArrayDataReference(_rows.Start);
        ref int rowIndex = ref MemoryMarshal.GetArrayDataReference(_rows.Index);
        ref long rowWeight = ref MemoryMarshal.GetArrayDataReference(_rows.Weight);
        ref int colStart = ref MemoryMarshal.GetArrayDataReference(_cols.Start);
        ref int colIndex = ref MemoryMarshal.GetArrayDataReference(_cols.Index);
        ref long colWeight = ref MemoryMarshal.GetArrayDataReference(_cols.Weight);
        ref byte src = ref MemoryMarshal.GetReference(source);
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        if (_blockSums is not null)
        {
            ShrinkByIntegerFactor(ref src, ref dst);
            return;
        }
        int rowBytes = InWidth * c;
        int o = 0;
        for (int i = 0; i < OutHeight; i++)
        {
            int ry0 = Unsafe.Add(ref rowStart, i), ry1 = Unsafe.Add(ref rowStart, i + 1);
            for (int j = 0; j < OutWidth; j++)
            {
                int rx0 = Unsafe.Add(ref colStart, j), rx1 = Unsafe.Add(ref colStart, j + 1);
                for (int ch = 0; ch < c; ch++)
                {
                    long sum = 0;
                    for (int a = ry0; a < ry1; a++)
                    {
                        ref byte row = ref Unsafe.Add(ref src, Unsafe.Add(ref rowIndex, a) * rowBytes + ch);
                        long rowSum = 0;
                        for (int b = rx0; b < rx1; b++) rowSum += Unsafe.Add(ref colWeight, b) * Unsafe.Add(ref row, Unsafe.Add(ref colIndex, b) * c);
                        sum += Unsafe.Add(ref rowWeight, a) * rowSum;
                    }
                    Unsafe.Add(ref dst, o++) = (byte)Divide((ulong)(2 * sum + _denominator));
                }
            }
        }
    }

    /// <summary>
    /// Area shrinking by whole factors ky = in/out rows and kx columns: every tap weighs the same, so
    /// the pixel is the block's plain sum S rounded as (2·S + ky·kx) / (2·ky·kx) — the general
    /// formula with the common factor out_h·out_w cancelled — summed a source row at a time.
    /// </summary>
    private void ShrinkByIntegerFactor(ref byte src, ref byte dst)
    {
        int c = Channels, ky = InHeight / OutHeight, kx = InWidth / OutWidth, rowBytes = InWidth * c, outRow = OutWidth * c;
        ref int sums = ref MemoryMarshal.GetArrayDataReference(_blockSums!);
        for (int i = 0; i < OutHeight; i++)
        {
            Array.Clear(_blockSums!);
            for (int dy = 0; dy < ky; dy++)
            {
                ref byte row = ref Unsafe.Add(ref src, (i * ky + dy) * rowBytes);
                for (int j = 0, x = 0; j < OutWidth; j++)
                    for (int dx = 0; dx < kx; dx++)
                        for (int ch = 0; ch < c; ch++, x++) Unsafe.Add(ref sums, j * c + ch) += Unsafe.Add(ref row, x);
            }
            ref byte output = ref Unsafe.Add(ref dst, i * outRow);
            for (int k = 0; k < outRow; k++) Unsafe.Add(ref output, k) = (byte)Divide((ulong)(2 * Unsafe.Add(ref sums, k) + _denominator));
        }
    }

    /// <summary>
    /// n / (2·D) for n &lt; 2³²: one multiply by the precomputed ⌈2⁶⁴ / 2D⌉ keeping the high word (Lemire,
    /// Kaser and Kurz 2019, exact for 32-bit numerators and divisors) instead of a 64-bit division.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Divide(ulong n) => _reciprocal != 0 ? Math.BigMul(_reciprocal, n, out _) : n / (ulong)(2 * _denominator);

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
