using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RLAgents.Environments.Configuration;

namespace RLAgents.Environments.Wrappers;

/// <summary>The weights <see cref="GrayscaleObservation"/> mixes R, G and B with.</summary>
public enum LumaWeights
{
    /// <summary>
    /// ITU-R BT.601 luma, Y = 0.299 R + 0.587 G + 0.114 B (OpenCV's and PIL's grayscale), in
    /// integers rounded half up: (299 R + 587 G + 114 B + 500) / 1000. Greys map to themselves.
    /// </summary>
    Rec601,

    /// <summary>
    /// Gymnasium 1.x's <c>GrayscaleObservation</c> byte for byte: the Rec. 709 weights (0.2125,
    /// 0.7154, 0.0721), the sum formed in double as ((0.2125 R + 0.7154 G) + 0.0721 B) and
    /// truncated, so a few greys drop by one (43 → 42).
    /// </summary>
    Gymnasium,
}

/// <summary>Options of <see cref="GrayscaleObservation"/>.</summary>
public sealed class GrayscaleOptions
{
    /// <summary>The luma formula.</summary>
    public LumaWeights Weights { get; set; } = LumaWeights.Rec601;

    /// <summary>Keep a channel axis of 1 ([H, W, 1], what channel-last image encoders take) rather than [H, W].</summary>
    public bool KeepChannelAxis { get; set; } = true;

    /// <summary>The RGB images to convert; empty means every uint8 [H, W, 3] image bounded by 0..255.</summary>
    public string[] Modalities { get; set; } = [];
}

/// <summary>
/// Converts RGB pixel modalities (uint8 [H, W, 3], bounds 0..255) to one luma channel,
/// [H, W, 1] or [H, W] (see <see cref="LumaWeights"/> for the exact arithmetic). Other modalities
/// pass through. Steps allocate nothing.
/// </summary>
public sealed class GrayscaleObservation : ObservationWrapper
{
    private readonly ObservationSpace _space;
    private readonly Observation _output;
    private readonly int[] _indices;
    private readonly bool[] _converted;
    private readonly LumaWeights _weights;

    /// <summary>Wraps <paramref name="inner"/>; bad options throw <see cref="ConfigurationException"/> naming <paramref name="path"/>.</summary>
    public GrayscaleObservation(IEnv inner, GrayscaleOptions options, string path = "env.grayscale") : base(inner)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Enum.IsDefined(options.Weights)) throw new ConfigurationException($"{path}.weights", $"unknown luma weights {options.Weights}");
        _weights = options.Weights;
        var source = inner.ObservationSpace;
        _indices = ImageModalities.Select(source, options.Modalities,
            m => ImageModalities.IsPixelImage(m.Space) && ImageModalities.Shape(m.Space)!.Value.Channels == 3 && ((BoxSpace)m.Space).Shape.Length == 3
                ? null : "is not a uint8 RGB image [H, W, 3] with bounds 0..255", path);
        var spaces = new BoxSpace[_indices.Length];
        for (int i = 0; i < _indices.Length; i++)
        {
            var (h, w, _) = ImageModalities.Shape(source[_indices[i]].Space)!.Value;
            spaces[i] = new BoxSpace(0f, 255f, options.KeepChannelAxis ? [h, w, 1] : [h, w], DType.UInt8);
        }
        _space = ImageModalities.Replace(source, _indices, spaces);
        _converted = ImageModalities.Mask(source.Count, _indices);
        _output = new Observation(_space);
    }

    /// <summary>The inner space with each converted modality [H, W, 1] (or [H, W]).</summary>
    public override ObservationSpace ObservationSpace => _space;

    /// <summary>Converts RGB triples [P, 3] to luma [P] with <paramref name="weights"/>.</summary>
    public static void Convert(ReadOnlySpan<byte> rgb, Span<byte> luma, LumaWeights weights)
    {
        if (rgb.Length != 3 * luma.Length) throw new ArgumentException($"{rgb.Length} RGB bytes do not make {luma.Length} pixels.", nameof(rgb));
        // Lengths are checked above, so the loops read and write through references without bounds checks.
        ref byte src = ref MemoryMarshal.GetReference(rgb);
        ref byte dst = ref MemoryMarshal.GetReference(luma);
        int n = luma.Length;
        if (weights == LumaWeights.Rec601)
        {
            for (int p = 0; p < n; p++)
            {
                ref byte px = ref Unsafe.Add(ref src, 3 * p);
                uint sum = 299u * px + 587u * Unsafe.Add(ref px, 1) + 114u * Unsafe.Add(ref px, 2) + 500u;
                Unsafe.Add(ref dst, p) = (byte)(sum / 1000u);
            }
            return;
        }
        for (int p = 0; p < n; p++)
        {
            ref byte px = ref Unsafe.Add(ref src, 3 * p);
            Unsafe.Add(ref dst, p) = (byte)(0.2125 * px + 0.7154 * Unsafe.Add(ref px, 1) + 0.0721 * Unsafe.Add(ref px, 2));
        }
    }

    /// <inheritdoc />
    protected override Observation Transform(Observation observation, bool episodeStart)
    {
        ImageModalities.CopyOthers(observation, _output, _converted);
        foreach (int m in _indices) Convert(observation.Bytes(m), _output.Bytes(m), _weights);
        return _output;
    }
}
