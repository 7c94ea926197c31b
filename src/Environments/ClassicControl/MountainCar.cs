namespace RLAgents.Environments.ClassicControl;

/// <summary>
/// MountainCar-v0 with Gymnasium 1.x's exact dynamics: an under-powered car in a valley accelerates
/// left (action 0), not at all (1) or right (2) and must build momentum to reach the flag at
/// position 0.5 on the right hill. The state (position, velocity) is kept in float64; the
/// observation is that state cast to float32 (modality <c>state</c>, Box float32 [2]). Reward −1
/// on every step; the episode terminates at the goal, and the 200-step limit is applied by the
/// registry's time-limit wrapper.
/// </summary>
/// <remarks>
/// Velocity and position are clipped to ±0.07 and [−1.2, 0.6]; hitting the left wall stops the car
/// (inelastic). Expressions follow Gymnasium's evaluation order with the C library's cos, so
/// trajectories from the same state reproduce its float32 observations bit for bit. Resets draw
/// the position from uniform(−0.6, −0.4) with this env's <see cref="Rng"/> (not numpy's).
/// </remarks>
public sealed partial class MountainCar : Env
{
    /// <summary>Leftmost position (a wall).</summary>
    public const double MinPosition = -1.2;
    /// <summary>Rightmost position.</summary>
    public const double MaxPosition = 0.6;
    /// <summary>Velocity bound (both directions).</summary>
    public const double MaxSpeed = 0.07;
    /// <summary>Position at which the episode terminates (with velocity ≥ <see cref="MountainCarOptions.GoalVelocity"/>).</summary>
    public const double GoalPosition = 0.5;
    /// <summary>Velocity change of a push per step.</summary>
    public const double Force = 0.001;
    /// <summary>Gravity's coefficient: the slope adds −cos(3·position)·Gravity per step.</summary>
    public const double Gravity = 0.0025;
    /// <summary>Reset draws the position from [ResetLow, ResetHigh).</summary>
    public const double ResetLow = -0.6, ResetHigh = -0.4;
    /// <summary>Gymnasium's <c>max_episode_steps</c> for v0, enforced by the time-limit wrapper.</summary>
    public const int MaxEpisodeSteps = 200;

    /// <summary>The registered identity, <c>MountainCar-v0</c>.</summary>
    public static readonly EnvId EnvId = new("MountainCar", 0);

    /// <summary>One observation modality, <c>state</c>: Box float32 [2], position in [−1.2, 0.6], velocity in [−0.07, 0.07].</summary>
    public static readonly ObservationSpace StateSpace = ObservationSpace.Single("state", new BoxSpace(
        [(float)MinPosition, (float)-MaxSpeed], [(float)MaxPosition, (float)MaxSpeed], [2]));

    /// <summary>Discrete(3): 0 accelerates left, 1 does nothing, 2 accelerates right.</summary>
    public static readonly DiscreteSpace Actions = new(3);

    private readonly Observation _observation = new(StateSpace);
    private readonly float[] _obs;
    private readonly double _goalVelocity;
    private double _position, _velocity;

    /// <summary>Creates MountainCar with default options.</summary>
    public MountainCar() : this(new MountainCarOptions()) { }

    /// <summary>Creates MountainCar with <paramref name="options"/>.</summary>
    public MountainCar(MountainCarOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _goalVelocity = options.GoalVelocity;
        _obs = _observation.FloatArray(0);
    }

    /// <summary>The registration of <c>MountainCar-v0</c> (200-step limit).</summary>
    public static EnvRegistration Registration { get; } = new(EnvId, typeof(MountainCarOptions),
        o => new MountainCar((MountainCarOptions)o), MaxEpisodeSteps,
        "Drive an under-powered car up a hill (Gymnasium MountainCar-v0); observation state[2], actions left/none/right.")
    {
        CreateBatched = (numEnvs, autoreset, o, limit) => new Vector.MountainCarVectorEnv(numEnvs, autoreset, continuous: false, (MountainCarOptions)o, limit ?? MaxEpisodeSteps),
    };

    /// <summary>The options this env was built with.</summary>
    public MountainCarOptions Options { get; }

    /// <inheritdoc />
    public override EnvId Id => EnvId;

    /// <inheritdoc />
    public override ObservationSpace ObservationSpace => StateSpace;

    /// <inheritdoc />
    public override DiscreteSpace ActionSpace => Actions;

    /// <summary>The float64 state (position, velocity) as a new array; setting it calls <see cref="SetState"/>.</summary>
    public double[] State
    {
        get => [_position, _velocity];
        set => SetState(value);
    }

    /// <summary>Replaces the state (tests, replay; after <see cref="EnvBase.Reset"/>) and returns the rewritten observation.</summary>
    public Observation SetState(ReadOnlySpan<double> state)
    {
        if (state.Length != 2) throw new ArgumentException($"MountainCar's state has 2 elements, not {state.Length}.", nameof(state));
        (_position, _velocity) = (state[0], state[1]);
        WriteObservation();
        return _observation;
    }

    /// <inheritdoc />
    protected override ResetResult ResetCore()
    {
        _position = Random.Uniform(ResetLow, ResetHigh);
        _velocity = 0;
        WriteObservation();
        return new ResetResult(_observation, default);
    }

    /// <inheritdoc />
    protected override StepResult StepCore(int action)
    {
        (_position, _velocity, bool terminated) = Advance(_position, _velocity, action, _goalVelocity);
        WriteObservation();
        return new StepResult(_observation, -1.0, terminated, false, default);
    }

    /// <summary>One step of the dynamics from (position, velocity) with action 0, 1 or 2; shared with the batched env.</summary>
    internal static (double Position, double Velocity, bool Terminated) Advance(double position, double velocity, int action, double goalVelocity)
    {
        // Gymnasium: velocity += (action - 1) * force + cos(3 * position) * (-gravity), one sum added last.
        velocity += (action - 1) * Force + Math.Cos(3 * position) * -Gravity;
        velocity = Math.Clamp(velocity, -MaxSpeed, MaxSpeed);
        position += velocity;
        position = Math.Clamp(position, MinPosition, MaxPosition);
        if (position == MinPosition && velocity < 0) velocity = 0;
        return (position, velocity, position >= GoalPosition && velocity >= goalVelocity);
    }

    private void WriteObservation()
    {
        _obs[0] = (float)_position;
        _obs[1] = (float)_velocity;
    }
}
