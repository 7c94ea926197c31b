using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Runtime.Intrinsics;
using RLAgents.LanguageModel.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Training;

/// <summary>Hyperparameters of <see cref="AdamOptimizer"/>.</summary>
public sealed class AdamOptions
{
    /// <summary>Initial learning rate (annealed or scheduled by the caller through <see cref="AdamOptimizer.LearningRate"/>).</summary>
    [Range(1e-8, 1.0)]
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Denominator epsilon (CleanRL's PPO uses 1e-5; PyTorch's default is 1e-8).</summary>
    [Range(1e-12, 1.0)]
    public double Epsilon { get; set; } = 1e-8;

    /// <summary>First-moment decay β₁.</summary>
    [Range(0.0, 0.999999)]
    public double Beta1 { get; set; } = 0.9;

    /// <summary>Second-moment decay β₂ (GPT pretraining uses 0.95).</summary>
    [Range(0.0, 0.999999999)]
    public double Beta2 { get; set; } = 0.999;

    /// <summary>Decoupled weight decay λ (AdamW: θ ← θ − lr·λ·θ), applied to matrices only (dim ≥ 2); 0 is plain Adam.</summary>
    [Range(0.0, 1.0)]
    public double WeightDecay { get; set; }

    /// <summary>Clip the global gradient norm to this value before each update; 0 disables clipping.</summary>
    [Range(0.0, 1e6)]
    public double MaxGradNorm { get; set; }
}

/// <summary>
/// Adam (Kingma and Ba 2015) with PyTorch's update rule, optional decoupled weight decay (AdamW,
/// Loshchilov and Hutter 2019; matrices only, GPT-2 practice) and global-norm gradient clipping,
/// fused over all parameters. The parameters and their gradients are re-seated as views of flat
/// buffers [P] (under AdamW matrices first, so decay is one slice), so zeroing, clipping and the update are a
/// dozen tensor calls per step whatever the number of layers: for the small networks of RL agents
/// per-call overhead, not arithmetic, is the cost (see <c>benchmarks/…/OptimizerBenchmarks</c> for the
/// comparison with <c>torch.optim.Adam</c>). Autograd accumulates into an existing gradient in place,
/// so the views stay valid; a parameter that got no gradient in a step sees a zero gradient.
/// Moments are named by parameter (<c>{name}.exp_avg</c>, <c>{name}.exp_avg_sq</c>) for checkpoints.
/// </summary>
public sealed class AdamOptimizer : IDisposable
{
    private readonly AdamOptions _options;
    private readonly Parameter[] _parameters;
    private readonly (string Name, Tensor M, Tensor V)[] _views;
    private readonly Tensor _flat, _grad, _m, _v;
    private readonly long _decayed;
    private readonly bool _host; // CPU float32 and at most HostMaxParameters: HostStep applies

    /// <summary>Creates the optimiser for <paramref name="parameters"/> (float32, one device, at least one).</summary>
    public AdamOptimizer(IEnumerable<(string Name, Parameter Param)> parameters, AdamOptions options)
    {
        _options = options;
        LearningRate = options.LearningRate;
        // Under AdamW, matrices (the decayed ones) first so decay is one slice; otherwise the given order.
        var list = options.WeightDecay > 0 ? parameters.OrderBy(p => p.Param.dim() >= 2 ? 0 : 1).ToArray() : parameters.ToArray();
        if (list.Length == 0) throw new ArgumentException("No parameters to optimise.", nameof(parameters));
        _parameters = list.Select(p => p.Param).ToArray();
        long total = _parameters.Sum(p => p.numel());
        _decayed = options.WeightDecay > 0 ? list.Where(p => p.Param.dim() >= 2).Sum(p => p.Param.numel()) : 0;
        var device = _parameters[0].device;
        _flat = zeros(total, device: device).DetachFromDisposeScope();
        _grad = zeros(total, device: device).DetachFromDisposeScope();
        _m = zeros(total, device: device).DetachFromDisposeScope();
        _v = zeros(total, device: device).DetachFromDisposeScope();
        _host = device.type == DeviceType.CPU && _parameters.All(p => p.dtype == ScalarType.Float32) && total <= HostMaxParameters;
        _views = new (string, Tensor, Tensor)[list.Length];
        using var _ = no_grad();
        long offset = 0;
        for (int i = 0; i < list.Length; i++)
        {
            var p = list[i].Param;
            long n = p.numel();
            var shape = p.shape;
            var data = _flat.narrow(0, offset, n).view(shape).DetachFromDisposeScope();
            data.copy_(p);
            p.set_(data);
            p.grad = _grad.narrow(0, offset, n).view(shape).DetachFromDisposeScope();
            _views[i] = (list[i].Name, _m.narrow(0, offset, n).view(shape).DetachFromDisposeScope(), _v.narrow(0, offset, n).view(shape).DetachFromDisposeScope());
            offset += n;
        }
    }

    /// <summary>Learning rate of the next <see cref="Step"/>.</summary>
    public double LearningRate { get; set; }

    /// <summary>Updates taken (drives bias correction).</summary>
    public long StepCount { get; private set; }

    /// <summary>The parameters optimised.</summary>
    public IEnumerable<Parameter> Parameters => _parameters;

    /// <summary>Clears every gradient (one call on the flat gradient buffer).</summary>
    public void ZeroGrad() => _grad.zero_();

    /// <summary>
    /// Clips the global gradient norm (when configured) and applies one update. Returns the gradient
    /// norm before clipping. A gradient whose norm is not finite (a NaN or infinite loss, an overflow) is
    /// not applied: the weights, moments and <see cref="StepCount"/> stay as they were, and the caller sees
    /// the non-finite norm and decides whether to stop or go on.
    /// </summary>
    public double Step()
    {
        if (UpdatesOnHost) return HostStep();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        double norm = _grad.norm().item<float>();
        if (!double.IsFinite(norm)) return norm;
        if (_options.MaxGradNorm > 0 && norm > _options.MaxGradNorm)
        {
            using Scalar clip = _options.MaxGradNorm / (norm + 1e-6);
            _grad.mul_(clip); // torch.nn.utils.clip_grad_norm_'s rule
        }
        StepCount++;
        double b1 = _options.Beta1, b2 = _options.Beta2;
        double bc1 = 1 - Math.Pow(b1, StepCount), bc2 = 1 - Math.Pow(b2, StepCount);
        // The scalars live in variables until the step is done: an implicit double → Scalar temporary is a native
        // object the GC may finalize while libtorch still reads it (seen as a rare "toFloat" failure under heavy load).
        using Scalar decay = 1 - LearningRate * _options.WeightDecay, beta1 = b1, beta2 = b2, oneMinusBeta1 = 1 - b1, oneMinusBeta2 = 1 - b2,
            sqrtBc2 = Math.Sqrt(bc2), epsilon = _options.Epsilon, stepSize = -LearningRate / bc1;
        if (_decayed > 0) _flat.narrow(0, 0, _decayed).mul_(decay);
        _m.mul_(beta1).add_(_grad, alpha: oneMinusBeta1);                  // m ← β₁m + (1−β₁)g
        _v.mul_(beta2).addcmul_(_grad, _grad, value: oneMinusBeta2);        // v ← β₂v + (1−β₂)g²
        var denom = _v.sqrt().div_(sqrtBc2).add_(epsilon);
        _flat.addcdiv_(_m, denom, value: stepSize);                        // θ ← θ − lr·m̂/(√v̂ + ε)
        return norm;
    }

    /// <summary>
    /// Most parameters for which <see cref="Step"/> runs on the host: one pass of a SIMD loop over the flat buffers
    /// (≈ 1 ns per parameter) instead of a dozen libtorch calls (≈ 70 µs for a few thousand parameters, mostly
    /// dispatch). The two cross near 10⁵ parameters, where the update becomes memory-bound and libtorch's threads
    /// help; the MLPs of classic-control agents sit far below, the Transformer agents above.
    /// </summary>
    public const long HostMaxParameters = 1 << 16;

    /// <summary>
    /// Update CPU float32 parameters (at most <see cref="HostMaxParameters"/>) on the host; false forces the libtorch
    /// path. Both apply the same rule to float rounding (issue 16: for a 4.6k-parameter Q-network the tensor calls cost
    /// ≈ 70 µs, the loop a few µs).
    /// </summary>
    public bool HostUpdate { get; set; } = true;

    /// <summary>True when <see cref="Step"/> runs on the host: <see cref="HostUpdate"/>, CPU float32 parameters, at most <see cref="HostMaxParameters"/>.</summary>
    public bool UpdatesOnHost => HostUpdate && _host;

    /// <summary>
    /// <see cref="Step"/> on the host: the global norm (float squares summed in double per 1,024-element block), the
    /// clip, decoupled decay, then m, v and θ in one SIMD pass, each element by PyTorch's formulas.
    /// </summary>
    private double HostStep()
    {
        long total = _flat.numel();
        var g = HostTensors.Write(_grad, total);
        double squares = 0;
        for (int start = 0; start < g.Length; start += 1024) squares += SumOfSquares(g.Slice(start, Math.Min(1024, g.Length - start)));
        double norm = Math.Sqrt(squares);
        if (!double.IsFinite(norm)) return norm;
        if (_options.MaxGradNorm > 0 && norm > _options.MaxGradNorm) Scale(g, (float)(_options.MaxGradNorm / (norm + 1e-6)));
        StepCount++;
        double b1 = _options.Beta1, b2 = _options.Beta2;
        double bc1 = 1 - Math.Pow(b1, StepCount), bc2 = 1 - Math.Pow(b2, StepCount);
        var theta = HostTensors.Write(_flat, total);
        if (_decayed > 0) Scale(theta[..(int)_decayed], (float)(1 - LearningRate * _options.WeightDecay));
        AdamUpdate(theta, g, HostTensors.Write(_m, total), HostTensors.Write(_v, total),
            (float)b1, (float)b2, (float)Math.Sqrt(bc2), (float)_options.Epsilon, (float)(-LearningRate / bc1));
        return norm;
    }

    private static float SumOfSquares(ReadOnlySpan<float> x)
    {
        int k = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated && x.Length >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; k <= x.Length - 8; k += 8)
            {
                var v = Vector256.Create(x.Slice(k, 8));
                acc = Vector256.FusedMultiplyAdd(v, v, acc);
            }
            sum = Vector256.Sum(acc);
        }
        for (; k < x.Length; k++) sum += x[k] * x[k];
        return sum;
    }

    private static void Scale(Span<float> x, float factor)
    {
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; k <= x.Length - 8; k += 8) (Vector256.Create((ReadOnlySpan<float>)x.Slice(k, 8)) * factor).CopyTo(x.Slice(k, 8));
        for (; k < x.Length; k++) x[k] *= factor;
    }

    /// <summary>m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; θ ← θ + stepSize · m / (√v / √(1−β₂ᵗ) + ε), elementwise.</summary>
    private static void AdamUpdate(Span<float> theta, ReadOnlySpan<float> g, Span<float> m, Span<float> v,
        float b1, float b2, float sqrtBc2, float epsilon, float stepSize)
    {
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vb1 = Vector256.Create(b1), vb2 = Vector256.Create(b2), c1 = Vector256.Create(1 - b1), c2 = Vector256.Create(1 - b2),
                vBc2 = Vector256.Create(sqrtBc2), vEps = Vector256.Create(epsilon), vStep = Vector256.Create(stepSize);
            for (; k <= theta.Length - 8; k += 8)
            {
                var gk = Vector256.Create(g.Slice(k, 8));
                var mk = vb1 * Vector256.Create((ReadOnlySpan<float>)m.Slice(k, 8)) + c1 * gk;
                var vk = vb2 * Vector256.Create((ReadOnlySpan<float>)v.Slice(k, 8)) + c2 * gk * gk;
                var tk = Vector256.Create((ReadOnlySpan<float>)theta.Slice(k, 8)) + vStep * mk / (Vector256.Sqrt(vk) / vBc2 + vEps);
                mk.CopyTo(m.Slice(k, 8));
                vk.CopyTo(v.Slice(k, 8));
                tk.CopyTo(theta.Slice(k, 8));
            }
        }
        for (; k < theta.Length; k++)
        {
            m[k] = b1 * m[k] + (1 - b1) * g[k];
            v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k];
            theta[k] += stepSize * m[k] / (MathF.Sqrt(v[k]) / sqrtBc2 + epsilon);
        }
    }

    /// <summary>The moments as named tensors: <c>{prefix}{name}.exp_avg</c> and <c>{prefix}{name}.exp_avg_sq</c>.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> StateTensors(string prefix = "") =>
        _views.SelectMany(s => new[] { ($"{prefix}{s.Name}.exp_avg", s.M), ($"{prefix}{s.Name}.exp_avg_sq", s.V) });

    /// <summary>
    /// Restores moments written by <see cref="StateTensors"/> with the same <paramref name="prefix"/> and
    /// the step count; every moment must be present with the right shape (<paramref name="source"/> names the file in errors).
    /// </summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> tensors, string prefix, long stepCount, string source)
    {
        foreach (var (name, target) in StateTensors(prefix))
        {
            if (!tensors.TryGetValue(name, out var value)) throw new CheckpointException($"{source}: optimizer tensor '{name}' is missing.");
            if (!value.shape.SequenceEqual(target.shape))
                throw new CheckpointException($"{source}: optimizer tensor '{name}' has shape [{string.Join(", ", value.shape)}], expected [{string.Join(", ", target.shape)}].");
        }
        using (no_grad())
            foreach (var (name, target) in StateTensors(prefix)) target.copy_(tensors[name]);
        StepCount = stepCount;
    }

    /// <summary>Writes the moments and the step count (metadata <c>step</c>) to a safetensors file.</summary>
    public void Save(string path) =>
        Safetensors.Write(path, StateTensors(), new Dictionary<string, string> { ["step"] = StepCount.ToString(CultureInfo.InvariantCulture) });

    /// <summary>Restores a state written by <see cref="Save"/> for the same parameters (all-or-nothing; extra tensors are errors).</summary>
    public void Load(string path)
    {
        using var contents = Safetensors.Read(path);
        if (!contents.Metadata.TryGetValue("step", out string? stepText) || !long.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out long step))
            throw new CheckpointException($"{path}: metadata 'step' is missing or not a non-negative integer.");
        var expected = StateTensors().Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var unknown = contents.Tensors.Keys.FirstOrDefault(k => !expected.Contains(k));
        if (unknown is not null) throw new CheckpointException($"{path}: optimizer tensor '{unknown}' matches no optimised parameter.");
        LoadState(contents.Tensors, "", step, path);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (_, m, v) in _views) { m.Dispose(); v.Dispose(); }
        _m.Dispose();
        _v.Dispose();
    }
}
