using System.ComponentModel.DataAnnotations;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Agents.Optimization;

/// <summary>Adam's hyperparameters.</summary>
public sealed class AdamOptions
{
    /// <summary>Initial learning rate (annealed by the algorithm when it says so).</summary>
    [Range(1e-8, 1.0)]
    public double LearningRate { get; set; } = 2.5e-4;

    /// <summary>Denominator epsilon (CleanRL's PPO uses 1e-5; PyTorch's default is 1e-8).</summary>
    [Range(1e-12, 1.0)]
    public double Epsilon { get; set; } = 1e-5;

    /// <summary>First-moment decay β1.</summary>
    [Range(0.0, 0.999999)]
    public double Beta1 { get; set; } = 0.9;

    /// <summary>Second-moment decay β2.</summary>
    [Range(0.0, 0.999999999)]
    public double Beta2 { get; set; } = 0.999;

    /// <summary>Clip the global gradient norm to this value; 0 disables clipping.</summary>
    [Range(0.0, 1e6)]
    public double MaxGradNorm { get; set; } = 0.5;
}

/// <summary>
/// Adam (Kingma and Ba) with PyTorch's update rule and global-norm gradient clipping, fused over
/// all parameters. The parameters and their gradients are re-seated as views of two flat buffers
/// [P], so zeroing, clipping and the update are a dozen tensor calls per step whatever the number
/// of layers — for the small networks of RL agents per-call overhead, not arithmetic, is the
/// cost. (Autograd accumulates into an existing gradient in place, so the views stay valid.)
/// Moments and the step count are exposed as named tensors for checkpoints.
/// </summary>
public sealed class Adam : IDisposable
{
    private readonly AdamOptions _options;
    private readonly Parameter[] _parameters;
    private readonly (string Name, Tensor M, Tensor V)[] _views;
    private readonly Tensor _flat, _grad, _m, _v;

    /// <summary>Creates the optimiser for <paramref name="parameters"/> (float32, one device).</summary>
    public Adam(IEnumerable<(string Name, Parameter Param)> parameters, AdamOptions options)
    {
        _options = options;
        LearningRate = options.LearningRate;
        var list = parameters.ToArray();
        _parameters = list.Select(p => p.Param).ToArray();
        long total = _parameters.Sum(p => p.numel());
        var device = _parameters.Length > 0 ? _parameters[0].device : CPU;
        _flat = zeros(total, device: device).DetachFromDisposeScope();
        _grad = zeros(total, device: device).DetachFromDisposeScope();
        _m = zeros(total, device: device).DetachFromDisposeScope();
        _v = zeros(total, device: device).DetachFromDisposeScope();
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

    /// <summary>Current learning rate.</summary>
    public double LearningRate { get; set; }

    /// <summary>Updates taken.</summary>
    public long StepCount { get; private set; }

    /// <summary>The parameters optimised.</summary>
    public IEnumerable<Parameter> Parameters => _parameters;

    /// <summary>Clears every gradient (one call on the flat gradient buffer).</summary>
    public void ZeroGrad() => _grad.zero_();

    /// <summary>
    /// Clips the global gradient norm (when configured) and applies one Adam update. Returns the
    /// gradient norm before clipping.
    /// </summary>
    public double Step()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        double norm = _grad.norm().item<float>();
        if (_options.MaxGradNorm > 0 && norm > _options.MaxGradNorm)
            _grad.mul_(_options.MaxGradNorm / (norm + 1e-6)); // torch.nn.utils.clip_grad_norm_'s rule
        StepCount++;
        double b1 = _options.Beta1, b2 = _options.Beta2;
        double bc1 = 1 - Math.Pow(b1, StepCount), bc2 = 1 - Math.Pow(b2, StepCount);
        _m.mul_(b1).add_(_grad, alpha: 1 - b1);
        _v.mul_(b2).addcmul_(_grad, _grad, value: 1 - b2);
        var denom = _v.sqrt().div_(Math.Sqrt(bc2)).add_(_options.Epsilon);
        _flat.addcdiv_(_m, denom, value: -LearningRate / bc1);
        return norm;
    }

    /// <summary>The moments as named tensors (<c>prefix.m.name</c>, <c>prefix.v.name</c>).</summary>
    public IEnumerable<(string Name, Tensor Tensor)> StateTensors(string prefix) =>
        _views.SelectMany(s => new[] { ($"{prefix}.m.{s.Name}", s.M), ($"{prefix}.v.{s.Name}", s.V) });

    /// <summary>Restores moments and the step count saved by <see cref="StateTensors"/>.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> tensors, string prefix, long stepCount, string source)
    {
        using var _ = no_grad();
        foreach (var (name, m, v) in _views)
        {
            m.copy_(tensors.TryGetValue($"{prefix}.m.{name}", out var tm) ? tm : throw new InvalidDataException($"{source}: optimiser tensor '{prefix}.m.{name}' is missing."));
            v.copy_(tensors.TryGetValue($"{prefix}.v.{name}", out var tv) ? tv : throw new InvalidDataException($"{source}: optimiser tensor '{prefix}.v.{name}' is missing."));
        }
        StepCount = stepCount;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (_, m, v) in _views) { m.Dispose(); v.Dispose(); }
        _m.Dispose();
        _v.Dispose();
    }
}
