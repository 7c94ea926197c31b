using System.Runtime.Intrinsics;
using RLAgents.Environments.ClassicControl;

namespace RLAgents.Environments.Vector;

/// <summary>
/// N Acrobot-v1 environments stepped as one batch: float64 state (θ₁, θ₂, θ̇₁, θ̇₂ [N] each) as
/// structure of arrays, the RK4 step of four envs per 256-bit vector, float32 observations written
/// straight into <see cref="BatchedVectorEnv.Observations"/>; the 500-step time limit, autoreset
/// and episode statistics come from <see cref="BatchedVectorEnv"/>.
/// </summary>
/// <remarks>
/// The vector path uses .NET's vector sin/cos and x·x squares, each within a few ulp of the C
/// library's values: one step from the same state agrees with <see cref="Acrobot"/> to float32
/// precision, while long chaotic trajectories drift apart. With <c>exactTrigonometry</c> every env
/// is stepped with the scalar env's code and trajectories equal it — and Gymnasium — bit for bit.
/// </remarks>
public sealed class AcrobotVectorEnv : BatchedVectorEnv
{
    private readonly double[] _theta1, _theta2, _dtheta1, _dtheta2;
    private readonly float[] _obs;
    private readonly bool _book, _exact;

    /// <summary>Creates <paramref name="numEnvs"/> acrobots.</summary>
    /// <param name="numEnvs">Number of environments.</param>
    /// <param name="autoresetMode">What happens when an episode ends (see <see cref="SyncVectorEnv"/>).</param>
    /// <param name="options">Acrobot options (null = defaults).</param>
    /// <param name="maxEpisodeSteps">Time limit; episodes are truncated on this step.</param>
    /// <param name="exactTrigonometry">Step every env with the scalar env's C-library math (bit-exact with <see cref="Acrobot"/>) instead of SIMD.</param>
    public AcrobotVectorEnv(int numEnvs, AutoresetMode autoresetMode, AcrobotOptions? options = null,
        int maxEpisodeSteps = Acrobot.MaxEpisodeSteps, bool exactTrigonometry = false)
        : base(Acrobot.EnvId, Acrobot.StateSpace, Acrobot.Actions, numEnvs, autoresetMode, maxEpisodeSteps)
    {
        options ??= new AcrobotOptions();
        if (!Enum.IsDefined(options.Dynamics)) throw new ArgumentOutOfRangeException(nameof(options), options.Dynamics, "Unknown Acrobot dynamics.");
        _book = options.Dynamics == AcrobotDynamics.Book;
        _exact = exactTrigonometry;
        _theta1 = new double[numEnvs];
        _theta2 = new double[numEnvs];
        _dtheta1 = new double[numEnvs];
        _dtheta2 = new double[numEnvs];
        _obs = Observations.Floats(0);
    }

    /// <summary>Env <paramref name="index"/>'s float64 state (θ₁, θ₂, θ̇₁, θ̇₂).</summary>
    public double[] GetState(int index) => [_theta1[index], _theta2[index], _dtheta1[index], _dtheta2[index]];

    /// <summary>Replaces env <paramref name="index"/>'s state (tests, replay) and rewrites its observation.</summary>
    public void SetState(int index, ReadOnlySpan<double> state)
    {
        if (state.Length != 4) throw new ArgumentException($"Acrobot's state has 4 elements, not {state.Length}.", nameof(state));
        (_theta1[index], _theta2[index], _dtheta1[index], _dtheta2[index]) = (state[0], state[1], state[2], state[3]);
        WriteObservation(index);
    }

    /// <inheritdoc />
    protected override int StateSize => 4;

    /// <inheritdoc />
    protected override void ReadState(int index, Span<double> destination) => GetState(index).CopyTo(destination);

    /// <inheritdoc />
    protected override void WriteState(int index, ReadOnlySpan<double> state) => SetState(index, state);

    /// <inheritdoc />
    protected override void ResetEnv(int i, Rng rng)
    {
        // Same draws, in the same order, as Acrobot.Reset (float64 draws stored as float32).
        _theta1[i] = (float)rng.Uniform(-Acrobot.ResetBound, Acrobot.ResetBound);
        _theta2[i] = (float)rng.Uniform(-Acrobot.ResetBound, Acrobot.ResetBound);
        _dtheta1[i] = (float)rng.Uniform(-Acrobot.ResetBound, Acrobot.ResetBound);
        _dtheta2[i] = (float)rng.Uniform(-Acrobot.ResetBound, Acrobot.ResetBound);
        WriteObservation(i);
    }

    /// <inheritdoc />
    protected override void StepEnvs(ReadOnlySpan<int> actions, ReadOnlySpan<float> continuous, Span<double> rewards, Span<bool> terminated)
    {
        int n = actions.Length, start = 0;
        if (!_exact && Lanes.Accelerated) start = StepVectors(actions, rewards, terminated);
        for (int i = start; i < n; i++)
        {
            var s = Acrobot.Integrate(new Acrobot.State4(_theta1[i], _theta2[i], _dtheta1[i], _dtheta2[i]), actions[i] - 1.0, _book);
            (_theta1[i], _theta2[i], _dtheta1[i], _dtheta2[i]) = (s.Theta1, s.Theta2, s.DTheta1, s.DTheta2);
            bool ended = Acrobot.IsTerminal(s.Theta1, s.Theta2);
            terminated[i] = ended;
            rewards[i] = ended ? 0.0 : -1.0;
            WriteObservation(i);
        }
    }

    /// <summary>Four links' state as one vector per element.</summary>
    private readonly record struct Lanes4(Vector256<double> Theta1, Vector256<double> Theta2, Vector256<double> DTheta1, Vector256<double> DTheta2)
    {
        public Lanes4 Plus(double h, Lanes4 k) => new(Theta1 + h * k.Theta1, Theta2 + h * k.Theta2, DTheta1 + h * k.DTheta1, DTheta2 + h * k.DTheta2);
    }

    /// <summary>Envs [0, 4·⌊N/4⌋) four at a time: RK4, wrapping, clipping, the goal test and observations; returns the first env left for the scalar loop.</summary>
    private int StepVectors(ReadOnlySpan<int> actions, Span<double> rewards, Span<bool> terminated)
    {
        int end = actions.Length & ~3;
        var pi = Vector256.Create(Math.PI);
        var twoPi = Vector256.Create(2 * Math.PI);
        var maxVel1 = Vector256.Create(Acrobot.MaxVel1);
        var maxVel2 = Vector256.Create(Acrobot.MaxVel2);
        for (int i = 0; i < end; i += 4)
        {
            var y = new Lanes4(Vector256.Create(_theta1.AsSpan(i, 4)), Vector256.Create(_theta2.AsSpan(i, 4)),
                Vector256.Create(_dtheta1.AsSpan(i, 4)), Vector256.Create(_dtheta2.AsSpan(i, 4)));
            var torque = Lanes.Doubles(actions, i) - Vector256<double>.One;
            const double dt2 = Acrobot.Dt / 2.0, sixth = Acrobot.Dt / 6.0;
            var k1 = Derivatives(y, torque);
            var k2 = Derivatives(y.Plus(dt2, k1), torque);
            var k3 = Derivatives(y.Plus(dt2, k2), torque);
            var k4 = Derivatives(y.Plus(Acrobot.Dt, k3), torque);
            var theta1 = Wrap(y.Theta1 + sixth * (k1.Theta1 + 2 * k2.Theta1 + 2 * k3.Theta1 + k4.Theta1), pi, twoPi);
            var theta2 = Wrap(y.Theta2 + sixth * (k1.Theta2 + 2 * k2.Theta2 + 2 * k3.Theta2 + k4.Theta2), pi, twoPi);
            var dtheta1 = Vector256.Min(Vector256.Max(y.DTheta1 + sixth * (k1.DTheta1 + 2 * k2.DTheta1 + 2 * k3.DTheta1 + k4.DTheta1), -maxVel1), maxVel1);
            var dtheta2 = Vector256.Min(Vector256.Max(y.DTheta2 + sixth * (k1.DTheta2 + 2 * k2.DTheta2 + 2 * k3.DTheta2 + k4.DTheta2), -maxVel2), maxVel2);
            theta1.CopyTo(_theta1.AsSpan(i, 4));
            theta2.CopyTo(_theta2.AsSpan(i, 4));
            dtheta1.CopyTo(_dtheta1.AsSpan(i, 4));
            dtheta2.CopyTo(_dtheta2.AsSpan(i, 4));

            (var sin1, var cos1) = Vector256.SinCos(theta1);
            (var sin2, var cos2) = Vector256.SinCos(theta2);
            var ended = Vector256.GreaterThan(-cos1 - Vector256.Cos(theta2 + theta1), Vector256<double>.One);
            Lanes.StoreFlags(ended, terminated, i);
            Vector256.ConditionalSelect(ended, Vector256<double>.Zero, Vector256.Create(-1.0)).StoreUnsafe(ref rewards[i]);
            Lanes.StoreColumn(cos1, _obs, i, 0, 6);
            Lanes.StoreColumn(sin1, _obs, i, 1, 6);
            Lanes.StoreColumn(cos2, _obs, i, 2, 6);
            Lanes.StoreColumn(sin2, _obs, i, 3, 6);
            Lanes.StoreColumn(dtheta1, _obs, i, 4, 6);
            Lanes.StoreColumn(dtheta2, _obs, i, 5, 6);
        }
        return end;
    }

    /// <summary>The equations of motion of <see cref="Acrobot"/>, four envs at once (its constants folded).</summary>
    private Lanes4 Derivatives(Lanes4 s, Vector256<double> a)
    {
        const double m2 = Acrobot.LinkMass2, l1 = Acrobot.LinkLength1, lc1 = Acrobot.LinkComPos1, lc2 = Acrobot.LinkComPos2;
        const double i1 = Acrobot.LinkMoi, i2 = Acrobot.LinkMoi, g = Acrobot.Gravity, m1 = Acrobot.LinkMass1;
        (var sin2, var cos2) = Vector256.SinCos(s.Theta2);
        // Vector operators take no scalar addend: the constant sums are vectors.
        var d1 = Vector256.Create(m1 * (lc1 * lc1)) + m2 * (Vector256.Create(l1 * l1 + lc2 * lc2) + 2 * l1 * lc2 * cos2) + Vector256.Create(i1 + i2);
        var d2 = m2 * (Vector256.Create(lc2 * lc2) + l1 * lc2 * cos2) + Vector256.Create(i2);
        var phi2 = m2 * lc2 * g * Vector256.Cos(s.Theta1 + s.Theta2 - Vector256.Create(Math.PI / 2.0));
        var phi1 = -m2 * l1 * lc2 * (s.DTheta2 * s.DTheta2) * sin2
            - 2 * m2 * l1 * lc2 * s.DTheta2 * s.DTheta1 * sin2
            + (m1 * lc1 + m2 * l1) * g * Vector256.Cos(s.Theta1 - Vector256.Create(Math.PI / 2))
            + phi2;
        var numerator = a + d2 / d1 * phi1 - phi2;
        if (_book) numerator -= m2 * l1 * lc2 * (s.DTheta1 * s.DTheta1) * sin2;
        var ddtheta2 = numerator / (Vector256.Create(m2 * (lc2 * lc2) + i2) - d2 * d2 / d1);
        var ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
        return new Lanes4(s.DTheta1, s.DTheta2, ddtheta1, ddtheta2);
    }

    /// <summary><see cref="Acrobot.Wrap"/> on four lanes: whole turns added or subtracted until every lane lies in [−π, π].</summary>
    private static Vector256<double> Wrap(Vector256<double> x, Vector256<double> pi, Vector256<double> twoPi)
    {
        Vector256<double> over;
        while ((over = Vector256.GreaterThan(x, pi)) != Vector256<double>.Zero) x -= over & twoPi;
        while ((over = Vector256.LessThan(x, -pi)) != Vector256<double>.Zero) x += over & twoPi;
        return x;
    }

    private void WriteObservation(int i)
    {
        (double s1, double c1) = Math.SinCos(_theta1[i]);
        (double s2, double c2) = Math.SinCos(_theta2[i]);
        var o = _obs.AsSpan(i * 6, 6);
        o[0] = (float)c1;
        o[1] = (float)s1;
        o[2] = (float)c2;
        o[3] = (float)s2;
        o[4] = (float)_dtheta1[i];
        o[5] = (float)_dtheta2[i];
    }
}
