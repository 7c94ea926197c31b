using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using RLAgents.Environments.ClassicControl;

namespace RLAgents.Environments.Vector;

/// <summary>
/// N CartPole-v1 environments stepped as one batch: float64 state as structure of arrays
/// (x[N], ẋ[N], θ[N], θ̇[N]), four envs per AVX2 instruction, float32 observations written
/// straight into <see cref="BatchedVectorEnv.Observations"/>; the 500-step time limit, autoreset and
/// episode statistics come from <see cref="BatchedVectorEnv"/>.
/// </summary>
/// <remarks>
/// The SIMD path (AVX2 + FMA; other CPUs take the scalar path) uses its own series sin/cos, a
/// reciprocal of the total mass and fused multiply-adds, each within about an ulp of the C
/// library's float64 result: one step from the same state agrees with the scalar step to float32
/// precision, while long chaotic trajectories may drift apart. With <c>exactTrigonometry</c> every
/// env is stepped with Gymnasium's expressions and <see cref="Math.SinCos"/>, and trajectories
/// equal the scalar env's (and Gymnasium's) bit for bit.
/// </remarks>
public sealed class CartPoleVectorEnv : BatchedVectorEnv
{
    private readonly double[] _x, _xDot, _theta, _thetaDot;
    private readonly float[] _obs;
    private readonly double _stepReward, _terminalReward;
    private readonly bool _exact;

    /// <summary>Creates <paramref name="numEnvs"/> CartPoles.</summary>
    /// <param name="numEnvs">Number of environments.</param>
    /// <param name="autoresetMode">What happens when an episode ends (see <see cref="SyncVectorEnv"/>).</param>
    /// <param name="options">CartPole options (null = defaults).</param>
    /// <param name="maxEpisodeSteps">Time limit; episodes are truncated on this step.</param>
    /// <param name="exactTrigonometry">Step every env with the C library's sin/cos (bit-exact with <see cref="CartPole"/>) instead of SIMD.</param>
    public CartPoleVectorEnv(int numEnvs, AutoresetMode autoresetMode, CartPoleOptions? options = null,
        int maxEpisodeSteps = CartPole.MaxEpisodeSteps, bool exactTrigonometry = false)
        : base(CartPole.EnvId, CartPole.StateSpace, CartPole.Actions, numEnvs, autoresetMode, maxEpisodeSteps)
    {
        options ??= new CartPoleOptions();
        _exact = exactTrigonometry;
        _stepReward = options.SuttonBartoReward ? 0.0 : 1.0;
        _terminalReward = options.SuttonBartoReward ? -1.0 : 1.0;
        _x = new double[numEnvs];
        _xDot = new double[numEnvs];
        _theta = new double[numEnvs];
        _thetaDot = new double[numEnvs];
        _obs = Observations.Floats(0);
    }

    /// <summary>Copies env <paramref name="index"/>'s float64 state (x, ẋ, θ, θ̇) into <paramref name="destination"/>.</summary>
    public void GetState(int index, Span<double> destination)
    {
        destination[0] = _x[index];
        destination[1] = _xDot[index];
        destination[2] = _theta[index];
        destination[3] = _thetaDot[index];
    }

    /// <summary>Replaces env <paramref name="index"/>'s physical state (tests, replay) and rewrites its observation.</summary>
    public void SetState(int index, ReadOnlySpan<double> state)
    {
        if (state.Length != 4) throw new ArgumentException($"CartPole's state has 4 elements, not {state.Length}.", nameof(state));
        (_x[index], _xDot[index], _theta[index], _thetaDot[index]) = (state[0], state[1], state[2], state[3]);
        WriteObservation(index, _obs);
    }

    /// <inheritdoc />
    protected override int StateSize => 4;

    /// <inheritdoc />
    protected override void ReadState(int index, Span<double> destination) => GetState(index, destination);

    /// <inheritdoc />
    protected override void WriteState(int index, ReadOnlySpan<double> state) => SetState(index, state);

    /// <inheritdoc />
    protected override void ResetEnv(int i, Rng rng)
    {
        // Same draws, in the same order, as CartPole.Reset.
        _x[i] = rng.Uniform(-CartPole.ResetBound, CartPole.ResetBound);
        _xDot[i] = rng.Uniform(-CartPole.ResetBound, CartPole.ResetBound);
        _theta[i] = rng.Uniform(-CartPole.ResetBound, CartPole.ResetBound);
        _thetaDot[i] = rng.Uniform(-CartPole.ResetBound, CartPole.ResetBound);
        WriteObservation(i, _obs);
    }

    /// <inheritdoc />
    protected override void StepEnvs(ReadOnlySpan<int> actions, ReadOnlySpan<float> continuous, Span<double> rewards, Span<bool> terminated)
    {
        int start = 0;
        if (!_exact && Avx2.IsSupported && Fma.IsSupported) start = StepAvx2(actions, rewards, terminated);
        StepScalar(actions, start, rewards, terminated);
    }

    private void StepScalar(ReadOnlySpan<int> actions, int start, Span<double> rewards, Span<bool> terminated)
    {
        for (int i = start; i < actions.Length; i++)
        {
            bool ended = CartPole.Advance(ref _x[i], ref _xDot[i], ref _theta[i], ref _thetaDot[i], actions[i]);
            terminated[i] = ended;
            rewards[i] = ended ? _terminalReward : _stepReward;
            WriteObservation(i, _obs);
        }
    }

    /// <summary>
    /// Steps envs [0, 4·⌊N/4⌋) four at a time; returns the first env left for the scalar loop.
    /// Same equations as <see cref="CartPole"/>, rearranged for SIMD: divisions by the total mass
    /// become multiplications by its reciprocal and products fuse into FMAs, each changing the
    /// float64 result by about an ulp — far below the float32 observations' precision.
    /// </summary>
    private unsafe int StepAvx2(ReadOnlySpan<int> actions, Span<double> rewards, Span<bool> terminatedFlags)
    {
        int end = actions.Length & ~3;
        const double invMass = 1.0 / CartPole.TotalMass;
        var forceOverMass = Vector256.Create(CartPole.ForceMag * invMass);
        var pmlOverMass = Vector256.Create(CartPole.PoleMassLength * invMass);
        var gravity = Vector256.Create(CartPole.Gravity);
        // Denominator of θ̈: L·(4/3 − m_p·cos²θ / M) = L·4/3 − (L·m_p/M)·cos²θ.
        var denomConst = Vector256.Create(CartPole.Length * (4.0 / 3.0));
        var denomCos2 = Vector256.Create(CartPole.Length * CartPole.MassPole * invMass);
        var tau = Vector256.Create(CartPole.Tau);
        var xMax = Vector256.Create(CartPole.XThreshold);
        var thetaMax = Vector256.Create(CartPole.ThetaThresholdRadians);
        var stepReward = Vector256.Create(_stepReward);
        var terminalReward = Vector256.Create(_terminalReward);

        fixed (double* px = _x, pxd = _xDot, pt = _theta, ptd = _thetaDot, pr = rewards)
        fixed (int* pa = actions)
        fixed (bool* pterm = terminatedFlags)
        fixed (float* po = _obs)
        {
            for (int i = 0; i < end; i += 4)
            {
                var x = Avx.LoadVector256(px + i);
                var xDot = Avx.LoadVector256(pxd + i);
                var theta = Avx.LoadVector256(pt + i);
                var thetaDot = Avx.LoadVector256(ptd + i);
                // Action 1 pushes right (+F), 0 left (−F): (2a − 1)·F/M.
                var sign = Avx.ConvertToVector256Double(Sse2.LoadVector128(pa + i)) * 2.0 - Vector256<double>.One;
                var forceTerm = sign * forceOverMass;

                (var sinTheta, var cosTheta) = SinCos(theta);
                var temp = Fma.MultiplyAdd(pmlOverMass * (thetaDot * thetaDot), sinTheta, forceTerm);
                var thetaAcc = Fma.MultiplyAddNegated(cosTheta, temp, gravity * sinTheta)
                    / Fma.MultiplyAddNegated(denomCos2, cosTheta * cosTheta, denomConst);
                var xAcc = Fma.MultiplyAddNegated(pmlOverMass * thetaAcc, cosTheta, temp);
                x = Fma.MultiplyAdd(tau, xDot, x);
                xDot = Fma.MultiplyAdd(tau, xAcc, xDot);
                theta = Fma.MultiplyAdd(tau, thetaDot, theta);
                thetaDot = Fma.MultiplyAdd(tau, thetaAcc, thetaDot);
                Avx.Store(px + i, x);
                Avx.Store(pxd + i, xDot);
                Avx.Store(pt + i, theta);
                Avx.Store(ptd + i, thetaDot);

                // |v| > limit is false for NaN, as Gymnasium's comparisons are.
                var terminated = Vector256.GreaterThan(Vector256.Abs(x), xMax) | Vector256.GreaterThan(Vector256.Abs(theta), thetaMax);
                Avx.Store(pr + i, Vector256.ConditionalSelect(terminated, terminalReward, stepReward));
                *(uint*)(pterm + i) = SpreadBits(terminated.ExtractMostSignificantBits());

                // float32 observations, env-major: transpose the 4 dims × 4 envs block.
                var r0 = Avx.ConvertToVector128Single(x);
                var r1 = Avx.ConvertToVector128Single(xDot);
                var r2 = Avx.ConvertToVector128Single(theta);
                var r3 = Avx.ConvertToVector128Single(thetaDot);
                var t0 = Sse.UnpackLow(r0, r1);   // x0 ẋ0 x1 ẋ1
                var t1 = Sse.UnpackLow(r2, r3);   // θ0 θ̇0 θ1 θ̇1
                var t2 = Sse.UnpackHigh(r0, r1);  // x2 ẋ2 x3 ẋ3
                var t3 = Sse.UnpackHigh(r2, r3);  // θ2 θ̇2 θ3 θ̇3
                float* o = po + i * 4;
                Sse.Store(o, Sse.MoveLowToHigh(t0, t1));
                Sse.Store(o + 4, Sse.MoveHighToLow(t1, t0));
                Sse.Store(o + 8, Sse.MoveLowToHigh(t2, t3));
                Sse.Store(o + 12, Sse.MoveHighToLow(t3, t2));
            }
        }
        return end;
    }

    /// <summary>
    /// sin and cos of four angles. CartPole's angles stay within ±0.5 rad (episodes end at 0.21),
    /// where Taylor series through x¹⁵ and x¹⁴ are accurate to well under a float64 ulp (next terms
    /// below 3e-17); any lane outside falls back to the general <see cref="Vector256.SinCos(Vector256{double})"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<double> Sin, Vector256<double> Cos) SinCos(Vector256<double> x)
    {
        if (Vector256.GreaterThanAny(Vector256.Abs(x), Vector256.Create(0.5))) return Vector256.SinCos(x);
        // Estrin's scheme in y = x²: a short dependency chain, so consecutive blocks overlap in the pipeline.
        var y = x * x;
        var y2 = y * y;
        var y4 = y2 * y2;
        // sin x = x + x³·S(y), S(y) = −1/3! + y/5! − y²/7! + … − y⁶/15!
        var s01 = Fma.MultiplyAdd(Vector256.Create(1.0 / 120.0), y, Vector256.Create(-1.0 / 6.0));
        var s23 = Fma.MultiplyAdd(Vector256.Create(1.0 / 362880.0), y, Vector256.Create(-1.0 / 5040.0));
        var s45 = Fma.MultiplyAdd(Vector256.Create(1.0 / 6227020800.0), y, Vector256.Create(-1.0 / 39916800.0));
        var s03 = Fma.MultiplyAdd(s23, y2, s01);
        var s46 = Fma.MultiplyAdd(Vector256.Create(-1.0 / 1307674368000.0), y2, s45);
        var sPoly = Fma.MultiplyAdd(s46, y4, s03);
        var sin = Fma.MultiplyAdd(sPoly * y, x, x);
        // cos x = 1 + y·C(y), C(y) = −1/2! + y/4! − y²/6! + … − y⁶/14!
        var c01 = Fma.MultiplyAdd(Vector256.Create(1.0 / 24.0), y, Vector256.Create(-0.5));
        var c23 = Fma.MultiplyAdd(Vector256.Create(1.0 / 40320.0), y, Vector256.Create(-1.0 / 720.0));
        var c45 = Fma.MultiplyAdd(Vector256.Create(1.0 / 479001600.0), y, Vector256.Create(-1.0 / 3628800.0));
        var c03 = Fma.MultiplyAdd(c23, y2, c01);
        var c46 = Fma.MultiplyAdd(Vector256.Create(-1.0 / 87178291200.0), y2, c45);
        var cPoly = Fma.MultiplyAdd(c46, y4, c03);
        var cos = Fma.MultiplyAdd(cPoly, y, Vector256<double>.One);
        return (sin, cos);
    }

    // Four mask bits to four bools (bytes 0/1), little-endian: bit k lands in byte k.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint SpreadBits(uint bits) => (bits * 0x00204081u) & 0x01010101u;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WriteObservation(int i, float[] obs)
    {
        var o = obs.AsSpan(i * 4, 4);
        o[0] = (float)_x[i];
        o[1] = (float)_xDot[i];
        o[2] = (float)_theta[i];
        o[3] = (float)_thetaDot[i];
    }
}
