using System.ComponentModel.DataAnnotations;

namespace RLAgents.Environments.Wrappers;

/// <summary>Options of <see cref="NormalizeObservation"/>.</summary>
public sealed class NormalizeObservationOptions
{
    /// <summary>Added to the variance before the square root, so constant elements do not divide by zero.</summary>
    [Range(0.0, 1.0)]
    public double Epsilon { get; set; } = 1e-8;

    /// <summary>Normalised values are clipped to [−Clip, Clip] (Stable-Baselines3's <c>clip_obs</c> default 10).</summary>
    [Range(1e-6, double.MaxValue)]
    public double Clip { get; set; } = 10.0;
}

/// <summary>
/// Normalises every float32 modality element to running zero mean and unit variance, then clips:
/// <c>clip((v − mean) / sqrt(var + ε), −c, c)</c>. The statistics are updated with each observation
/// before it is normalised (Gymnasium's order) unless <see cref="Frozen"/>; uint8, discrete and text
/// modalities pass through unchanged. Statistics can be saved and loaded as plain arrays, so an
/// evaluation run uses the training run's normalisation with <see cref="Frozen"/> set.
/// </summary>
public sealed class NormalizeObservation : Wrapper
{
    private readonly ObservationSpace _space;
    private readonly Observation _output;
    private readonly RunningMeanStd?[] _stats;
    private readonly double _epsilon;
    private readonly double _clip;

    /// <summary>Wraps <paramref name="inner"/>; null options mean defaults.</summary>
    public NormalizeObservation(IEnv inner, NormalizeObservationOptions? options = null) : base(inner)
    {
        options ??= new NormalizeObservationOptions();
        if (!(options.Epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(options), $"epsilon {options.Epsilon} must be >= 0.");
        if (!(options.Clip > 0)) throw new ArgumentOutOfRangeException(nameof(options), $"clip {options.Clip} must be > 0.");
        _epsilon = options.Epsilon;
        _clip = options.Clip;
        var source = inner.ObservationSpace;
        var modalities = new Modality[source.Count];
        _stats = new RunningMeanStd?[source.Count];
        for (int m = 0; m < source.Count; m++)
        {
            var mod = source[m];
            if (mod.Storage == ModalityStorage.Float32)
            {
                var box = (BoxSpace)mod.Space;
                modalities[m] = new Modality(mod.Name, new BoxSpace((float)-_clip, (float)_clip, box.ShapeArray()));
                _stats[m] = new RunningMeanStd(mod.Size);
            }
            else modalities[m] = mod;
        }
        _space = new ObservationSpace(modalities);
        _output = new Observation(_space);
    }

    /// <summary>The inner space with every float32 modality bounded by ±clip.</summary>
    public override ObservationSpace ObservationSpace => _space;

    /// <summary>When true the statistics stop updating (evaluation).</summary>
    public bool Frozen { get; set; }

    /// <summary>The running statistics of modality <paramref name="m"/>, or null for non-float modalities.</summary>
    public RunningMeanStd? Statistics(int m) => _stats[m];

    /// <summary>Saved statistics, one entry per modality (null for non-float modalities).</summary>
    public RunningMeanStdState?[] SaveStatistics() => _stats.Select(s => s?.Save()).ToArray();

    /// <summary>Loads statistics saved by <see cref="SaveStatistics"/> from a wrapper of the same layout.</summary>
    public void LoadStatistics(RunningMeanStdState?[] states)
    {
        if (states.Length != _stats.Length)
            throw new ArgumentException($"Saved statistics cover {states.Length} modalities; this observation has {_stats.Length}.", nameof(states));
        for (int m = 0; m < _stats.Length; m++)
        {
            if ((_stats[m] is null) != (states[m] is null))
                throw new ArgumentException($"Saved statistics for modality '{_space[m].Name}' do not match its storage.", nameof(states));
            if (states[m] is { } s) _stats[m]!.Load(s);
        }
    }

    /// <inheritdoc />
    protected override ResetResult ResetCore(long? seed)
    {
        var r = Inner.Reset(seed);
        return r with { Observation = Normalize(r.Observation) };
    }

    /// <inheritdoc />
    protected override StepResult AfterStep(StepResult r) =>
        r with { Observation = Normalize(r.Observation) };

    private Observation Normalize(Observation source)
    {
        source.CopyTo(_output);
        for (int m = 0; m < _stats.Length; m++)
        {
            if (_stats[m] is not { } stats) continue;
            var values = _output.Floats(m);
            if (!Frozen) stats.Update(values);
            stats.Normalize(values, _epsilon, _clip);
        }
        return _output;
    }
}
