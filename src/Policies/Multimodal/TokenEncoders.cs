using RLAgents.Environments;
using RLAgents.Policies.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Policies.Multimodal;

/// <summary>
/// Turns one non-text modality's tensor (see <see cref="Encoding.ObservationInput"/>) into tokens
/// [B, TokenCount, C] of the backbone's width. Token counts come from the space, never from a dummy pass.
/// </summary>
public abstract partial class TokenEncoder : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module.</summary>
    protected TokenEncoder(string name) : base(name) { }

    /// <summary>Tokens produced per observation.</summary>
    public abstract int TokenCount { get; }

    /// <summary>True for spatial tokens (image cells), which cross-attention fusion uses as keys.</summary>
    public virtual bool IsSpatial => false;

    /// <summary>
    /// The encoder for a Box or Discrete <paramref name="modality"/> at width <paramref name="width"/>:
    /// pixel images become patch tokens of <paramref name="patchSize"/> pixels a side, symbolic grids cell tokens.
    /// </summary>
    public static TokenEncoder Create(Modality modality, int width, Rng rng, int patchSize = MultimodalOptions.DefaultPatchSize) => modality.Space switch
    {
        BoxSpace box when Encoding.PixelImageEncoder.IsPixelImage(box) => new PatchTokenEncoder(box, patchSize, width, rng),
        BoxSpace { DType: DType.UInt8 } box when box.Shape.Length == 3 => new CellTokenEncoder(box, width, rng),
        BoxSpace box => new VectorTokenEncoder(box, width, rng),
        DiscreteSpace discrete => new DiscreteTokenEncoder(discrete, width, rng),
        _ => throw new NotSupportedException($"Modality '{modality.Name}': no token encoder for {modality.Space}."),
    };
}

/// <summary>
/// A symbolic grid [H, W, Ch] (all bounds ≤ 32, e.g. Minigrid's object/colour/state codes) as H·W
/// cell tokens: each (channel, value) pair is embedded and summed over channels, plus learned 2-D
/// positions (row + column embeddings). uint8 [B, H·W·Ch] → [B, H·W, C]. Pixel images are
/// <see cref="PatchTokenEncoder"/>'s.
/// </summary>
public sealed partial class CellTokenEncoder : TokenEncoder
{
    private readonly Embedding values;
    private readonly Embedding rows;
    private readonly Embedding cols;
    private readonly Tensor offsets;
    private readonly Tensor rowIndex;
    private readonly Tensor colIndex;
    private readonly int _h, _w, _channels;

    /// <summary>Creates the encoder for <paramref name="box"/> (last dimension = channels).</summary>
    public CellTokenEncoder(BoxSpace box, int width, Rng rng) : base(nameof(CellTokenEncoder))
    {
        var shape = box.ShapeArray();
        (_h, _w, _channels) = (shape[0], shape[1], shape[2]);
        var highs = new int[_channels];
        for (int i = 0; i < box.Size; i++) highs[i % _channels] = Math.Max(highs[i % _channels], (int)box.High[i]);
        var off = new long[_channels];
        long total = 0;
        for (int c = 0; c < _channels; c++) { off[c] = total; total += highs[c] + 1; }
        if (highs.Max() > 32) throw new ArgumentException($"Cell tokens embed small codes (bounds ≤ 32); {box} holds pixels: use {nameof(PatchTokenEncoder)}.", nameof(box));
        offsets = tensor(off);
        values = nn.Embedding(total, width);
        Init.Embedding(values, rng);
        rows = nn.Embedding(_h, width);
        cols = nn.Embedding(_w, width);
        Init.Embedding(rows, rng);
        Init.Embedding(cols, rng);
        // Cell k = r·W + c of the row-major layout.
        rowIndex = arange(_h, dtype: int64).repeat_interleave(_w);
        colIndex = arange(_w, dtype: int64).repeat(_h);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override int TokenCount => _h * _w;

    /// <inheritdoc />
    public override bool IsSpatial => true;

    /// <summary>Channels per cell.</summary>
    public int Channels => _channels;

    /// <summary>The embedding of every (channel, value) code, [V, C]; <see cref="Codes"/> index it.</summary>
    public Tensor CodeTable => values.weight!;

    /// <summary>Each cell's codes, int64 [B, H·W, Ch]: channel c's value plus the channel's offset (disjoint ranges per channel), rows of <see cref="CodeTable"/>.</summary>
    public Tensor Codes(Tensor input) => input.to_type(ScalarType.Int64).view(input.shape[0], _h * _w, _channels).add(offsets);

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        long b = input.shape[0];
        var codes = Codes(input);                                                                 // [B, H·W, Ch]
        // The sum over channels of each code's embedding. Training: one matmul, multi-hot [B, H·W, V] · table [V, C], whose
        // backward is a matmul too instead of a scatter-add into the table (about 4× faster fwd+bwd for a minibatch of 256
        // views). Without gradients the gather [B, H·W, Ch, C] and sum is the faster of the two (fewer calls at acting sizes).
        var cells = is_grad_enabled()
            ? zeros([b, _h * _w, values.weight!.shape[0]]).scatter_(2, codes, ones_like(codes, ScalarType.Float32)).matmul(values.weight!)
            : values.forward(codes).sum(2);                                                       // [B, H·W, C]
        var position = rows.forward(rowIndex).add(cols.forward(colIndex)); // [H·W, C]
        using (cells) return cells.add(position);
    }
}

/// <summary>A float32 vector projected to one token: [B, S] → [B, 1, C].</summary>
public sealed partial class VectorTokenEncoder : TokenEncoder
{
    private readonly Linear projection;

    /// <summary>Creates the projection for <paramref name="box"/>.</summary>
    public VectorTokenEncoder(BoxSpace box, int width, Rng rng) : base(nameof(VectorTokenEncoder))
    {
        projection = nn.Linear(box.Size, width);
        Init.Linear(projection, rng, null);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override int TokenCount => 1;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var x = input.to_type(ScalarType.Float32);
        var y = projection.forward(x);
        return y.unsqueeze(1);
    }
}

/// <summary>A discrete value (e.g. the agent's direction) as one learned token: int64 [B] → [B, 1, C].</summary>
public sealed partial class DiscreteTokenEncoder : TokenEncoder
{
    private readonly Embedding table;
    private readonly int _start;

    /// <summary>Creates the table for <paramref name="space"/>.</summary>
    public DiscreteTokenEncoder(DiscreteSpace space, int width, Rng rng) : base(nameof(DiscreteTokenEncoder))
    {
        _start = space.Start;
        table = nn.Embedding(space.N, width);
        Init.Embedding(table, rng);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override int TokenCount => 1;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var index = _start == 0 ? input.alias() : input.sub(_start);
        var y = table.forward(index);
        return y.unsqueeze(1);
    }
}
