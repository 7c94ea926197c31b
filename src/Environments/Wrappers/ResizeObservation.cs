using System.ComponentModel.DataAnnotations;
using RLAgents.Environments.Configuration;

namespace RLAgents.Environments.Wrappers;

/// <summary>Options of <see cref="ResizeObservation"/>.</summary>
public sealed class ResizeOptions
{
    /// <summary>Output rows.</summary>
    [Range(1, 4096)]
    public int Height { get; set; } = 84;

    /// <summary>Output columns.</summary>
    [Range(1, 4096)]
    public int Width { get; set; } = 84;

    /// <summary>Area averaging (Gymnasium's choice, best for shrinking) or bilinear.</summary>
    public ResizeInterpolation Interpolation { get; set; } = ResizeInterpolation.Area;

    /// <summary>The pixel images to resize; empty means every uint8 image bounded by 0..255.</summary>
    public string[] Modalities { get; set; } = [];
}

/// <summary>
/// Resizes pixel image modalities (uint8 [H, W, C] or [H, W], bounds 0..255) to
/// [<see cref="ResizeOptions.Height"/>, <see cref="ResizeOptions.Width"/>, C] (rank kept) with
/// <see cref="ImageResampler"/>'s exact integer arithmetic. Other modalities pass through. Steps
/// allocate nothing. Symbolic images (small codes) are refused: averaging codes means nothing.
/// </summary>
public sealed class ResizeObservation : ObservationWrapper
{
    private readonly ObservationSpace _space;
    private readonly Observation _output;
    private readonly int[] _indices;
    private readonly ImageResampler[] _resamplers;
    private readonly bool[] _resized;

    /// <summary>Wraps <paramref name="inner"/>; bad options throw <see cref="ConfigurationException"/> naming <paramref name="path"/>.</summary>
    public ResizeObservation(IEnv inner, ResizeOptions options, string path = "env.resize") : base(inner)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Height < 1) throw new ConfigurationException($"{path}.height", $"must be at least 1, got {options.Height}");
        if (options.Width < 1) throw new ConfigurationException($"{path}.width", $"must be at least 1, got {options.Width}");
        if (!Enum.IsDefined(options.Interpolation)) throw new ConfigurationException($"{path}.interpolation", $"unknown interpolation {options.Interpolation}");
        var source = inner.ObservationSpace;
        _indices = ImageModalities.Select(source, options.Modalities,
            m => ImageModalities.IsPixelImage(m.Space) ? null : "is not a uint8 pixel image [H, W, C] or [H, W] with bounds 0..255", path);
        _resamplers = new ImageResampler[_indices.Length];
        var spaces = new BoxSpace[_indices.Length];
        for (int i = 0; i < _indices.Length; i++)
        {
            var box = (BoxSpace)source[_indices[i]].Space;
            var (h, w, c) = ImageModalities.Shape(box)!.Value;
            _resamplers[i] = new ImageResampler(h, w, options.Height, options.Width, c, options.Interpolation);
            int[] shape = box.Shape.Length == 3 ? [options.Height, options.Width, c] : [options.Height, options.Width];
            spaces[i] = new BoxSpace(0f, 255f, shape, DType.UInt8);
        }
        _space = ImageModalities.Replace(source, _indices, spaces);
        _resized = ImageModalities.Mask(source.Count, _indices);
        _output = new Observation(_space);
    }

    /// <summary>The inner space with each resized modality [Height, Width, C].</summary>
    public override ObservationSpace ObservationSpace => _space;

    /// <inheritdoc />
    protected override Observation Transform(Observation observation, bool episodeStart)
    {
        ImageModalities.CopyOthers(observation, _output, _resized);
        for (int i = 0; i < _indices.Length; i++) _resamplers[i].Resize(observation.Bytes(_indices[i]), _output.Bytes(_indices[i]));
        return _output;
    }
}
