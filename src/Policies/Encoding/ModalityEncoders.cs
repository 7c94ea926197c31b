using RLAgents.Environments;
using RLAgents.Environments.Wrappers;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Encoding;

/// <summary>
/// Encodes one modality's tensor (see <see cref="ObservationInput"/>) into flat features [B, OutputSize].
/// The size is computed from the modality's space, never from a dummy pass.
/// </summary>
public abstract partial class ModalityEncoder : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the encoder module.</summary>
    protected ModalityEncoder(string name) : base(name) { }

    /// <summary>Feature width produced per observation.</summary>
    public abstract int OutputSize { get; }

    /// <summary>The encoder for <paramref name="modality"/> under <paramref name="options"/>.</summary>
    public static ModalityEncoder Create(Modality modality, PolicyOptions options, ObservationTensorizer tensorizer, int index, Rng rng) => modality.Space switch
    {
        BoxSpace { DType: DType.Float32 } box => new VectorEncoder(box.Size),
        BoxSpace { DType: DType.UInt8 } box => CreateImage(modality, box, options, rng),
        DiscreteSpace discrete => new DiscreteEncoder(discrete, options.EmbeddingSize, rng),
        TextSpace => new VectorEncoder(tensorizer.TextWidth(index)),
        _ => throw new NotSupportedException($"Modality '{modality.Name}': no encoder for {modality.Space}."),
    };

    private static ModalityEncoder CreateImage(Modality modality, BoxSpace box, PolicyOptions options, Rng rng)
    {
        var encoding = Resolve(box, options.ImageEncoding);
        if (encoding is ImageEncoding.NatureCnn or ImageEncoding.Impala or ImageEncoding.ResNet18 && ImageModalities.Shape(box) is null)
            throw new NotSupportedException($"Modality '{modality.Name}' ({box}): {encoding} reads images [H, W, C] or [H, W]; use scaled or embedding.");
        return encoding switch
        {
            ImageEncoding.Embedding => new SymbolicImageEncoder(box, options.EmbeddingSize, rng),
            ImageEncoding.Scaled => new ScaledImageEncoder(box),
            ImageEncoding.NatureCnn => new NatureCnnEncoder(box, options.ImageFeatures ?? NatureCnnEncoder.DefaultFeatures, options.OrthogonalInit, rng),
            ImageEncoding.ResNet18 => new PretrainedImageEncoder(box, options.FreezeImageEncoder),
            _ => new ImpalaEncoder(box, options.ImageFeatures ?? ImpalaEncoder.DefaultFeatures, options.OrthogonalInit, rng),
        };
    }

    /// <summary><see cref="ImageEncoding.Auto"/> resolved for <paramref name="box"/>; other choices are returned as they are.</summary>
    public static ImageEncoding Resolve(BoxSpace box, ImageEncoding encoding)
    {
        if (encoding != ImageEncoding.Auto) return encoding;
        // Symbolic grids hold small codes (Minigrid: objects ≤ 10, colours ≤ 5, states ≤ 2); pixels go to 255.
        if (!PixelImageEncoder.IsPixelImage(box)) return ImageEncoding.Embedding;
        var (h, w, _) = ImageModalities.Shape(box)!.Value;
        return Math.Min(h, w) >= NatureCnnEncoder.MinimumSize ? ImageEncoding.NatureCnn : ImageEncoding.Scaled;
    }
}

/// <summary>A float32 vector passed through unchanged: [B, S] → [B, S].</summary>
public sealed partial class VectorEncoder : ModalityEncoder
{
    private readonly int _size;

    /// <summary>Creates the identity encoder of width <paramref name="size"/>.</summary>
    public VectorEncoder(int size) : base(nameof(VectorEncoder))
    {
        _size = size;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override int OutputSize => _size;

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => input.to_type(ScalarType.Float32);
}

/// <summary>A uint8 image scaled by its upper bound to [0, 1] and flattened: [B, H·W·C] → [B, H·W·C].</summary>
public sealed partial class ScaledImageEncoder : ModalityEncoder
{
    private readonly int _size;
    private readonly double _scale;

    /// <summary>Creates the encoder for <paramref name="box"/>.</summary>
    public ScaledImageEncoder(BoxSpace box) : base(nameof(ScaledImageEncoder))
    {
        _size = box.Size;
        float maxHigh = 1;
        foreach (float h in box.High) maxHigh = MathF.Max(maxHigh, h);
        _scale = 1.0 / maxHigh;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override int OutputSize => _size;

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => input.to_type(ScalarType.Float32).mul(_scale);
}

/// <summary>
/// A symbolic grid [H, W, C] of small codes: every (channel, value) pair has a learned embedding;
/// a cell's vector is the sum over its channels. [B, H·W·C] uint8 → [B, H·W·E].
/// </summary>
public sealed partial class SymbolicImageEncoder : ModalityEncoder
{
    private readonly nn.Module<Tensor, Tensor> embedding;
    private readonly Tensor offsets;
    private readonly int _cells, _channels, _embedding;

    /// <summary>Creates the encoder; the last dimension of the shape is the channel.</summary>
    public SymbolicImageEncoder(BoxSpace box, int embeddingSize, Rng rng) : base(nameof(SymbolicImageEncoder))
    {
        var shape = box.ShapeArray();
        _channels = shape[^1];
        _cells = box.Size / _channels;
        _embedding = embeddingSize;
        // Channel c owns rows [offset_c, offset_c + high_c] of one shared table.
        var highs = new int[_channels];
        for (int i = 0; i < box.Size; i++)
            highs[i % _channels] = Math.Max(highs[i % _channels], (int)box.High[i]);
        var off = new long[_channels];
        long total = 0;
        for (int c = 0; c < _channels; c++) { off[c] = total; total += highs[c] + 1; }
        var table = nn.Embedding(total, embeddingSize);
        Networks.Init.Embedding(table, rng);
        embedding = table;
        offsets = tensor(off);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override int OutputSize => _cells * _embedding;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        long b = input.shape[0];
        // [B, cells, C] codes shifted into each channel's rows of the table.
        var codes = input.to_type(ScalarType.Int64).view(b, _cells, _channels).add(offsets);
        var vectors = embedding.forward(codes); // [B, cells, C, E]
        return vectors.sum(2).view(b, _cells * _embedding);
    }
}

/// <summary>A discrete value as a learned embedding: int64 [B] → [B, E].</summary>
public sealed partial class DiscreteEncoder : ModalityEncoder
{
    private readonly nn.Module<Tensor, Tensor> embedding;
    private readonly int _start, _size;

    /// <summary>Creates the encoder for <paramref name="space"/>.</summary>
    public DiscreteEncoder(DiscreteSpace space, int embeddingSize, Rng rng) : base(nameof(DiscreteEncoder))
    {
        _start = space.Start;
        _size = embeddingSize;
        var table = nn.Embedding(space.N, embeddingSize);
        Networks.Init.Embedding(table, rng);
        embedding = table;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override int OutputSize => _size;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var index = _start == 0 ? input.alias() : input.sub(_start);
        return embedding.forward(index);
    }
}
