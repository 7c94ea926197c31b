namespace RLAgents.Environments.ClassicControl;

/// <summary>
/// MountainCarContinuous-v0 with Gymnasium 1.x's exact dynamics: the car of
/// <see cref="MountainCar"/> pushed by a continuous force in [−1, 1] (action: Box float32 [1]) with
/// power 0.0015, aiming for position 0.45. Reward <c>−0.1·a²</c> per step on the raw (unclipped)
/// action, plus 100 on the step that reaches the goal, which terminates the episode; the 999-step
/// limit is applied by the registry's time-limit wrapper. Observation: the state (position,
/// velocity) as float32 (modality <c>state</c>, Box float32 [2]).
/// </summary>
/// <remarks>
/// Semantics that matter for exactness, all Gymnasium's: the force is the action clipped to ±1 but
/// the reward's penalty uses the raw action; the state is float64 after a reset and is rounded to
/// float32 at the end of every step, after the goal test (which therefore sees the float64 values);
/// velocity and position are clipped to ±0.07 and [−1.2, 0.6], and the left wall stops the car.
/// Trajectories from the same state reproduce Gymnasium's observations and rewards bit for bit.
/// Resets draw the position from uniform(−0.6, −0.4) with this env's <see cref="Rng"/> (not numpy's).
/// </remarks>
public sealed partial class MountainCarContinuous : Env
{
    /// <summary>Smallest force; smaller actions are clipped to it.</summary>
    public const double MinAction = -1.0;
    /// <summary>Largest force; larger actions are clipped to it.</summary>
    public const double MaxAction = 1.0;
    /// <summary>Position at which the episode terminates (with velocity ≥ <see cref="MountainCarOptions.GoalVelocity"/>).</summary>
    public const double GoalPosition = 0.45;
    /// <summary>Velocity change per unit of force per step.</summary>
    public const double Power = 0.0015;
    /// <summary>Gymnasium's <c>max_episode_steps</c> for v0, enforced by the time-limit wrapper.</summary>
    public const int MaxEpisodeSteps = 999;

    /// <summary>The registered identity, <c>MountainCarContinuous-v0</c>.</summary>
    public static readonly EnvId EnvId = new("MountainCarContinuous", 0);

    /// <summary>Box float32 [1] in [−1, 1]: the force.</summary>
    public static readonly BoxSpace Actions = new((float)MinAction, (float)MaxAction, [1]);

    private readonly Observation _observation = new(MountainCar.StateSpace);
    private readonly float[] _obs;
    private readonly double _goalVelocity;
    private double _position, _velocity;

    /// <summary>Creates MountainCarContinuous with default options.</summary>
    public MountainCarContinuous() : this(new MountainCarOptions()) { }

    /// <summary>Creates MountainCarContinuous with <paramref name="options"/>.</summary>
    public MountainCarContinuous(MountainCarOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _goalVelocity = options.GoalVelocity;
        _obs = _observation.FloatArray(0);
    }

    /// <summary>The registration of <c>MountainCarContinuous-v0</c> (999-step limit).</summary>
    public static EnvRegistration Registration { get; } = new(EnvId, typeof(MountainCarOptions),
        o => new MountainCarContinuous((MountainCarOptions)o), MaxEpisodeSteps,
        "Drive an under-powered car up a hill with a continuous force (Gymnasium MountainCarContinuous-v0); observation state[2], action force Box[1] in [-1, 1].")
    {
        CreateBatched = (numEnvs, autoreset, o, limit) => new Vector.MountainCarVectorEnv(numEnvs, autoreset, continuous: true, (MountainCarOptions)o, limit ?? MaxEpisodeSteps),
    };

    /// <summary>The options this env was built with.</summary>
    public MountainCarOptions Options { get; }

    /// <inheritdoc />
    public override EnvId Id => EnvId;

    /// <inheritdoc />
    public override ObservationSpace ObservationSpace => MountainCar.StateSpace;

    /// <inheritdoc />
    public override BoxSpace ActionSpace => Actions;

    /// <summary>The state (position, velocity) as a new array (float32 values after a step); setting it calls <see cref="SetState"/>.</summary>
    public double[] State
    {
        get => [_position, _velocity];
        set => SetState(value);
    }

    /// <summary>Replaces the state (tests, replay; after <see cref="EnvBase.Reset"/>) and returns the rewritten observation.</summary>
    public Observation SetState(ReadOnlySpan<double> state)
    {
        if (state.Length != 2) throw new ArgumentException($"MountainCarContinuous's state has 2 elements, not {state.Length}.", nameof(state));
        (_position, _velocity) = (state[0], state[1]);
        WriteObservation();
        return _observation;
    }

    /// <inheritdoc />
    protected override ResetResult ResetCore()
    {
        _position = Random.Uniform(MountainCar.ResetLow, MountainCar.ResetHigh);
        _velocity = 0;
        WriteObservation();
        return new ResetResult(_observation, default);
    }

    /// <inheritdoc />
    protected override StepResult StepCore(EnvAction action)
    {
        (_position, _velocity, bool terminated, double reward) = Advance(_position, _velocity, action.Continuous[0], _goalVelocity);
        WriteObservation();
        return new StepResult(_observation, reward, terminated, false, default);
    }

    /// <summary>One step from (position, velocity) with the raw action: the float32-rounded state, the goal test and the reward; shared with the batched env.</summary>
    internal static (double Position, double Velocity, bool Terminated, double Reward) Advance(double position, double velocity, float action, double goalVelocity)
    {
        double force = Math.Min(Math.Max(action, MinAction), MaxAction);
        // Gymnasium: velocity += force * power - 0.0025 * cos(3 * position), one difference added last.
        velocity += force * Power - MountainCar.Gravity * Math.Cos(3 * position);
        velocity = Math.Clamp(velocity, -MountainCar.MaxSpeed, MountainCar.MaxSpeed);
        position += velocity;
        position = Math.Clamp(position, MountainCar.MinPosition, MountainCar.MaxPosition);
        if (position == MountainCar.MinPosition && velocity < 0) velocity = 0;
        bool terminated = position >= GoalPosition && velocity >= goalVelocity;
        double reward = (terminated ? 100.0 : 0.0) - (double)action * action * 0.1;
        return ((float)position, (float)velocity, terminated, reward);
    }

    private void WriteObservation()
    {
        _obs[0] = (float)_position;
        _obs[1] = (float)_velocity;
    }
}
