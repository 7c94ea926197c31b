using System.Runtime.Intrinsics;
using RLAgents.Environments.ClassicControl;

namespace RLAgents.Environments.Vector;

/// <summary>
/// N MountainCar-v0 (or, with <c>continuous</c>, MountainCarContinuous-v0) environments stepped as
/// one batch: float64 state (position[N], velocity[N]) as structure of arrays, four envs per
/// 256-bit vector, float32 observations written straight into <see cref="BatchedVectorEnv.Observations"/>;
/// the time limit (200 / 999 steps), autoreset and episode statistics come from <see cref="BatchedVectorEnv"/>.
/// </summary>
/// <remarks>
/// The vector path differs from the scalar env only in .NET's vector cos (within a few ulp of the
/// C library's): one step from the same state agrees with <see cref="MountainCar"/> /
/// <see cref="MountainCarContinuous"/> to float32 precision. With <c>exactTrigonometry</c> every env
/// is stepped with the scalar env's code and trajectories equal it — and Gymnasium — bit for bit.
/// </remarks>
public sealed class MountainCarVectorEnv : BatchedVectorEnv
{
    private readonly double[] _position, _velocity;
    private readonly float[] _obs;
    private readonly double _goalVelocity;
    private readonly bool _continuous, _exact;

    /// <summary>Creates <paramref name="numEnvs"/> cars.</summary>
    /// <param name="numEnvs">Number of environments.</param>
    /// <param name="autoresetMode">What happens when an episode ends (see <see cref="SyncVectorEnv"/>).</param>
    /// <param name="continuous">MountainCarContinuous-v0 (Box force) instead of MountainCar-v0 (three pushes).</param>
    /// <param name="options">MountainCar options (null = defaults).</param>
    /// <param name="maxEpisodeSteps">Time limit (null: 200 discrete, 999 continuous); episodes are truncated on this step.</param>
    /// <param name="exactTrigonometry">Step every env with the scalar env's C-library math (bit-exact) instead of SIMD.</param>
    public MountainCarVectorEnv(int numEnvs, AutoresetMode autoresetMode, bool continuous = false, MountainCarOptions? options = null,
        int? maxEpisodeSteps = null, bool exactTrigonometry = false)
        : base(continuous ? MountainCarContinuous.EnvId : MountainCar.EnvId, MountainCar.StateSpace,
            continuous ? MountainCarContinuous.Actions : MountainCar.Actions, numEnvs, autoresetMode,
            maxEpisodeSteps ?? (continuous ? MountainCarContinuous.MaxEpisodeSteps : MountainCar.MaxEpisodeSteps))
    {
        _goalVelocity = (options ?? new MountainCarOptions()).GoalVelocity;
        _continuous = continuous;
        _exact = exactTrigonometry;
        _position = new double[numEnvs];
        _velocity = new double[numEnvs];
        _obs = Observations.Floats(0);
    }

    /// <summary>Env <paramref name="index"/>'s state (position, velocity).</summary>
    public (double Position, double Velocity) GetState(int index) => (_position[index], _velocity[index]);

    /// <summary>Replaces env <paramref name="index"/>'s state (tests, replay) and rewrites its observation.</summary>
    public void SetState(int index, double position, double velocity)
    {
        (_position[index], _velocity[index]) = (position, velocity);
        WriteObservation(index);
    }

    /// <inheritdoc />
    protected override int StateSize => 2;

    /// <inheritdoc />
    protected override void ReadState(int index, Span<double> destination) => (destination[0], destination[1]) = GetState(index);

    /// <inheritdoc />
    protected override void WriteState(int index, ReadOnlySpan<double> state) => SetState(index, state[0], state[1]);

    /// <inheritdoc />
    protected override void ResetEnv(int i, Rng rng)
    {
        // Same draw as MountainCar.Reset and MountainCarContinuous.Reset.
        _position[i] = rng.Uniform(MountainCar.ResetLow, MountainCar.ResetHigh);
        _velocity[i] = 0;
        WriteObservation(i);
    }

    /// <inheritdoc />
    protected override void StepEnvs(ReadOnlySpan<int> pushes, ReadOnlySpan<float> forces, Span<double> rewards, Span<bool> terminated)
    {
        int n = NumEnvs, start = 0;
        if (!_exact && Lanes.Accelerated) start = StepVectors(pushes, forces, rewards, terminated);
        for (int i = start; i < n; i++)
        {
            if (_continuous)
                (_position[i], _velocity[i], terminated[i], rewards[i]) = MountainCarContinuous.Advance(_position[i], _velocity[i], forces[i], _goalVelocity);
            else
            {
                (_position[i], _velocity[i], terminated[i]) = MountainCar.Advance(_position[i], _velocity[i], pushes[i], _goalVelocity);
                rewards[i] = -1.0;
            }
            WriteObservation(i);
        }
    }

    /// <summary>Envs [0, 4·⌊N/4⌋) four at a time, in the scalar envs' order of operations; returns the first env left for the scalar loop.</summary>
    private int StepVectors(ReadOnlySpan<int> pushes, ReadOnlySpan<float> forces, Span<double> rewards, Span<bool> terminated)
    {
        int end = NumEnvs & ~3;
        var maxSpeed = Vector256.Create(MountainCar.MaxSpeed);
        var minPosition = Vector256.Create(MountainCar.MinPosition);
        var maxPosition = Vector256.Create(MountainCar.MaxPosition);
        var goal = Vector256.Create(_continuous ? MountainCarContinuous.GoalPosition : MountainCar.GoalPosition);
        var goalVelocity = Vector256.Create(_goalVelocity);
        var bonus = Vector256.Create(100.0);
        for (int i = 0; i < end; i += 4)
        {
            var position = Vector256.Create(_position.AsSpan(i, 4));
            var velocity = Vector256.Create(_velocity.AsSpan(i, 4));
            var slope = Vector256.Cos(3 * position);
            Vector256<double> action = default;
            if (_continuous)
            {
                action = Lanes.Doubles(forces, i);
                var force = Vector256.Min(Vector256.Max(action, Vector256.Create(MountainCarContinuous.MinAction)), Vector256.Create(MountainCarContinuous.MaxAction));
                velocity += force * MountainCarContinuous.Power - MountainCar.Gravity * slope;
            }
            else velocity += (Lanes.Doubles(pushes, i) - Vector256<double>.One) * MountainCar.Force + slope * -MountainCar.Gravity;
            velocity = Vector256.Min(Vector256.Max(velocity, -maxSpeed), maxSpeed);
            position = Vector256.Min(Vector256.Max(position + velocity, minPosition), maxPosition);
            // The left wall stops the car.
            velocity = Vector256.ConditionalSelect(Vector256.Equals(position, minPosition) & Vector256.LessThan(velocity, Vector256<double>.Zero), Vector256<double>.Zero, velocity);
            var ended = Vector256.GreaterThanOrEqual(position, goal) & Vector256.GreaterThanOrEqual(velocity, goalVelocity);
            Lanes.StoreFlags(ended, terminated, i);
            if (_continuous)
            {
                // The penalty uses the raw action; the goal test above saw the float64 state, now rounded to float32.
                (Vector256.ConditionalSelect(ended, bonus, Vector256<double>.Zero) - action * action * 0.1).StoreUnsafe(ref rewards[i]);
                position = Lanes.RoundToSingle(position);
                velocity = Lanes.RoundToSingle(velocity);
            }
            else Vector256.Create(-1.0).StoreUnsafe(ref rewards[i]);
            position.CopyTo(_position.AsSpan(i, 4));
            velocity.CopyTo(_velocity.AsSpan(i, 4));
            Lanes.StoreColumn(position, _obs, i, 0, 2);
            Lanes.StoreColumn(velocity, _obs, i, 1, 2);
        }
        return end;
    }

    private void WriteObservation(int i)
    {
        _obs[2 * i] = (float)_position[i];
        _obs[2 * i + 1] = (float)_velocity[i];
    }
}
