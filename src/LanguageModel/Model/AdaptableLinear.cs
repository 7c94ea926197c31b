using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RLAgents.LanguageModel.Model;

/// <summary>
/// A Linear layer (y = x Wᵀ + b, W of shape (out, in)) that can carry a LoRA adapter
/// (Hu et al. 2021): y = x Wᵀ + b + (α/r) · dropout(x) Aᵀ Bᵀ with A (r, in) and B (out, r).
/// Parameter names are <c>weight</c> and <c>bias</c> like torch.nn.Linear, so checkpoints look the
/// same with or without adapters; the adapter adds <c>lora_A</c> and <c>lora_B</c>.
/// </summary>
public sealed partial class AdaptableLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private Parameter? lora_A;
    private Parameter? lora_B;
    private double _loraScale;
    private double _loraDropout;

    /// <summary>Creates the layer with W ~ N(0, <paramref name="initStd"/>²) and b = 0.</summary>
    public AdaptableLinear(long inFeatures, long outFeatures, bool hasBias, double initStd, Generator? generator)
        : base(nameof(AdaptableLinear))
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        weight = new Parameter(empty(outFeatures, inFeatures));
        using (no_grad()) weight.normal_(0, initStd, generator);
        if (hasBias) bias = new Parameter(zeros(outFeatures));
        RegisterComponents();
    }

    /// <summary>
    /// Every <see cref="AdaptableLinear"/> inside <paramref name="module"/> with its qualified name
    /// (e.g. <c>h.0.attn.c_attn</c>), in registration order: the projections LoRA can adapt.
    /// </summary>
    public static IEnumerable<(string Name, AdaptableLinear Layer)> FindIn(nn.Module module) =>
        module.named_modules().Where(m => m.module is AdaptableLinear).Select(m => (m.name, (AdaptableLinear)m.module));

    /// <summary>Input width.</summary>
    public long InFeatures { get; }

    /// <summary>Output width.</summary>
    public long OutFeatures { get; }

    /// <summary>The base weight W, shape (out, in).</summary>
    public Parameter Weight => weight;

    /// <summary>The base bias, shape (out), or null.</summary>
    public Parameter? Bias => bias;

    /// <summary>True once <see cref="AddAdapter"/> has run.</summary>
    public bool HasAdapter => lora_A is not null;

    /// <summary>True while the adapter's product is folded into <see cref="Weight"/>.</summary>
    public bool IsMerged { get; private set; }

    /// <summary>Adapter rank r (0 without an adapter).</summary>
    public int Rank => lora_A is null ? 0 : (int)lora_A.shape[0];

    /// <summary>LoRA down-projection A, shape (r, in), or null.</summary>
    public Parameter? LoraA => lora_A;

    /// <summary>LoRA up-projection B, shape (out, r), or null.</summary>
    public Parameter? LoraB => lora_B;

    /// <summary>
    /// Adds a LoRA adapter: A ~ N(0, 1/r) (so the adapter's input projection has unit scale), B = 0
    /// (so the layer's output is unchanged until training moves B).
    /// </summary>
    public void AddAdapter(int rank, double alpha, double dropout, Generator? generator)
    {
        if (HasAdapter) throw new InvalidOperationException("This layer already has a LoRA adapter.");
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), rank, "LoRA rank must be at least 1.");
        lora_A = new Parameter(empty(rank, InFeatures));
        using (no_grad()) lora_A.normal_(0, 1.0 / Math.Sqrt(rank), generator);
        lora_B = new Parameter(zeros(OutFeatures, rank));
        register_parameter(nameof(lora_A), lora_A);
        register_parameter(nameof(lora_B), lora_B);
        _loraScale = alpha / rank;
        _loraDropout = dropout;
    }

    /// <summary>Folds the adapter into the base weight: W ← W + (α/r) B A. Forward outputs stay the same (up to rounding).</summary>
    public void Merge()
    {
        if (!HasAdapter || IsMerged) return;
        using var scope = NewDisposeScope();
        using (no_grad()) weight.add_(matmul(lora_B!, lora_A!), _loraScale);
        IsMerged = true;
    }

    /// <summary>Undoes <see cref="Merge"/>: W ← W − (α/r) B A.</summary>
    public void Unmerge()
    {
        if (!HasAdapter || !IsMerged) return;
        using var scope = NewDisposeScope();
        using (no_grad()) weight.add_(matmul(lora_B!, lora_A!), -_loraScale);
        IsMerged = false;
    }

    /// <summary>x (..., in) → (..., out).</summary>
    public override Tensor forward(Tensor x)
    {
        var y = F.linear(x, weight, bias);
        if (lora_A is null || IsMerged) return y;
        var adapterInput = _loraDropout > 0 ? F.dropout(x, _loraDropout, training) : x;
        // (..., in) → (..., r) → (..., out), scaled by α/r.
        return y.add_(F.linear(F.linear(adapterInput, lora_A), lora_B!), _loraScale);
    }
}
