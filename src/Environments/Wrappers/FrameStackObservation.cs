using System.ComponentModel.DataAnnotations;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RLAgents.Environments.Configuration;

namespace RLAgents.Environments.Wrappers;

/// <summary>Options of <see cref="FrameStackObservation"/>.</summary>
public sealed class FrameStackOptions
{
    /// <summary>Frames N per observation, the current one included (DQN on Atari uses 4).</summary>
    [Range(1, 64)]
    public int Frames { get; set; } = 4;

    /// <summary>The uint8 image modalities to stack; empty means every uint8 [H, W, C] or [H, W] modality.</summary>
    public string[] Modalities { get; set; } = [];
}

/// <summary>
/// Stacks the last N frames of image modalities along the channel axis, as DQN-style
/// convolutional encoders take them: a uint8 [H, W, C] modality becomes [H, W, N·C] ([H, W]
/// becomes [H, W, N]), channel k·C + c holding channel c of frame t − (N − 1 − k) — oldest frame
/// first, the current frame in the last C channels (Stable-Baselines3's <c>VecFrameStack</c>
/// with channels last). Permuted to [N·C, H, W] it is exactly the input of a Conv2d stack, and
/// every consumer of [H, W, C] images reads it unchanged. On reset every slot holds the first
/// frame (Gymnasium's <c>FrameStackObservation(padding_type="reset")</c>), so an episode's
/// observations never mix two episodes; with a vector environment's autoreset the ending step's
/// observation keeps its own episode's frames. Bounds are the inner ones, repeated per frame.
/// Other modalities pass through. Steps allocate nothing.
/// <para>
/// This is a fixed-input preprocessing step; <see cref="ObservationHistory"/> is the masked
/// memory for agents that attend over past steps.
/// </para>
/// </summary>
public sealed class FrameStackObservation : ObservationWrapper
{
    private readonly ObservationSpace _space;
    private readonly Observation _output;
    private readonly int[] _indices;
    private readonly int[] _channels; // C of each stacked modality
    private readonly bool[] _stacked;
    private readonly int _frames;

    /// <summary>Wraps <paramref name="inner"/>; bad options throw <see cref="ConfigurationException"/> naming <paramref name="path"/>.</summary>
    public FrameStackObservation(IEnv inner, FrameStackOptions options, string path = "env.frameStack") : base(inner)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Frames < 1) throw new ConfigurationException($"{path}.frames", $"a stack needs at least one frame, got {options.Frames}");
        _frames = options.Frames;
        var source = inner.ObservationSpace;
        _indices = ImageModalities.Select(source, options.Modalities,
            m => ImageModalities.Shape(m.Space) is null ? "is not a uint8 [H, W, C] or [H, W] image" : null, path);
        var spaces = new BoxSpace[_indices.Length];
        _channels = new int[_indices.Length];
        for (int i = 0; i < _indices.Length; i++)
        {
            spaces[i] = Stack((BoxSpace)source[_indices[i]].Space, _frames);
            _channels[i] = ImageModalities.Shape(source[_indices[i]].Space)!.Value.Channels;
        }
        _space = ImageModalities.Replace(source, _indices, spaces);
        _stacked = ImageModalities.Mask(source.Count, _indices);
        _output = new Observation(_space);
    }

    /// <summary>The inner space with each stacked modality [H, W, N·C].</summary>
    public override ObservationSpace ObservationSpace => _space;

    /// <summary>Frames per observation.</summary>
    public int Frames => _frames;

    /// <inheritdoc />
    protected override Observation Transform(Observation observation, bool episodeStart)
    {
        ImageModalities.CopyOthers(observation, _output, _stacked);
        for (int i = 0; i < _indices.Length; i++)
        {
            int m = _indices[i];
            if (episodeStart) Fill(observation.Bytes(m), _output.Bytes(m), _channels[i], _frames);
            else Push(observation.Bytes(m), _output.Bytes(m), _channels[i], _frames);
        }
        return _output;
    }

    /// <summary>Every slot of every pixel holds <paramref name="frame"/>'s channels: [P, C] → [P, N·C].</summary>
    internal static void Fill(ReadOnlySpan<byte> frame, Span<byte> stack, int channels, int frames)
    {
        int group = channels * frames;
        for (int p = 0, src = 0; src < frame.Length; p += group, src += channels)
        {
            var pixel = frame.Slice(src, channels);
            for (int k = 0; k < frames; k++) pixel.CopyTo(stack.Slice(p + k * channels, channels));
        }
    }

    /// <summary>
    /// Drops the oldest frame and appends <paramref name="frame"/>: one overlapping move of the
    /// whole stack C bytes towards the start shifts every pixel's slots down by one (each pixel's
    /// last slot then holds the next pixel's stale bytes), then the new frame's C channels are
    /// written into every pixel's last slot.
    /// </summary>
    internal static void Push(ReadOnlySpan<byte> frame, Span<byte> stack, int channels, int frames)
    {
        int group = channels * frames, pixels = frame.Length / channels;
        if (stack.Length != pixels * group) throw new ArgumentException($"A stack of {frames} frames of {frame.Length} bytes has {pixels * group} bytes, not {stack.Length}.", nameof(stack));
        stack[channels..].CopyTo(stack); // memmove semantics
        // Lengths are checked, so the new frame is scattered through references without bounds checks.
        ref byte src = ref MemoryMarshal.GetReference(frame);
        ref byte dst = ref Unsafe.Add(ref MemoryMarshal.GetReference(stack), group - channels);
        if (channels == 1)
        {
            for (int p = 0; p < pixels; p++) Unsafe.Add(ref dst, p * group) = Unsafe.Add(ref src, p);
            return;
        }
        for (int p = 0; p < pixels; p++)
            Unsafe.CopyBlockUnaligned(ref Unsafe.Add(ref dst, p * group), ref Unsafe.Add(ref src, p * channels), (uint)channels);
    }

    private static BoxSpace Stack(BoxSpace box, int frames)
    {
        var (h, w, c) = ImageModalities.Shape(box)!.Value;
        // Element (pixel p, slot k, channel j) keeps the bounds of the inner element (p, j).
        var low = new float[box.Size * frames];
        var high = new float[box.Size * frames];
        for (int p = 0; p < h * w; p++)
            for (int k = 0; k < frames; k++)
                for (int j = 0; j < c; j++)
                {
                    low[(p * frames + k) * c + j] = box.Low[p * c + j];
                    high[(p * frames + k) * c + j] = box.High[p * c + j];
                }
        return new BoxSpace(low, high, [h, w, frames * c], DType.UInt8);
    }
}
