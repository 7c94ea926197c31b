using RLAgents.Environments;
using RLAgents.Environments.Wrappers;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Policies.Multimodal;

/// <summary>
/// Memory across steps as tokens: one token per previous step k (of the K an
/// <see cref="ObservationHistoryLayout"/> keeps), the sum of one frame encoding per kept modality
/// plus a learned step-age embedding (age k = step t−1−k; in anchored memory row K−1 is the episode's first step, so
/// its embedding learns that role). One token per step rather than a token
/// per image cell, for cost: with BabyAI's 7×7 view, K·49 extra cell tokens would make early
/// fusion's ≈60-token sequence 4× longer at K = 4, where K tokens make it 7% longer (and
/// cross-attention fusion only gains K keys). Rows before the episode start are zero in the data
/// and masked by the estimator through <see cref="Mask"/>.
/// Output: [B, K, C].
/// </summary>
public sealed partial class HistoryTokenEncoder : nn.Module<ObservationInput, Tensor>
{
    private readonly ModuleList<HistoryFrameEncoder> frames;
    private readonly Embedding age;
    private readonly Tensor ages;
    private readonly int[] _historyIndex;
    private readonly int _maskIndex, _steps;

    /// <summary>Creates the encoder for <paramref name="layout"/> at width <paramref name="width"/>.</summary>
    public HistoryTokenEncoder(ObservationHistoryLayout layout, int width, Rng rng) : base(nameof(HistoryTokenEncoder))
    {
        _steps = layout.Steps;
        _maskIndex = layout.MaskIndex;
        _historyIndex = layout.Entries.Select(e => e.HistoryIndex).ToArray();
        frames = new ModuleList<HistoryFrameEncoder>();
        foreach (var e in layout.Entries) frames.Add(HistoryFrameEncoder.Create(layout.Space[e.BaseIndex], _steps, width, rng));
        age = nn.Embedding(_steps, width);
        Init.Embedding(age, rng);
        ages = arange(_steps, dtype: int64);
        RegisterComponents();
    }

    /// <summary>Previous steps K (tokens produced per observation).</summary>
    public int Steps => _steps;

    /// <summary>Index of the mask modality in the observation space.</summary>
    public int MaskIndex => _maskIndex;

    /// <summary>True where a history row belongs to the current episode: bool [B, K].</summary>
    public Tensor Mask(ObservationInput input) => input[_maskIndex].ne(0);

    /// <inheritdoc />
    public override Tensor forward(ObservationInput input)
    {
        var tokens = age.forward(ages).unsqueeze(0); // [1, K, C]
        for (int i = 0; i < frames.Count; i++) tokens = tokens.add(frames[i].forward(input[_historyIndex[i]]));
        return tokens; // [B, K, C]
    }
}

/// <summary>K stored values of one modality → one vector per step: [B, K·S] → [B, K, C].</summary>
public abstract partial class HistoryFrameEncoder : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module.</summary>
    protected HistoryFrameEncoder(string name) : base(name) { }

    /// <summary>The encoder for the history of <paramref name="baseModality"/> (K = <paramref name="steps"/>).</summary>
    public static HistoryFrameEncoder Create(Modality baseModality, int steps, int width, Rng rng) => baseModality.Space switch
    {
        BoxSpace { DType: DType.UInt8 } box when box.Shape.Length == 3 && MaxHigh(box) <= 32 => new SymbolicFrameEncoder(box, steps, width, rng),
        BoxSpace box => new ProjectedFrameEncoder(box, steps, width, rng),
        DiscreteSpace d => new DiscreteFrameEncoder(d, steps, width, rng),
        _ => throw new NotSupportedException($"Modality '{baseModality.Name}': no history encoder for {baseModality.Space}."),
    };

    internal static int MaxHigh(BoxSpace box)
    {
        float high = 0;
        foreach (float h in box.High) high = Math.Max(high, h);
        return (int)Math.Min(high, int.MaxValue);
    }
}

/// <summary>
/// A symbolic grid per step as one linear map of its multi-hot code: each cell sets one entry per
/// channel (its (channel, value) pair) in a vector of H·W·Σ(high_c + 1) entries, projected to one
/// token. This is the same function class as embedding every (cell, channel, value) triple,
/// summing and projecting, but forward and backward are single matrix products.
/// uint8 [B, K·H·W·Ch] → [B, K, C].
/// </summary>
public sealed partial class SymbolicFrameEncoder : HistoryFrameEncoder
{
    private readonly Linear projection;
    private readonly Tensor offsets;
    private readonly int _steps, _cells, _channels, _codes;

    /// <summary>Creates the encoder for frames of <paramref name="box"/> (last dimension = channels).</summary>
    public SymbolicFrameEncoder(BoxSpace box, int steps, int width, Rng rng) : base(nameof(SymbolicFrameEncoder))
    {
        _steps = steps;
        _channels = box.Shape[^1];
        _cells = box.Size / _channels;
        var highs = new int[_channels];
        for (int i = 0; i < box.Size; i++) highs[i % _channels] = Math.Max(highs[i % _channels], (int)box.High[i]);
        // Entry of (cell k, channel c, value v): k·codes + offset_c + v.
        var off = new long[_cells * _channels];
        int total = highs.Sum(h => h + 1);
        for (int k = 0; k < _cells; k++)
        {
            int o = 0;
            for (int c = 0; c < _channels; c++) { off[k * _channels + c] = (long)k * total + o; o += highs[c] + 1; }
        }
        _codes = total;
        offsets = tensor(off);
        projection = nn.Linear(_cells * total, width);
        Init.Linear(projection, rng, null);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        long b = input.shape[0];
        var index = input.to_type(ScalarType.Int64).view(b * _steps, _cells * _channels).add(offsets);
        var one = ones(index.shape);
        var hot = zeros(b * _steps, (long)_cells * _codes).scatter_(1, index, one); // [B·K, H·W·codes]
        var token = projection.forward(hot);
        return token.view(b, _steps, -1);                                                // [B, K, C]
    }
}

/// <summary>A float (or pixel, scaled to [0, 1]) frame per step projected to one token: [B, K·S] → [B, K, C].</summary>
public sealed partial class ProjectedFrameEncoder : HistoryFrameEncoder
{
    private readonly Linear projection;
    private readonly int _steps, _size;
    private readonly double _scale;

    /// <summary>Creates the projection for frames of <paramref name="box"/>.</summary>
    public ProjectedFrameEncoder(BoxSpace box, int steps, int width, Rng rng) : base(nameof(ProjectedFrameEncoder))
    {
        (_steps, _size) = (steps, box.Size);
        _scale = box.DType == DType.UInt8 ? 1.0 / Math.Max(1, MaxHigh(box)) : 1.0;
        projection = nn.Linear(_size, width);
        Init.Linear(projection, rng, null);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var x = input.to_type(ScalarType.Float32).mul(_scale).view(input.shape[0], _steps, _size);
        return projection.forward(x);
    }
}

/// <summary>A discrete value per step (stored shifted to start at 0) as a learned vector: float32 [B, K] → [B, K, C].</summary>
public sealed partial class DiscreteFrameEncoder : HistoryFrameEncoder
{
    private readonly Embedding table;
    private readonly int _n;

    /// <summary>Creates the table for values of <paramref name="space"/>.</summary>
    public DiscreteFrameEncoder(DiscreteSpace space, int steps, int width, Rng rng) : base(nameof(DiscreteFrameEncoder))
    {
        _n = space.N;
        table = nn.Embedding(space.N, width);
        Init.Embedding(table, rng);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var index = input.to_type(ScalarType.Int64).clamp(0, _n - 1);
        return table.forward(index);
    }
}
