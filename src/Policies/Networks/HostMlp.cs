using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using RLAgents.LanguageModel.Training;
using RLAgents.Policies.Encoding;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Policies.Networks;

/// <summary>
/// The acting forward of a small MLP (a vector observation → Linear/activation layers → a linear head) on
/// host floats, reading the live weights in place: no libtorch dispatch, no tensor handles (issue 16). For
/// CartPole's 64-64 actor and critic, one acting call on 8 envs is ≈ 70k multiply-adds — less time than
/// the ≈ 15 tensor calls the libtorch path spends on it. Results equal the tensor forward to float
/// rounding (a different summation order) and are deterministic; training reads the same weights the
/// optimiser updates in place, so there is no copy to keep fresh. DQN also trains through it:
/// <see cref="ForwardForTraining"/> keeps the hidden outputs and <see cref="Backward"/> writes ∂L/∂W and ∂L/∂b
/// into the gradient tensors the optimiser reads, so a 64-64 Q-network's step is host arithmetic, not ≈ 40
/// libtorch calls.
/// </summary>
internal sealed class HostMlp
{
    /// <summary>
    /// Most multiply-adds per acting call below <see cref="GemmRows"/> rows for which the host path is used. Above it
    /// libtorch's blocked GEMM is faster than the row-by-row loop (measured on CartPole's 64-64 nets before the GEMM
    /// path: the host path won up to ≈ 64 envs, libtorch from ≈ 256).
    /// </summary>
    public const long MaxMultiplyAdds = 1 << 20;

    /// <summary>
    /// Most multiply-adds per acting call from <see cref="GemmRows"/> rows, where <see cref="HostGemm"/> runs the layers.
    /// Measured on CartPole's 64-64 actor and critic at 1,024 envs (4.6M each per call): acting took 1.17 s of a
    /// cartpole-ppo-large solve against 2.49 s through libtorch. Larger calls (wider nets, more envs) keep libtorch,
    /// whose GEMM was not measured against the host's there.
    /// </summary>
    public const long MaxGemmMultiplyAdds = 1 << 24;

    /// <summary>
    /// Fewest multiply-adds per network for which <see cref="Both"/> runs an actor's and a critic's work on two threads:
    /// below it the hand-off to the thread pool (≈ 10 µs) costs more than it saves.
    /// </summary>
    public const long ParallelMultiplyAdds = 1 << 18;

    // Each layer with its activation (none on the head) and its widths, read once: Tensor.shape allocates.
    private readonly (Linear Layer, Activation? Activation, int In, int Out)[] _layers;
    private readonly int _maxWidth;
    private readonly long _macsPerRow;
    private float[] _a = [], _b = [];
    private float[] _wt = []; // Linear: W transposed [in, out] for HostGemm
    private float[][] _saved = []; // ForwardForTraining: each hidden layer's output [B, width], read by Backward

    private HostMlp((Linear Layer, Activation? Activation)[] layers)
    {
        _layers = layers.Select(l => (l.Layer, l.Activation, (int)l.Layer.weight!.shape[1], (int)l.Layer.weight!.shape[0])).ToArray();
        _maxWidth = _layers.Max(l => l.Out);
        _macsPerRow = _layers.Sum(l => (long)l.In * l.Out);
    }

    /// <summary>Input width read.</summary>
    public int InputSize => _layers[0].In;

    /// <summary>Output width of the last layer.</summary>
    public int OutputSize => _layers[^1].Out;

    /// <summary>
    /// The host forward of <paramref name="estimator"/> followed by <paramref name="head"/> (no activation), or null
    /// when the estimator is not one vector modality into an MLP backbone.
    /// </summary>
    public static HostMlp? TryCreate(StateEstimator estimator, Linear head)
    {
        if (estimator is not EncoderStateEstimator { HostLayers: { } layers }) return null;
        return new HostMlp([.. layers.Select(l => (l.Layer, (Activation?)l.Activation)), (head, null)]);
    }

    /// <summary>
    /// True when this forward can run on <paramref name="observations"/> of <paramref name="batch"/> rows on the
    /// host: one float32 CPU tensor [B, InputSize], weights float32 and contiguous on the CPU, and few enough
    /// multiply-adds that libtorch would not be faster.
    /// </summary>
    public bool Accepts(ObservationInput observations, int batch) =>
        batch * _macsPerRow <= (batch >= GemmRows ? MaxGemmMultiplyAdds : MaxMultiplyAdds) && Fits(observations, batch);

    /// <summary>Multiply-adds of one forward over <paramref name="batch"/> rows.</summary>
    public long MultiplyAdds(int batch) => batch * _macsPerRow;

    /// <summary>
    /// True when two networks' work of <paramref name="multiplyAdds"/> each should run on two threads: libtorch was given
    /// ≥ 2 threads (<c>training.threads</c>, so one thread stays one thread) and the work pays for the hand-off. The two
    /// computations write separate memory, so the results equal the sequential ones bit for bit.
    /// </summary>
    public static bool Both(long multiplyAdds) => multiplyAdds >= ParallelMultiplyAdds && torch.get_num_threads() >= 2;

    /// <summary><see cref="Accepts"/> at any batch size.</summary>
    private bool Fits(ObservationInput observations, int batch)
    {
        if (observations.Space.Modalities.Count != 1) return false;
        var x = observations[0];
        if (!IsHostFloat(x) || x.dim() != 2 || x.size(0) != batch || x.size(1) != InputSize) return false;
        foreach (var (layer, _, _, _) in _layers)
            if (!IsHostFloat(layer.weight!) || layer.bias is not { } bias || !IsHostFloat(bias)) return false;
        return true;
    }

    /// <summary>Runs the forward on the single tensor of <paramref name="observations"/> ([B, InputSize]) into <paramref name="output"/> [B, OutputSize].</summary>
    public void Forward(ObservationInput observations, int batch, Span<float> output) => Forward(Floats(observations[0], (long)batch * InputSize), batch, output);

    /// <summary>Runs the forward on host rows <paramref name="input"/> [B, InputSize] into <paramref name="output"/> [B, OutputSize].</summary>
    public void Forward(ReadOnlySpan<float> input, int batch, Span<float> output)
    {
        int need = batch * _maxWidth;
        if (_a.Length < need) { _a = new float[need]; _b = new float[need]; }
        ReadOnlySpan<float> x = input;
        for (int l = 0; l < _layers.Length; l++)
        {
            var (layer, activation, inSize, outSize) = _layers[l];
            // Hidden activations ping-pong between two scratch buffers [B, width]; the head writes the output.
            var y = l == _layers.Length - 1 ? output[..(batch * outSize)] : (l % 2 == 0 ? _a : _b).AsSpan(0, batch * outSize);
            Linear(x, batch, inSize, Floats(layer.weight!, (long)inSize * outSize), Floats(layer.bias!, outSize), outSize, y);
            if (activation == Activation.Tanh) Tanh(y);
            else if (activation == Activation.Relu) Relu(y);
            x = y;
        }
    }

    /// <summary>
    /// True when <see cref="ForwardForTraining"/> and <see cref="Backward"/> can run on <paramref name="observations"/>
    /// of <paramref name="batch"/> rows: <see cref="Accepts"/> but at any batch size (training batches of ≥ 16 rows run
    /// through <see cref="HostGemm"/>: a PPO minibatch of 4,096 rows through CartPole's 64-64 nets takes a few ms, against
    /// ≈ 35 ms of libtorch calls), and every weight and bias has a float32 CPU contiguous gradient tensor to write into
    /// (an optimiser such as <c>AdamOptimizer</c> seats them).
    /// </summary>
    public bool AcceptsTraining(ObservationInput observations, int batch)
    {
        if (!Fits(observations, batch)) return false;
        foreach (var (layer, _, _, _) in _layers)
            if (layer.weight!.grad is not { } gw || !IsHostFloat(gw) || layer.bias!.grad is not { } gb || !IsHostFloat(gb)) return false;
        return true;
    }

    /// <summary>
    /// <see cref="Forward(ReadOnlySpan{float}, int, Span{float})"/> that keeps every hidden layer's output (after its
    /// activation, [B, width]) for the <see cref="Backward"/> that follows on the same <paramref name="input"/>.
    /// </summary>
    public void ForwardForTraining(ReadOnlySpan<float> input, int batch, Span<float> output)
    {
        if (_saved.Length != _layers.Length - 1) _saved = new float[_layers.Length - 1][];
        ReadOnlySpan<float> x = input;
        for (int l = 0; l < _layers.Length; l++)
        {
            var (layer, activation, inSize, outSize) = _layers[l];
            Span<float> y;
            if (l == _layers.Length - 1) y = output[..(batch * outSize)];
            else
            {
                if (_saved[l] is null || _saved[l].Length < batch * outSize) _saved[l] = new float[batch * outSize];
                y = _saved[l].AsSpan(0, batch * outSize);
            }
            Linear(x, batch, inSize, Floats(layer.weight!, (long)inSize * outSize), Floats(layer.bias!, outSize), outSize, y);
            if (activation == Activation.Tanh) Tanh(y);
            else if (activation == Activation.Relu) Relu(y);
            x = y;
        }
    }

    /// <summary>
    /// Backpropagates ∂L/∂output <paramref name="gradOutput"/> [B, OutputSize] through the layers of the last
    /// <see cref="ForwardForTraining"/> on <paramref name="input"/> [B, InputSize], adding ∂L/∂W and ∂L/∂b into the
    /// weights' gradient tensors in place (as autograd accumulates; zero them first). Checked by <see cref="AcceptsTraining"/>.
    /// </summary>
    public void Backward(ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> gradOutput)
    {
        int need = batch * _maxWidth;
        if (_a.Length < need) { _a = new float[need]; _b = new float[need]; }
        // δ of the current layer's pre-activation output [B, out]; the head has no activation, so δ = gradOutput.
        ReadOnlySpan<float> delta = gradOutput[..(batch * OutputSize)];
        for (int l = _layers.Length - 1; l >= 0; l--)
        {
            var (layer, _, inSize, outSize) = _layers[l];
            ReadOnlySpan<float> x = l == 0 ? input[..(batch * inSize)] : _saved[l - 1].AsSpan(0, batch * inSize);
            var w = Floats(layer.weight!, (long)inSize * outSize);
            var gw = Writable(layer.weight!.grad!, (long)inSize * outSize);
            var gb = Writable(layer.bias!.grad!, outSize);
            // ∂b += Σ_r δ[r, :]; ∂W [out, in] += δᵀ x (A = δᵀ read from δ [B, out] in place).
            for (int r = 0; r < batch; r++) Axpy(1, delta.Slice(r * outSize, outSize), gb);
            HostGemm.Multiply(delta, 1, outSize, outSize, batch, x, inSize, gw, accumulate: true);
            if (l == 0) break;
            // δ of the layer below: (δ W) [B, in] times the derivative of its activation, read from its saved output h.
            var below = (l % 2 == 0 ? _a : _b).AsSpan(0, batch * inSize);
            HostGemm.Multiply(delta, outSize, 1, batch, outSize, w, inSize, below, accumulate: false);
            var activation = _layers[l - 1].Activation;
            if (activation == Activation.Tanh) TanhBackward(x, below);      // tanh' = 1 − h²
            else if (activation == Activation.Relu) ReluBackward(x, below); // relu' = [h > 0]
            delta = below;
        }
    }

    /// <summary>Rows from which <see cref="Linear"/> transposes W once and runs <see cref="HostGemm"/>; below it (acting
    /// on a few envs) the transposition would cost more than it saves.</summary>
    private const int GemmRows = 16;

    /// <summary>
    /// y [B, out] = x [B, in] · Wᵀ + b for W [out, in] row-major (nn.Linear's layout). From <see cref="GemmRows"/> rows:
    /// W is transposed into a scratch [in, out] and multiplied by <see cref="HostGemm"/>; below: dot products of
    /// contiguous rows reading W in place, four rows of x sharing each load of a weight row.
    /// </summary>
    private void Linear(ReadOnlySpan<float> x, int batch, int inSize, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, int outSize, Span<float> y)
    {
        if (batch >= GemmRows)
        {
            if (_wt.Length < inSize * outSize) _wt = new float[inSize * outSize];
            for (int o = 0; o < outSize; o++)
            {
                var row = w.Slice(o * inSize, inSize);
                for (int i = 0; i < inSize; i++) _wt[i * outSize + o] = row[i];
            }
            for (int r = 0; r < batch; r++) bias[..outSize].CopyTo(y.Slice(r * outSize, outSize));
            HostGemm.Multiply(x, inSize, 1, batch, inSize, _wt.AsSpan(0, inSize * outSize), outSize, y, accumulate: true);
            return;
        }
        int r4 = 0;
        if (Vector256.IsHardwareAccelerated && inSize >= 8)
            for (; r4 <= batch - 4; r4 += 4)
                for (int o = 0; o < outSize; o++)
                {
                    var (s0, s1, s2, s3) = Dot4(x.Slice(r4 * inSize, 4 * inSize), inSize, w.Slice(o * inSize, inSize));
                    y[r4 * outSize + o] = bias[o] + s0;
                    y[(r4 + 1) * outSize + o] = bias[o] + s1;
                    y[(r4 + 2) * outSize + o] = bias[o] + s2;
                    y[(r4 + 3) * outSize + o] = bias[o] + s3;
                }
        for (int r = r4; r < batch; r++)
        {
            var xr = x.Slice(r * inSize, inSize);
            var row = y.Slice(r * outSize, outSize);
            for (int o = 0; o < outSize; o++) row[o] = bias[o] + Dot(xr, w.Slice(o * inSize, inSize));
        }
    }

    /// <summary>The dot products of four consecutive rows of <paramref name="x4"/> (each <paramref name="n"/> long) with <paramref name="w"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (float, float, float, float) Dot4(ReadOnlySpan<float> x4, int n, ReadOnlySpan<float> w)
    {
        ref float px = ref MemoryMarshal.GetReference(x4);
        ref float pw = ref MemoryMarshal.GetReference(w);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int k = 0;
        for (; k <= n - 8; k += 8)
        {
            var wk = Vector256.LoadUnsafe(ref pw, (nuint)k);
            a0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)k), wk, a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)(n + k)), wk, a1);
            a2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)(2 * n + k)), wk, a2);
            a3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)(3 * n + k)), wk, a3);
        }
        float s0 = Vector256.Sum(a0), s1 = Vector256.Sum(a1), s2 = Vector256.Sum(a2), s3 = Vector256.Sum(a3);
        for (; k < n; k++)
        {
            float wk = w[k];
            s0 += x4[k] * wk; s1 += x4[n + k] * wk; s2 += x4[2 * n + k] * wk; s3 += x4[3 * n + k] * wk;
        }
        return (s0, s1, s2, s3);
    }

    /// <summary>y += a · x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        int k = 0;
        if (Vector256.IsHardwareAccelerated && x.Length >= 8)
        {
            ref float px = ref MemoryMarshal.GetReference(x);
            ref float py = ref MemoryMarshal.GetReference(y);
            var va = Vector256.Create(a);
            for (; k <= x.Length - 8; k += 8)
                Vector256.FusedMultiplyAdd(va, Vector256.LoadUnsafe(ref px, (nuint)k), Vector256.LoadUnsafe(ref py, (nuint)k)).StoreUnsafe(ref py, (nuint)k);
        }
        for (; k < x.Length; k++) y[k] += a * x[k];
    }

    private static void TanhBackward(ReadOnlySpan<float> h, Span<float> delta)
    {
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float ph = ref MemoryMarshal.GetReference(h);
            ref float pd = ref MemoryMarshal.GetReference(delta);
            var one = Vector256.Create(1f);
            for (; k <= delta.Length - 8; k += 8)
            {
                var hk = Vector256.LoadUnsafe(ref ph, (nuint)k);
                (Vector256.LoadUnsafe(ref pd, (nuint)k) * (one - hk * hk)).StoreUnsafe(ref pd, (nuint)k);
            }
        }
        for (; k < delta.Length; k++) delta[k] *= 1 - h[k] * h[k];
    }

    private static void ReluBackward(ReadOnlySpan<float> h, Span<float> delta)
    {
        for (int k = 0; k < delta.Length; k++) if (h[k] <= 0) delta[k] = 0;
    }

    /// <summary>Σ a_k b_k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int k = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated && a.Length >= 8)
        {
            ref float pa = ref MemoryMarshal.GetReference(a);
            ref float pb = ref MemoryMarshal.GetReference(b);
            var acc = Vector256<float>.Zero;
            for (; k <= a.Length - 8; k += 8)
                acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref pa, (nuint)k), Vector256.LoadUnsafe(ref pb, (nuint)k), acc);
            sum = Vector256.Sum(acc);
        }
        for (; k < a.Length; k++) sum += a[k] * b[k];
        return sum;
    }

    /// <summary>tanh in place, as 1 − 2 / (e^{2x} + 1) (exact limits ±1 where e^{2x} under- or overflows).</summary>
    private static void Tanh(Span<float> y)
    {
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float ys = ref MemoryMarshal.GetReference(y);
            var one = Vector256.Create(1f);
            var two = Vector256.Create(2f);
            for (; k <= y.Length - 8; k += 8)
            {
                var v = Vector256.LoadUnsafe(ref ys, (nuint)k);
                var t = one - two / (Vector256.Exp(v + v) + one);
                t.StoreUnsafe(ref ys, (nuint)k);
            }
        }
        for (; k < y.Length; k++) y[k] = MathF.Tanh(y[k]);
    }

    private static void Relu(Span<float> y)
    {
        for (int k = 0; k < y.Length; k++) if (y[k] < 0) y[k] = 0;
    }

    /// <summary>
    /// The first <paramref name="count"/> elements of a float32, CPU, contiguous tensor, read in place (valid until the
    /// tensor is freed or resized); an empty span when the tensor is not such a tensor or is shorter.
    /// </summary>
    internal static ReadOnlySpan<float> InPlace(Tensor t, int count) => IsHostFloat(t) && t.numel() >= count ? Floats(t, count) : default;

    private static bool IsHostFloat(Tensor t) => HostTensors.IsHostFloat(t);

    /// <summary>The tensor's float32 CPU elements in place (contiguity checked by <see cref="Accepts"/>).</summary>
    private static ReadOnlySpan<float> Floats(Tensor t, long count) => HostTensors.Read(t, count);

    /// <summary>The tensor's float32 CPU elements in place, writable (contiguity checked by <see cref="AcceptsTraining"/>).</summary>
    private static Span<float> Writable(Tensor t, long count) => HostTensors.Write(t, count);
}
