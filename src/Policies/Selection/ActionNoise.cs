using RLAgents.Environments;

namespace RLAgents.Policies.Selection;

/// <summary>
/// The process that supplies the exploration draws added to a deterministic continuous action
/// (<see cref="ActionSelection.NoiseScale"/> × half the range × the draw). Without one, every draw is an
/// independent standard normal (TD3's Gaussian exploration). A process with memory keeps one state per
/// env slot and action element, and restarts a slot when its episode ends.
/// </summary>
public interface IActionNoise
{
    /// <summary>The next draw for action element <paramref name="element"/> of env slot <paramref name="row"/>, random numbers from <paramref name="rng"/>.</summary>
    double Next(int row, int element, Rng rng);

    /// <summary>Restarts the process of env slot <paramref name="row"/> (its episode ended).</summary>
    void EndEpisode(int row);

    /// <summary>The process state, slot-major ([rows × elements]), exact, for checkpoints.</summary>
    double[] SaveState();

    /// <summary>Restores a state written by <see cref="SaveState"/>; throws <see cref="ArgumentException"/> when its length does not match.</summary>
    void LoadState(ReadOnlySpan<double> state);
}

/// <summary>
/// The Ornstein–Uhlenbeck process in unit scale, x ← x − θ·x·dt + √dt·ε with ε ~ N(0, 1), started at 0 and
/// restarted at 0 when an episode ends (Uhlenbeck &amp; Ornstein 1930; DDPG's exploration, Lillicrap et al. 2016,
/// θ = 0.15 and dt = 0.01 as Stable-Baselines3). Multiplied by σ it is SB3's process with that σ. Its draws are
/// correlated over about 1/(θ·dt) steps (≈ 667 with the defaults) and its stationary standard deviation is
/// √(dt / (1 − (1 − θ·dt)²)) ≈ 1/√(2θ) ≈ 1.83: a push held for hundreds of steps, which is what finds the goal of
/// MountainCarContinuous-v0, where independent per-step noise averages out.
/// </summary>
public sealed class OrnsteinUhlenbeckNoise : IActionNoise
{
    private readonly double[] _state;
    private readonly int _elements;
    private readonly double _decay, _sqrtDt;

    /// <summary>Creates the process for <paramref name="rows"/> env slots of <paramref name="elements"/> action floats each.</summary>
    public OrnsteinUhlenbeckNoise(int rows, int elements, double theta = 0.15, double dt = 0.01)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(elements);
        if (!(theta >= 0) || !(dt > 0) || theta * dt >= 1)
            throw new ArgumentOutOfRangeException(nameof(theta), $"The Ornstein–Uhlenbeck process needs θ ≥ 0, dt > 0 and θ·dt < 1 (θ = {theta}, dt = {dt}).");
        _state = new double[rows * elements];
        _elements = elements;
        _decay = 1 - theta * dt;
        _sqrtDt = Math.Sqrt(dt);
    }

    /// <summary>Env slots.</summary>
    public int Rows => _state.Length / _elements;

    /// <inheritdoc />
    public double Next(int row, int element, Rng rng)
    {
        ref double x = ref _state[row * _elements + element];
        x = _decay * x + _sqrtDt * rng.NextNormal();
        return x;
    }

    /// <inheritdoc />
    public void EndEpisode(int row) => Array.Clear(_state, row * _elements, _elements);

    /// <inheritdoc />
    public double[] SaveState() => (double[])_state.Clone();

    /// <inheritdoc />
    public void LoadState(ReadOnlySpan<double> state)
    {
        if (state.Length != _state.Length)
            throw new ArgumentException($"The Ornstein–Uhlenbeck state holds {state.Length} floats; this process has {Rows} slots × {_elements} elements.");
        state.CopyTo(_state);
    }
}
