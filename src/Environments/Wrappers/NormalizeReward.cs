using System.ComponentModel.DataAnnotations;

namespace RLAgents.Environments.Wrappers;

/// <summary>Options of <see cref="NormalizeReward"/>.</summary>
public sealed class NormalizeRewardOptions
{
    /// <summary>Discount of the return whose running variance scales the rewards (use the agent's γ).</summary>
    [Range(0.0, 1.0)]
    public double Gamma { get; set; } = 0.99;

    /// <summary>Added to the variance before the square root, so a constant return does not divide by zero.</summary>
    [Range(0.0, 1.0)]
    public double Epsilon { get; set; } = 1e-8;
}

/// <summary>
/// Scales rewards so that their discounted sum has roughly unit variance (Gymnasium's
/// <c>NormalizeReward</c>): after each step the discounted return <c>G ← G·γ·(1 − terminated) + r</c>
/// updates a running variance (unless <see cref="Frozen"/>), and the reward becomes
/// <c>r / sqrt(Var[G] + ε)</c>, not centred. The update is Gymnasium's to the letter, including its
/// quirks: the terminating step's own flag zeroes the carried sum (so that step's <c>G</c> is its
/// reward alone), <c>G</c> is never cleared by a reset, and a truncated episode's return carries into
/// the next episode. Observations, flags and infos pass through. The statistics and <c>G</c> can be saved and loaded as a plain record, so a
/// resumed run continues the same scaling.
/// </summary>
public sealed class NormalizeReward : Wrapper
{
    private readonly RunningMeanStd _returns = new(1);
    private readonly double[] _sample = new double[1];
    private readonly double _gamma;
    private readonly double _epsilon;
    private double _discounted;

    /// <summary>Wraps <paramref name="inner"/>; null options mean defaults.</summary>
    public NormalizeReward(IEnv inner, NormalizeRewardOptions? options = null) : base(inner)
    {
        options ??= new NormalizeRewardOptions();
        if (!(options.Gamma is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(options), $"gamma {options.Gamma} must lie in [0, 1].");
        if (!(options.Epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(options), $"epsilon {options.Epsilon} must be >= 0.");
        _gamma = options.Gamma;
        _epsilon = options.Epsilon;
    }

    /// <summary>When true the statistics stop updating (evaluation); <c>G</c> still accumulates.</summary>
    public bool Frozen { get; set; }

    /// <summary>The running mean and variance of the discounted return (one element).</summary>
    public RunningMeanStd Statistics => _returns;

    /// <summary>The discounted return <c>G</c> accumulated so far.</summary>
    public double DiscountedReturn => _discounted;

    /// <summary>The statistics and <c>G</c>, for saving next to a checkpoint.</summary>
    public NormalizeRewardState SaveState() => new(_returns.Save(), _discounted);

    /// <summary>Restores a state saved by <see cref="SaveState"/>.</summary>
    public void LoadState(NormalizeRewardState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!double.IsFinite(state.DiscountedReturn)) throw new ArgumentException($"Saved discounted return {state.DiscountedReturn} is not finite.", nameof(state));
        _returns.Load(state.Returns);
        _discounted = state.DiscountedReturn;
    }

    /// <inheritdoc />
    protected override StepResult AfterStep(StepResult r)
    {
        _discounted = _discounted * _gamma * (r.Terminated ? 0.0 : 1.0) + r.Reward;
        if (!Frozen)
        {
            _sample[0] = _discounted;
            _returns.Update(_sample);
        }
        return r with { Reward = r.Reward / Math.Sqrt(_returns.Variance[0] + _epsilon) };
    }
}

/// <summary>Saved state of a <see cref="NormalizeReward"/>: plain data, JSON-friendly.</summary>
/// <param name="Returns">Running moments of the discounted return.</param>
/// <param name="DiscountedReturn">The discounted return accumulated so far.</param>
public sealed record NormalizeRewardState(RunningMeanStdState Returns, double DiscountedReturn);
