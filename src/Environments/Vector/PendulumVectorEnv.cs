using System.Runtime.Intrinsics;
using RLAgents.Environments.ClassicControl;

namespace RLAgents.Environments.Vector;

/// <summary>
/// N Pendulum-v1 environments stepped as one batch: float64 state (θ[N], θ̇[N]) as structure of
/// arrays, four envs per 256-bit vector, Box actions read from the batch's float array, float32
/// observations written straight into <see cref="BatchedVectorEnv.Observations"/>; the 200-step
/// time limit, autoreset and episode statistics come from <see cref="BatchedVectorEnv"/>.
/// </summary>
/// <remarks>
/// The vector path uses .NET's vector sin/cos, x·x squares and a floor-based angle modulo, each
/// within a few ulp of the scalar env's float64 values: one step from the same state agrees with
/// <see cref="Pendulum"/> to float32 precision. With <c>exactTrigonometry</c> every env is stepped
/// with the scalar env's code (C library sin/cos/pow) and trajectories equal it — and Gymnasium —
/// bit for bit.
/// </remarks>
public sealed class PendulumVectorEnv : BatchedVectorEnv
{
    private readonly double[] _theta, _thetaDot;
    private readonly float[] _obs;
    private readonly double _gravity;
    private readonly bool _exact;

    /// <summary>Creates <paramref name="numEnvs"/> pendulums.</summary>
    /// <param name="numEnvs">Number of environments.</param>
    /// <param name="autoresetMode">What happens when an episode ends (see <see cref="SyncVectorEnv"/>).</param>
    /// <param name="options">Pendulum options (null = defaults).</param>
    /// <param name="maxEpisodeSteps">Time limit; episodes are truncated on this step.</param>
    /// <param name="exactTrigonometry">Step every env with the scalar env's C-library math (bit-exact with <see cref="Pendulum"/>) instead of SIMD.</param>
    public PendulumVectorEnv(int numEnvs, AutoresetMode autoresetMode, PendulumOptions? options = null,
        int maxEpisodeSteps = Pendulum.MaxEpisodeSteps, bool exactTrigonometry = false)
        : base(Pendulum.EnvId, Pendulum.StateSpace, Pendulum.Actions, numEnvs, autoresetMode, maxEpisodeSteps)
    {
        options ??= new PendulumOptions();
        if (!double.IsFinite(options.Gravity)) throw new ArgumentOutOfRangeException(nameof(options), options.Gravity, "Pendulum gravity must be finite.");
        _gravity = options.Gravity;
        _exact = exactTrigonometry;
        _theta = new double[numEnvs];
        _thetaDot = new double[numEnvs];
        _obs = Observations.Floats(0);
    }

    /// <summary>Env <paramref name="index"/>'s float64 state (θ, θ̇).</summary>
    public (double Theta, double ThetaDot) GetState(int index) => (_theta[index], _thetaDot[index]);

    /// <summary>Replaces env <paramref name="index"/>'s state (tests, replay) and rewrites its observation.</summary>
    public void SetState(int index, double theta, double thetaDot)
    {
        (_theta[index], _thetaDot[index]) = (theta, thetaDot);
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
        // Same draws, in the same order, as Pendulum.Reset.
        _theta[i] = rng.Uniform(-Math.PI, Math.PI);
        _thetaDot[i] = rng.Uniform(-1.0, 1.0);
        WriteObservation(i);
    }

    /// <inheritdoc />
    protected override void StepEnvs(ReadOnlySpan<int> discrete, ReadOnlySpan<float> torques, Span<double> rewards, Span<bool> terminated)
    {
        int n = torques.Length, start = 0;
        if (!_exact && Lanes.Accelerated) start = StepVectors(torques, rewards);
        for (int i = start; i < n; i++)
        {
            double u = Math.Clamp(torques[i], -Pendulum.MaxTorque, Pendulum.MaxTorque);
            (_theta[i], _thetaDot[i], rewards[i]) = Pendulum.Advance(_theta[i], _thetaDot[i], u, _gravity);
            WriteObservation(i);
        }
        terminated.Clear(); // Pendulum never terminates
    }

    /// <summary>Envs [0, 4·⌊N/4⌋) four at a time; returns the first env left for the scalar loop.</summary>
    private int StepVectors(ReadOnlySpan<float> torques, Span<double> rewards)
    {
        int end = torques.Length & ~3;
        var maxTorque = Vector256.Create(Pendulum.MaxTorque);
        var maxSpeed = Vector256.Create(Pendulum.MaxSpeed);
        var gravityTerm = Vector256.Create(3 * _gravity / (2 * Pendulum.Length));
        var torqueTerm = Vector256.Create(3.0 / (Pendulum.Mass * Pendulum.Length * Pendulum.Length));
        var dt = Vector256.Create(Pendulum.Dt);
        var pi = Vector256.Create(Math.PI);
        var twoPi = Vector256.Create(2 * Math.PI);
        var inverseTwoPi = Vector256.Create(1 / (2 * Math.PI));
        for (int i = 0; i < end; i += 4)
        {
            var theta = Vector256.Create(_theta.AsSpan(i, 4));
            var thetaDot = Vector256.Create(_thetaDot.AsSpan(i, 4));
            var u = Vector256.Min(Vector256.Max(Lanes.Doubles(torques, i), -maxTorque), maxTorque);
            // θ normalised into [−π, π) with a floored modulo; the cost uses the state before the step.
            var shifted = theta + pi;
            var normalized = shifted - twoPi * Vector256.Floor(shifted * inverseTwoPi) - pi;
            var cost = normalized * normalized + 0.1 * (thetaDot * thetaDot) + 0.001 * (u * u);
            (-cost).StoreUnsafe(ref rewards[i]);

            var newThetaDot = thetaDot + (gravityTerm * Vector256.Sin(theta) + torqueTerm * u) * dt;
            newThetaDot = Vector256.Min(Vector256.Max(newThetaDot, -maxSpeed), maxSpeed);
            var newTheta = theta + newThetaDot * dt;
            newTheta.CopyTo(_theta.AsSpan(i, 4));
            newThetaDot.CopyTo(_thetaDot.AsSpan(i, 4));

            (var sin, var cos) = Vector256.SinCos(newTheta);
            Lanes.StoreColumn(cos, _obs, i, 0, 3);
            Lanes.StoreColumn(sin, _obs, i, 1, 3);
            Lanes.StoreColumn(newThetaDot, _obs, i, 2, 3);
        }
        return end;
    }

    private void WriteObservation(int i)
    {
        (double sin, double cos) = Math.SinCos(_theta[i]);
        var o = _obs.AsSpan(i * 3, 3);
        o[0] = (float)cos;
        o[1] = (float)sin;
        o[2] = (float)_thetaDot[i];
    }
}
