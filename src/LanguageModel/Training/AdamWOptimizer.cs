using RLAgents.LanguageModel.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Training;

/// <summary>
/// AdamW (Loshchilov and Hutter 2019): Adam with decoupled weight decay. Following GPT-2 practice,
/// only matrices (dim ≥ 2: Linear weights, embeddings) decay; biases and LayerNorm gains do not.
/// Written here rather than using torch.optim.AdamW so that its moments are named by parameter
/// and saved in safetensors next to the weights (resume), and the learning rate is set per step
/// by the schedule.
/// </summary>
public sealed class AdamWOptimizer : IDisposable
{
    private readonly List<Slot> _slots;

    private sealed record Slot(string Name, Parameter Param, Tensor ExpAvg, Tensor ExpAvgSq, bool Decay);

    /// <summary>Optimises <paramref name="parameters"/> (typically the trainable ones: requires_grad true).</summary>
    public AdamWOptimizer(IEnumerable<(string Name, Parameter Param)> parameters, double weightDecay = 0.1, double beta1 = 0.9, double beta2 = 0.95, double epsilon = 1e-8)
    {
        WeightDecay = weightDecay;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        _slots = parameters.Select(p => new Slot(p.Name, p.Param, zeros_like(p.Param), zeros_like(p.Param), p.Param.dim() >= 2)).ToList();
        if (_slots.Count == 0) throw new ArgumentException("No parameters to optimise.", nameof(parameters));
    }

    /// <summary>Learning rate for the next <see cref="Step"/>.</summary>
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Decoupled weight decay coefficient λ (θ ← θ − lr·λ·θ).</summary>
    public double WeightDecay { get; }

    /// <summary>First-moment decay β₁.</summary>
    public double Beta1 { get; }

    /// <summary>Second-moment decay β₂.</summary>
    public double Beta2 { get; }

    /// <summary>Denominator epsilon.</summary>
    public double Epsilon { get; }

    /// <summary>Number of updates taken (drives bias correction).</summary>
    public long StepCount { get; private set; }

    /// <summary>The optimised parameters.</summary>
    public IEnumerable<Parameter> Parameters => _slots.Select(s => s.Param);

    /// <summary>Sets every gradient to null (the next backward allocates fresh ones).</summary>
    public void ZeroGrad()
    {
        foreach (var s in _slots)
        {
            var grad = s.Param.grad;
            if (grad is null) continue;
            grad.Dispose();
            s.Param.grad = null;
        }
    }

    /// <summary>One update from the current gradients; parameters without a gradient are skipped.</summary>
    public void Step()
    {
        StepCount++;
        double correction1 = 1 - Math.Pow(Beta1, StepCount);
        double correction2 = 1 - Math.Pow(Beta2, StepCount);
        double stepSize = LearningRate / correction1;
        double sqrtCorrection2 = Math.Sqrt(correction2);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var s in _slots)
        {
            var g = s.Param.grad;
            if (g is null) continue;
            if (s.Decay && WeightDecay > 0) s.Param.mul_(1 - LearningRate * WeightDecay);
            s.ExpAvg.mul_(Beta1).add_(g, 1 - Beta1);                 // m ← β₁m + (1−β₁)g
            s.ExpAvgSq.mul_(Beta2).addcmul_(g, g, 1 - Beta2);         // v ← β₂v + (1−β₂)g²
            var denom = s.ExpAvgSq.sqrt().div_(sqrtCorrection2).add_(Epsilon);
            s.Param.addcdiv_(s.ExpAvg, denom, -stepSize);            // θ ← θ − lr·m̂/(√v̂ + ε)
        }
    }

    /// <summary>Writes the moments (<c>{name}.exp_avg</c>, <c>{name}.exp_avg_sq</c>) and the step count to a safetensors file.</summary>
    public void Save(string path)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var s in _slots)
        {
            tensors[s.Name + ".exp_avg"] = s.ExpAvg;
            tensors[s.Name + ".exp_avg_sq"] = s.ExpAvgSq;
        }
        Safetensors.Write(path, tensors, new Dictionary<string, string> { ["step"] = StepCount.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    /// <summary>Restores a state written by <see cref="Save"/> for the same parameters (all-or-nothing).</summary>
    public void Load(string path)
    {
        using var contents = Safetensors.Read(path);
        if (!contents.Metadata.TryGetValue("step", out string? stepText) || !long.TryParse(stepText, out long step) || step < 0)
            throw new CheckpointException($"{path}: metadata 'step' is missing or not a non-negative integer.");
        var expected = _slots.SelectMany(s => new[] { (s.Name + ".exp_avg", s.ExpAvg), (s.Name + ".exp_avg_sq", s.ExpAvgSq) }).ToList();
        foreach (var (name, target) in expected)
        {
            if (!contents.Tensors.TryGetValue(name, out var value)) throw new CheckpointException($"{path}: optimizer tensor '{name}' is missing.");
            if (!value.shape.SequenceEqual(target.shape))
                throw new CheckpointException($"{path}: optimizer tensor '{name}' has shape [{string.Join(", ", value.shape)}], expected [{string.Join(", ", target.shape)}].");
        }
        var unknown = contents.Tensors.Keys.Except(expected.Select(e => e.Item1)).FirstOrDefault();
        if (unknown is not null) throw new CheckpointException($"{path}: optimizer tensor '{unknown}' matches no optimised parameter.");
        using (no_grad())
            foreach (var (name, target) in expected) target.copy_(contents.Tensors[name]);
        StepCount = step;
    }

    /// <summary>Frees the moment tensors.</summary>
    public void Dispose()
    {
        foreach (var s in _slots)
        {
            s.ExpAvg.Dispose();
            s.ExpAvgSq.Dispose();
        }
    }
}
