namespace RLAgents.Environments.ClassicControl;

/// <summary>
/// Acrobot-v1 with Gymnasium 1.x's exact dynamics: two links hang from a fixed pivot and the joint
/// between them applies torque −1 (action 0), 0 (1) or +1 (2); the goal is to swing the free end
/// above the height of one link over the pivot. The state (θ₁, θ₂, θ̇₁, θ̇₂) is float64 (float32
/// values after a reset, as Gymnasium draws it); the observation is
/// (cos θ₁, sin θ₁, cos θ₂, sin θ₂, θ̇₁, θ̇₂) cast to float32 (modality <c>state</c>, Box float32 [6]).
/// Reward −1 per step and 0 on the terminating step; the 500-step limit is applied by the registry's
/// time-limit wrapper.
/// </summary>
/// <remarks>
/// A step is one classical Runge–Kutta (RK4) step of dt = 0.2 s over the augmented state
/// (θ₁, θ₂, θ̇₁, θ̇₂, torque), with Sutton and Barto's "book" equations by default. The angles are
/// then wrapped into [−π, π] and the velocities clipped to ±4π and ±9π. Every expression follows
/// Gymnasium's evaluation order with the C library's sin/cos, so trajectories from the same state
/// reproduce its float32 observations bit for bit. Resets draw each state element from
/// uniform(−0.1, 0.1), rounded to float32, with this env's <see cref="Rng"/> (not numpy's).
/// </remarks>
public sealed partial class Acrobot : Env
{
    /// <summary>Integration step (s).</summary>
    public const double Dt = 0.2;
    /// <summary>Length of link 1 (m).</summary>
    public const double LinkLength1 = 1.0;
    /// <summary>Length of link 2 (m).</summary>
    public const double LinkLength2 = 1.0;
    /// <summary>Mass of link 1 (kg).</summary>
    public const double LinkMass1 = 1.0;
    /// <summary>Mass of link 2 (kg).</summary>
    public const double LinkMass2 = 1.0;
    /// <summary>Position of link 1's centre of mass (m).</summary>
    public const double LinkComPos1 = 0.5;
    /// <summary>Position of link 2's centre of mass (m).</summary>
    public const double LinkComPos2 = 0.5;
    /// <summary>Moment of inertia of both links.</summary>
    public const double LinkMoi = 1.0;
    /// <summary>Gravitational acceleration (m/s²).</summary>
    public const double Gravity = 9.8;
    /// <summary>Bound of θ̇₁: 4π rad/s.</summary>
    public const double MaxVel1 = 4 * Math.PI;
    /// <summary>Bound of θ̇₂: 9π rad/s.</summary>
    public const double MaxVel2 = 9 * Math.PI;
    /// <summary>Reset draws every state element from [−ResetBound, ResetBound).</summary>
    public const double ResetBound = 0.1;
    /// <summary>Gymnasium's <c>max_episode_steps</c> for v1, enforced by the time-limit wrapper.</summary>
    public const int MaxEpisodeSteps = 500;

    /// <summary>The registered identity, <c>Acrobot-v1</c>.</summary>
    public static readonly EnvId EnvId = new("Acrobot", 1);

    /// <summary>One observation modality, <c>state</c>: Box float32 [6], cosines and sines in [−1, 1], velocities within ±4π and ±9π.</summary>
    public static readonly ObservationSpace StateSpace = ObservationSpace.Single("state", new BoxSpace(
        [-1f, -1f, -1f, -1f, (float)-MaxVel1, (float)-MaxVel2], [1f, 1f, 1f, 1f, (float)MaxVel1, (float)MaxVel2], [6]));

    /// <summary>Discrete(3): torque −1, 0 or +1 on the joint between the links.</summary>
    public static readonly DiscreteSpace Actions = new(3);

    private readonly Observation _observation = new(StateSpace);
    private readonly float[] _obs;
    private readonly bool _book;
    private double _theta1, _theta2, _dtheta1, _dtheta2;

    /// <summary>Creates Acrobot with default options.</summary>
    public Acrobot() : this(new AcrobotOptions()) { }

    /// <summary>Creates Acrobot with <paramref name="options"/>.</summary>
    public Acrobot(AcrobotOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Enum.IsDefined(options.Dynamics)) throw new ArgumentOutOfRangeException(nameof(options), options.Dynamics, "Unknown Acrobot dynamics.");
        Options = options;
        _book = options.Dynamics == AcrobotDynamics.Book;
        _obs = _observation.FloatArray(0);
    }

    /// <summary>The registration of <c>Acrobot-v1</c> (500-step limit).</summary>
    public static EnvRegistration Registration { get; } = new(EnvId, typeof(AcrobotOptions),
        o => new Acrobot((AcrobotOptions)o), MaxEpisodeSteps,
        "Swing a two-link arm's tip above the bar (Gymnasium Acrobot-v1, RK4 book dynamics); observation state[6], torque -1/0/+1.")
    {
        CreateBatched = (numEnvs, autoreset, o, limit) => new Vector.AcrobotVectorEnv(numEnvs, autoreset, (AcrobotOptions)o, limit ?? MaxEpisodeSteps),
    };

    /// <summary>The options this env was built with.</summary>
    public AcrobotOptions Options { get; }

    /// <inheritdoc />
    public override EnvId Id => EnvId;

    /// <inheritdoc />
    public override ObservationSpace ObservationSpace => StateSpace;

    /// <inheritdoc />
    public override DiscreteSpace ActionSpace => Actions;

    /// <summary>The float64 state (θ₁, θ₂, θ̇₁, θ̇₂) as a new array; setting it calls <see cref="SetState"/>.</summary>
    public double[] State
    {
        get => [_theta1, _theta2, _dtheta1, _dtheta2];
        set => SetState(value);
    }

    /// <summary>Replaces the state (tests, replay; after <see cref="EnvBase.Reset"/>) and returns the rewritten observation.</summary>
    public Observation SetState(ReadOnlySpan<double> state)
    {
        if (state.Length != 4) throw new ArgumentException($"Acrobot's state has 4 elements, not {state.Length}.", nameof(state));
        (_theta1, _theta2, _dtheta1, _dtheta2) = (state[0], state[1], state[2], state[3]);
        WriteObservation();
        return _observation;
    }

    /// <inheritdoc />
    protected override ResetResult ResetCore()
    {
        var rng = Random;
        // Gymnasium draws the four elements in float64 and stores them as float32.
        _theta1 = (float)rng.Uniform(-ResetBound, ResetBound);
        _theta2 = (float)rng.Uniform(-ResetBound, ResetBound);
        _dtheta1 = (float)rng.Uniform(-ResetBound, ResetBound);
        _dtheta2 = (float)rng.Uniform(-ResetBound, ResetBound);
        WriteObservation();
        return new ResetResult(_observation, default);
    }

    /// <inheritdoc />
    protected override StepResult StepCore(int action)
    {
        var s = new State4(_theta1, _theta2, _dtheta1, _dtheta2);
        s = Integrate(s, action - 1.0, _book);
        (_theta1, _theta2, _dtheta1, _dtheta2) = (s.Theta1, s.Theta2, s.DTheta1, s.DTheta2);
        bool terminated = IsTerminal(_theta1, _theta2);
        WriteObservation();
        return new StepResult(_observation, terminated ? 0.0 : -1.0, terminated, false, default);
    }

    /// <summary>The state of the two links.</summary>
    internal readonly record struct State4(double Theta1, double Theta2, double DTheta1, double DTheta2);

    /// <summary>
    /// One RK4 step of <see cref="Dt"/> with <paramref name="torque"/> held constant (<see cref="Rk4"/>),
    /// then angles wrapped into [−π, π] and velocities clipped.
    /// </summary>
    internal static State4 Integrate(State4 s, double torque, bool book)
    {
        var raw = Rk4(s, torque, book);
        return new State4(Wrap(raw.Theta1), Wrap(raw.Theta2), Math.Clamp(raw.DTheta1, -MaxVel1, MaxVel1), Math.Clamp(raw.DTheta2, -MaxVel2, MaxVel2));
    }

    /// <summary>One RK4 step without wrapping or clipping (Gymnasium's <c>rk4</c> over <c>[0, dt]</c>).</summary>
    internal static State4 Rk4(State4 y, double torque, bool book)
    {
        // The augmented state's fifth element (the torque) has derivative 0, so every stage keeps it.
        const double dt2 = Dt / 2.0;
        var k1 = Derivatives(y, torque, book);
        var k2 = Derivatives(Add(y, dt2, k1), torque, book);
        var k3 = Derivatives(Add(y, dt2, k2), torque, book);
        var k4 = Derivatives(Add(y, Dt, k3), torque, book);
        const double sixth = Dt / 6.0;
        return new State4(
            y.Theta1 + sixth * (k1.Theta1 + 2 * k2.Theta1 + 2 * k3.Theta1 + k4.Theta1),
            y.Theta2 + sixth * (k1.Theta2 + 2 * k2.Theta2 + 2 * k3.Theta2 + k4.Theta2),
            y.DTheta1 + sixth * (k1.DTheta1 + 2 * k2.DTheta1 + 2 * k3.DTheta1 + k4.DTheta1),
            y.DTheta2 + sixth * (k1.DTheta2 + 2 * k2.DTheta2 + 2 * k3.DTheta2 + k4.DTheta2));
    }

    private static State4 Add(State4 y, double h, State4 k) =>
        new(y.Theta1 + h * k.Theta1, y.Theta2 + h * k.Theta2, y.DTheta1 + h * k.DTheta1, y.DTheta2 + h * k.DTheta2);

    /// <summary>
    /// (θ̇₁, θ̇₂, θ̈₁, θ̈₂) of the equations of motion, each expression in Gymnasium's order (the
    /// constants fold exactly as its Python floats do: every product of them is exact). Squares of
    /// state values are <see cref="Math.Pow"/>(x, 2) because numpy's <c>x**2</c> on a float64 scalar
    /// calls the C library's pow, which can differ from x·x in the last bit.
    /// </summary>
    private static State4 Derivatives(State4 s, double a, bool book)
    {
        const double m1 = LinkMass1, m2 = LinkMass2, l1 = LinkLength1, lc1 = LinkComPos1, lc2 = LinkComPos2, i1 = LinkMoi, i2 = LinkMoi, g = Gravity;
        double theta1 = s.Theta1, theta2 = s.Theta2, dtheta1 = s.DTheta1, dtheta2 = s.DTheta2;
        double sinTheta2 = Math.Sin(theta2), cosTheta2 = Math.Cos(theta2);
        double d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cosTheta2) + i1 + i2;
        double d2 = m2 * (lc2 * lc2 + l1 * lc2 * cosTheta2) + i2;
        double phi2 = m2 * lc2 * g * Math.Cos(theta1 + theta2 - Math.PI / 2.0);
        double phi1 = -m2 * l1 * lc2 * Math.Pow(dtheta2, 2) * sinTheta2
            - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sinTheta2
            + (m1 * lc1 + m2 * l1) * g * Math.Cos(theta1 - Math.PI / 2)
            + phi2;
        double ddtheta2 = book
            ? (a + d2 / d1 * phi1 - m2 * l1 * lc2 * Math.Pow(dtheta1, 2) * sinTheta2 - phi2) / (m2 * (lc2 * lc2) + i2 - Math.Pow(d2, 2) / d1)
            : (a + d2 / d1 * phi1 - phi2) / (m2 * (lc2 * lc2) + i2 - Math.Pow(d2, 2) / d1);
        double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
        return new State4(dtheta1, dtheta2, ddtheta1, ddtheta2);
    }

    /// <summary>Gymnasium's <c>wrap(x, −π, π)</c>: adds or subtracts 2π until x lies in [−π, π].</summary>
    internal static double Wrap(double x)
    {
        const double diff = Math.PI - -Math.PI;
        while (x > Math.PI) x -= diff;
        while (x < -Math.PI) x += diff;
        return x;
    }

    /// <summary>The free end is above the bar: −cos θ₁ − cos(θ₂ + θ₁) &gt; 1.</summary>
    internal static bool IsTerminal(double theta1, double theta2) => -Math.Cos(theta1) - Math.Cos(theta2 + theta1) > 1.0;

    private void WriteObservation()
    {
        var obs = _obs;
        (double s1, double c1) = Math.SinCos(_theta1);
        (double s2, double c2) = Math.SinCos(_theta2);
        obs[0] = (float)c1;
        obs[1] = (float)s1;
        obs[2] = (float)c2;
        obs[3] = (float)s2;
        obs[4] = (float)_dtheta1;
        obs[5] = (float)_dtheta2;
    }
}
