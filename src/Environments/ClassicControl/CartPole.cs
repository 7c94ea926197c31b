using System.Runtime.CompilerServices;

namespace RLAgents.Environments.ClassicControl;

/// <summary>
/// CartPole-v1 with Gymnasium 1.x's exact dynamics: a pole hinged on a cart on a frictionless
/// track, pushed left (action 0) or right (action 1) with a fixed force. The physical state
/// (x, ẋ, θ, θ̇) is kept in float64 and integrated with explicit Euler at τ = 0.02 s; the
/// observation is that state cast to float32 (modality <c>state</c>, Box float32 [4]).
/// The episode terminates when |x| &gt; 2.4 or |θ| &gt; 12°; the 500-step limit is applied by the
/// registry's time-limit wrapper (this class never truncates).
/// </summary>
/// <remarks>
/// Every expression is evaluated in Gymnasium's order and with the same library sin/cos, so a
/// trajectory from the same start state and actions reproduces Gymnasium's float32 observations
/// bit for bit. Resets draw each state element from uniform(-0.05, 0.05) with this env's
/// <see cref="Rng"/> (not numpy's generator), so seeds give different but equally distributed starts.
/// </remarks>
public sealed partial class CartPole : Env
{
    /// <summary>Gravitational acceleration (m/s²).</summary>
    public const double Gravity = 9.8;
    /// <summary>Cart mass (kg).</summary>
    public const double MassCart = 1.0;
    /// <summary>Pole mass (kg).</summary>
    public const double MassPole = 0.1;
    /// <summary>Cart plus pole mass, computed as Gymnasium does.</summary>
    public const double TotalMass = MassPole + MassCart;
    /// <summary>Half the pole's length (m).</summary>
    public const double Length = 0.5;
    /// <summary>Pole mass times half-length.</summary>
    public const double PoleMassLength = MassPole * Length;
    /// <summary>Magnitude of the push (N).</summary>
    public const double ForceMag = 10.0;
    /// <summary>Seconds between state updates.</summary>
    public const double Tau = 0.02;
    /// <summary>Pole angle beyond which the episode terminates: 12 degrees, in radians.</summary>
    public const double ThetaThresholdRadians = 12 * 2 * Math.PI / 360;
    /// <summary>Cart position beyond which the episode terminates (m).</summary>
    public const double XThreshold = 2.4;
    /// <summary>Reset draws every state element uniformly from [-ResetBound, ResetBound).</summary>
    public const double ResetBound = 0.05;
    /// <summary>Gymnasium's <c>max_episode_steps</c> for v1, enforced by the time-limit wrapper.</summary>
    public const int MaxEpisodeSteps = 500;

    /// <summary>The registered identity, <c>CartPole-v1</c>.</summary>
    public static readonly EnvId EnvId = new("CartPole", 1);

    /// <summary>One observation modality, <c>state</c>: Box float32 [4] with Gymnasium's bounds (±4.8, ±∞, ±0.418 rad, ±∞).</summary>
    public static readonly ObservationSpace StateSpace = ObservationSpace.Single("state", new BoxSpace(
        [(float)-(XThreshold * 2), float.NegativeInfinity, (float)-(ThetaThresholdRadians * 2), float.NegativeInfinity],
        [(float)(XThreshold * 2), float.PositiveInfinity, (float)(ThetaThresholdRadians * 2), float.PositiveInfinity],
        [4]));

    /// <summary>Discrete(2): 0 pushes left, 1 pushes right.</summary>
    public static readonly DiscreteSpace Actions = new(2);

    private readonly Observation _observation = new(StateSpace);
    private readonly float[] _obs; // _observation's backing array, written in place every step
    private readonly double _stepReward;
    private readonly double _terminalReward;
    private double _x, _xDot, _theta, _thetaDot;

    /// <summary>Creates CartPole with default options.</summary>
    public CartPole() : this(new CartPoleOptions()) { }

    /// <summary>Creates CartPole with <paramref name="options"/>.</summary>
    public CartPole(CartPoleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _obs = _observation.FloatArray(0);
        _stepReward = options.SuttonBartoReward ? 0.0 : 1.0;
        _terminalReward = options.SuttonBartoReward ? -1.0 : 1.0;
    }

    /// <summary>The registration of <c>CartPole-v1</c> (500-step limit).</summary>
    public static EnvRegistration Registration { get; } = new(EnvId, typeof(CartPoleOptions),
        o => new CartPole((CartPoleOptions)o), MaxEpisodeSteps,
        "Balance a pole on a cart (Gymnasium CartPole-v1 dynamics); observation state[4], actions left/right.")
    {
        CreateBatched = (numEnvs, autoreset, o, limit) => new Vector.CartPoleVectorEnv(numEnvs, autoreset, (CartPoleOptions)o, limit ?? MaxEpisodeSteps),
    };

    /// <summary>The options this env was built with.</summary>
    public CartPoleOptions Options { get; }

    /// <inheritdoc />
    public override EnvId Id => EnvId;

    /// <inheritdoc />
    public override ObservationSpace ObservationSpace => StateSpace;

    /// <inheritdoc />
    public override DiscreteSpace ActionSpace => Actions;

    /// <summary>The float64 physical state (x, ẋ, θ, θ̇) as a new array.</summary>
    public double[] State
    {
        get => [_x, _xDot, _theta, _thetaDot];
        set => SetState(value);
    }

    /// <summary>Copies the float64 physical state (x, ẋ, θ, θ̇) into <paramref name="destination"/>.</summary>
    public void GetState(Span<double> destination)
    {
        if (destination.Length < 4) throw new ArgumentException("CartPole's state has 4 elements.", nameof(destination));
        destination[0] = _x;
        destination[1] = _xDot;
        destination[2] = _theta;
        destination[3] = _thetaDot;
    }

    /// <summary>
    /// Replaces the physical state (for tests and replay; call after <see cref="EnvBase.Reset"/>, which
    /// starts the episode). The current observation is rewritten to match and returned.
    /// </summary>
    public Observation SetState(ReadOnlySpan<double> state)
    {
        if (state.Length != 4) throw new ArgumentException($"CartPole's state has 4 elements, not {state.Length}.", nameof(state));
        (_x, _xDot, _theta, _thetaDot) = (state[0], state[1], state[2], state[3]);
        WriteObservation();
        return _observation;
    }

    /// <inheritdoc />
    protected override ResetResult ResetCore()
    {
        var rng = Random;
        _x = rng.Uniform(-ResetBound, ResetBound);
        _xDot = rng.Uniform(-ResetBound, ResetBound);
        _theta = rng.Uniform(-ResetBound, ResetBound);
        _thetaDot = rng.Uniform(-ResetBound, ResetBound);
        WriteObservation();
        return new ResetResult(_observation, default);
    }

    /// <inheritdoc />
    protected override StepResult StepCore(int action)
    {
        bool terminated = Advance(ref _x, ref _xDot, ref _theta, ref _thetaDot, action);
        var obs = _obs;
        obs[3] = (float)_thetaDot;
        obs[0] = (float)_x;
        obs[1] = (float)_xDot;
        obs[2] = (float)_theta;
        return new StepResult(_observation, terminated ? _terminalReward : _stepReward, terminated, false, default);
    }

    /// <summary>
    /// One explicit-Euler step of the state in place with action 0 or 1; true when the new state
    /// terminates. Shared with the batched env's exact path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Advance(ref double x, ref double xDot, ref double theta, ref double thetaDot, int action)
    {
        double force = action == 1 ? ForceMag : -ForceMag;
        // One libm call for both: glibc's sincos runs the same kernels as sin and cos.
        (double sinTheta, double cosTheta) = Math.SinCos(theta);

        // Gymnasium's expressions, in its evaluation order (Florian 2005, corrected cart-pole equations).
        double temp = (force + PoleMassLength * (thetaDot * thetaDot) * sinTheta) / TotalMass;
        double thetaAcc = (Gravity * sinTheta - cosTheta * temp)
            / (Length * (4.0 / 3.0 - MassPole * (cosTheta * cosTheta) / TotalMass));
        double xAcc = temp - PoleMassLength * thetaAcc * cosTheta / TotalMass;

        // Explicit Euler: positions advance with the old velocities.
        x += Tau * xDot;
        xDot += Tau * xAcc;
        theta += Tau * thetaDot;
        thetaDot += Tau * thetaAcc;
        return x < -XThreshold || x > XThreshold || theta < -ThetaThresholdRadians || theta > ThetaThresholdRadians;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WriteObservation()
    {
        var obs = _obs;
        obs[3] = (float)_thetaDot;
        obs[0] = (float)_x;
        obs[1] = (float)_xDot;
        obs[2] = (float)_theta;
    }
}
