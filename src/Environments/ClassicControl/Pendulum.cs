namespace RLAgents.Environments.ClassicControl;

/// <summary>
/// Pendulum-v1 with Gymnasium 1.x's exact dynamics: swing a frictionless pendulum up and keep it
/// upright with a torque in [−2, 2] (action: Box float32 [1]). The state (θ, θ̇) is kept in float64,
/// θ = 0 upright and never wrapped; the observation is (cos θ, sin θ, θ̇) cast to float32 (modality
/// <c>state</c>, Box float32 [3]). Reward <c>−(norm(θ)² + 0.1·θ̇² + 0.001·u²)</c> with θ normalised
/// into [−π, π); the episode never terminates, and the 200-step limit is applied by the registry's
/// time-limit wrapper.
/// </summary>
/// <remarks>
/// Semantics that matter for exactness, all Gymnasium's: the action is clipped to ±2 and the
/// clipped torque u drives both dynamics and cost (out-of-bounds actions are accepted, as the
/// contract requires); the cost uses the state before the step and a floored modulo for the angle
/// (C#'s <c>%</c> truncates); θ̇ is integrated first (semi-implicit Euler, dt = 0.05 s) and clipped
/// to ±8, and the new θ uses the new, clipped θ̇; squares of state values are the C library's
/// pow(x, 2) as numpy computes them. Trajectories from the same state reproduce Gymnasium's float32
/// observations and float64 rewards bit for bit. Resets draw θ from uniform(−π, π) and θ̇ from
/// uniform(−1, 1) with this env's <see cref="Rng"/> (not numpy's).
/// </remarks>
public sealed partial class Pendulum : Env
{
    /// <summary>Bound of θ̇ (rad/s).</summary>
    public const double MaxSpeed = 8;
    /// <summary>Bound of the applied torque (N·m); larger actions are clipped to it.</summary>
    public const double MaxTorque = 2.0;
    /// <summary>Integration step (s).</summary>
    public const double Dt = 0.05;
    /// <summary>Mass (kg).</summary>
    public const double Mass = 1.0;
    /// <summary>Length (m).</summary>
    public const double Length = 1.0;
    /// <summary>Gymnasium's <c>max_episode_steps</c> for v1, enforced by the time-limit wrapper.</summary>
    public const int MaxEpisodeSteps = 200;

    /// <summary>The registered identity, <c>Pendulum-v1</c>.</summary>
    public static readonly EnvId EnvId = new("Pendulum", 1);

    /// <summary>One observation modality, <c>state</c>: Box float32 [3], cos θ and sin θ in [−1, 1], θ̇ in [−8, 8].</summary>
    public static readonly ObservationSpace StateSpace = ObservationSpace.Single("state", new BoxSpace(
        [-1f, -1f, (float)-MaxSpeed], [1f, 1f, (float)MaxSpeed], [3]));

    /// <summary>Box float32 [1] in [−2, 2]: the torque (positive counter-clockwise).</summary>
    public static readonly BoxSpace Actions = new((float)-MaxTorque, (float)MaxTorque, [1]);

    private readonly Observation _observation = new(StateSpace);
    private readonly float[] _obs;
    private readonly double _gravity;
    private double _theta, _thetaDot;

    /// <summary>Creates Pendulum with default options.</summary>
    public Pendulum() : this(new PendulumOptions()) { }

    /// <summary>Creates Pendulum with <paramref name="options"/>.</summary>
    public Pendulum(PendulumOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!double.IsFinite(options.Gravity)) throw new ArgumentOutOfRangeException(nameof(options), options.Gravity, "Pendulum gravity must be finite.");
        Options = options;
        _gravity = options.Gravity;
        _obs = _observation.FloatArray(0);
    }

    /// <summary>The registration of <c>Pendulum-v1</c> (200-step limit).</summary>
    public static EnvRegistration Registration { get; } = new(EnvId, typeof(PendulumOptions),
        o => new Pendulum((PendulumOptions)o), MaxEpisodeSteps,
        "Swing a pendulum upright with a bounded torque (Gymnasium Pendulum-v1); observation state[3], action torque Box[1] in [-2, 2].")
    {
        CreateBatched = (numEnvs, autoreset, o, limit) => new Vector.PendulumVectorEnv(numEnvs, autoreset, (PendulumOptions)o, limit ?? MaxEpisodeSteps),
    };

    /// <summary>The options this env was built with.</summary>
    public PendulumOptions Options { get; }

    /// <inheritdoc />
    public override EnvId Id => EnvId;

    /// <inheritdoc />
    public override ObservationSpace ObservationSpace => StateSpace;

    /// <inheritdoc />
    public override BoxSpace ActionSpace => Actions;

    /// <summary>The torque the latest step applied (the action clipped to ±2), or null before the first step of an episode.</summary>
    public double? LastTorque { get; private set; }

    /// <summary>The float64 state (θ, θ̇) as a new array; setting it calls <see cref="SetState"/>.</summary>
    public double[] State
    {
        get => [_theta, _thetaDot];
        set => SetState(value);
    }

    /// <summary>Replaces the state (tests, replay; after <see cref="EnvBase.Reset"/>) and returns the rewritten observation.</summary>
    public Observation SetState(ReadOnlySpan<double> state)
    {
        if (state.Length != 2) throw new ArgumentException($"Pendulum's state has 2 elements, not {state.Length}.", nameof(state));
        (_theta, _thetaDot) = (state[0], state[1]);
        WriteObservation();
        return _observation;
    }

    /// <inheritdoc />
    protected override ResetResult ResetCore()
    {
        _theta = Random.Uniform(-Math.PI, Math.PI);
        _thetaDot = Random.Uniform(-1.0, 1.0);
        LastTorque = null;
        WriteObservation();
        return new ResetResult(_observation, default);
    }

    /// <inheritdoc />
    protected override StepResult StepCore(EnvAction action)
    {
        double u = Math.Clamp(action.Continuous[0], -MaxTorque, MaxTorque);
        (_theta, _thetaDot, double reward) = Advance(_theta, _thetaDot, u, _gravity);
        LastTorque = u;
        WriteObservation();
        return new StepResult(_observation, reward, false, false, default);
    }

    /// <summary>One step from (θ, θ̇) with the clipped torque <paramref name="u"/>: the new state and the reward; shared with the batched env.</summary>
    internal static (double Theta, double ThetaDot, double Reward) Advance(double theta, double thetaDot, double u, double gravity)
    {
        // Gymnasium: costs = angle_normalize(th)**2 + .1 * thdot**2 + .001 * (u**2), on the state before the step.
        double cost = Math.Pow(AngleNormalize(theta), 2) + 0.1 * Math.Pow(thetaDot, 2) + 0.001 * (u * u);
        double newThetaDot = thetaDot + (3 * gravity / (2 * Length) * Math.Sin(theta) + 3.0 / (Mass * Length * Length) * u) * Dt;
        newThetaDot = Math.Clamp(newThetaDot, -MaxSpeed, MaxSpeed);
        return (theta + newThetaDot * Dt, newThetaDot, -cost);
    }

    /// <summary>θ mapped into [−π, π): <c>((θ + π) mod 2π) − π</c> with a floored modulo, as numpy's <c>%</c>.</summary>
    internal static double AngleNormalize(double theta)
    {
        const double twoPi = 2 * Math.PI;
        double r = (theta + Math.PI) % twoPi; // truncated (C fmod): same sign as the dividend
        if (r < 0) r += twoPi;
        return r - Math.PI;
    }

    private void WriteObservation()
    {
        (double sin, double cos) = Math.SinCos(_theta);
        _obs[0] = (float)cos;
        _obs[1] = (float)sin;
        _obs[2] = (float)_thetaDot;
    }
}
