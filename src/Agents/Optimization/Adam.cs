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
/// Adam (Kingma and Ba) with PyTorch's update rule, over named parameters, whose moments and step
/// count are exposed as named tensors so checkpoints hold them in safetensors and resume exactly.
/// </summary>
public sealed class Adam : IDisposable
{
    private readonly (string Name, Parameter Param, Tensor M, Tensor V)[] _slots;
    private readonly AdamOptions _options;
    private readonly Parameter[] _parameters;

    /// <summary>Creates the optimiser for <paramref name="parameters"/>.</summary>
    public Adam(IEnumerable<(string Name, Parameter Param)> parameters, AdamOptions options)
    {
        _options = options;
        LearningRate = options.LearningRate;
        _slots = parameters.Select(p => (p.Name, p.Param, zeros_like(p.Param).DetachFromDisposeScope(), zeros_like(p.Param).DetachFromDisposeScope())).ToArray();
        _parameters = _slots.Select(s => s.Param).ToArray();
    }

    /// <summary>Current learning rate.</summary>
    public double LearningRate { get; set; }

    /// <summary>Updates taken.</summary>
    public long StepCount { get; private set; }

    /// <summary>The parameters optimised.</summary>
    public IEnumerable<Parameter> Parameters => _slots.Select(s => s.Param);

    /// <summary>Clears every gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var s in _slots) s.Param.grad?.zero_();
    }

    /// <summary>
    /// Clips the global gradient norm (when configured) and applies one Adam update. Returns the
    /// gradient norm before clipping.
    /// </summary>
    public double Step()
    {
        double norm = 0;
        if (_options.MaxGradNorm > 0) norm = nn.utils.clip_grad_norm_(_parameters, _options.MaxGradNorm);
        StepCount++;
        double b1 = _options.Beta1, b2 = _options.Beta2;
        double bc1 = 1 - Math.Pow(b1, StepCount), bc2 = 1 - Math.Pow(b2, StepCount);
        double stepSize = LearningRate / bc1, sqrtBc2 = Math.Sqrt(bc2);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (_, p, m, v) in _slots)
        {
            var g = p.grad;
            if (g is null) continue;
            m.mul_(b1).add_(g, alpha: 1 - b1);
            v.mul_(b2).addcmul_(g, g, value: 1 - b2);
            var denom = v.sqrt().div_(sqrtBc2).add_(_options.Epsilon);
            p.addcdiv_(m, denom, value: -stepSize);
        }
        return norm;
    }

    /// <summary>The moments as named tensors (<c>prefix.m.name</c>, <c>prefix.v.name</c>).</summary>
    public IEnumerable<(string Name, Tensor Tensor)> StateTensors(string prefix) =>
        _slots.SelectMany(s => new[] { ($"{prefix}.m.{s.Name}", s.M), ($"{prefix}.v.{s.Name}", s.V) });

    /// <summary>Restores moments and the step count saved by <see cref="StateTensors"/>.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> tensors, string prefix, long stepCount, string source)
    {
        using var _ = no_grad();
        foreach (var (name, _, m, v) in _slots)
        {
            m.copy_(tensors.TryGetValue($"{prefix}.m.{name}", out var tm) ? tm : throw new InvalidDataException($"{source}: optimiser tensor '{prefix}.m.{name}' is missing."));
            v.copy_(tensors.TryGetValue($"{prefix}.v.{name}", out var tv) ? tv : throw new InvalidDataException($"{source}: optimiser tensor '{prefix}.v.{name}' is missing."));
        }
        StepCount = stepCount;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var s in _slots) { s.M.Dispose(); s.V.Dispose(); }
    }
}
