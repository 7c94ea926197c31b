using RLAgents.Environments;
using RLAgents.Environments.Wrappers;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Policies.Multimodal;

/// <summary>
/// A pixel image as ViT-style patch tokens (Dosovitskiy et al. 2021): the image [H, W, C] is cut
/// into P × P patches (zero-padded at the bottom and right edges when P does not divide a side),
/// each patch's P·P·C scaled values are projected linearly to the backbone's width (a convolution
/// with kernel and stride P), and learned 2-D positions (a row plus a column embedding of the patch
/// grid) are added. uint8 [B, H·W·C] → [B, ⌈H/P⌉·⌈W/P⌉, C_model], row-major over the patch grid.
/// Minigrid's 56×56 view with P = 8 (its tile size) gives one token per cell, 7×7 as the symbolic grid.
/// </summary>
public sealed class PatchTokenEncoder : TokenEncoder
{
    private readonly Conv2d projection;
    private readonly Embedding rows;
    private readonly Embedding cols;
    private readonly Tensor rowIndex;
    private readonly Tensor colIndex;
    private readonly int _h, _w, _channels, _patch, _gridRows, _gridCols;
    private readonly double _scale;

    /// <summary>Creates the encoder for the pixel image <paramref name="box"/> (uint8 [H, W, C] or [H, W]) with patches of <paramref name="patchSize"/> pixels a side.</summary>
    public PatchTokenEncoder(BoxSpace box, int patchSize, int width, Rng rng) : base(nameof(PatchTokenEncoder))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(patchSize, 1);
        (_h, _w, _channels) = ImageModalities.Shape(box) ?? throw new ArgumentException($"Patch tokens read uint8 images [H, W, C] or [H, W]; got {box}.", nameof(box));
        _patch = patchSize;
        (_gridRows, _gridCols) = Grid(_h, _w, patchSize);
        float maxHigh = 1;
        foreach (float h in box.High) maxHigh = MathF.Max(maxHigh, h);
        _scale = 1.0 / maxHigh;
        projection = nn.Conv2d(_channels, width, patchSize, stride: patchSize);
        Init.Conv2d(projection, rng, null);
        rows = nn.Embedding(_gridRows, width);
        cols = nn.Embedding(_gridCols, width);
        Init.Embedding(rows, rng);
        Init.Embedding(cols, rng);
        // Token k = r·cols + c of the row-major patch grid.
        rowIndex = arange(_gridRows, dtype: int64).repeat_interleave(_gridCols);
        colIndex = arange(_gridCols, dtype: int64).repeat(_gridRows);
        RegisterComponents();
    }

    /// <summary>Rows and columns of the patch grid of an H × W image: ⌈H/P⌉ × ⌈W/P⌉.</summary>
    public static (int Rows, int Cols) Grid(int height, int width, int patchSize) =>
        ((height + patchSize - 1) / patchSize, (width + patchSize - 1) / patchSize);

    /// <summary>Patch side P in pixels.</summary>
    public int PatchSize => _patch;

    /// <inheritdoc />
    public override int TokenCount => _gridRows * _gridCols;

    /// <inheritdoc />
    public override bool IsSpatial => true;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var planes = PixelImageEncoder.ToPlanes(input, _h, _w, _channels, _scale); // [B, C, H, W]
        int padRows = _gridRows * _patch - _h, padCols = _gridCols * _patch - _w;
        if (padRows > 0 || padCols > 0) planes = nn.functional.pad(planes, [0, padCols, 0, padRows]); // [B, C, rows·P, cols·P]
        var patches = projection.forward(planes);                 // [B, C_model, rows, cols]
        var tokens = patches.flatten(2).transpose(1, 2);          // [B, rows·cols, C_model]
        var position = rows.forward(rowIndex).add(cols.forward(colIndex)); // [rows·cols, C_model]
        return tokens.add(position);
    }
}
