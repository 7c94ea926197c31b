using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
/// optimiser updates in place, so there is no copy to keep fresh.
/// </summary>
internal sealed class HostMlp
{
    /// <summary>
    /// Most multiply-adds per call for which the host path is used. Above it libtorch's blocked GEMM is
    /// faster than this row-by-row loop (measured on CartPole's 64-64 nets: the host path wins up to
    /// ≈ 64 envs, libtorch from ≈ 256).
    /// </summary>
    public const long MaxMultiplyAdds = 1 << 20;

    // Each layer with its activation (none on the head) and its widths, read once: Tensor.shape allocates.
    private readonly (Linear Layer, Activation? Activation, int In, int Out)[] _layers;
    private readonly int _maxWidth;
    private readonly long _macsPerRow;
    private float[] _a = [], _b = [];

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
    public bool Accepts(ObservationInput observations, int batch)
    {
        if (observations.Space.Modalities.Count != 1 || batch * _macsPerRow > MaxMultiplyAdds) return false;
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

    /// <summary>y [B, out] = x [B, in] · Wᵀ + b for W [out, in] row-major (nn.Linear's layout): one dot product of
    /// contiguous rows per output, so the weights are read in place with no transposed copy.</summary>
    private static void Linear(ReadOnlySpan<float> x, int batch, int inSize, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, int outSize, Span<float> y)
    {
        for (int r = 0; r < batch; r++)
        {
            var xr = x.Slice(r * inSize, inSize);
            var row = y.Slice(r * outSize, outSize);
            for (int o = 0; o < outSize; o++) row[o] = bias[o] + Dot(xr, w.Slice(o * inSize, inSize));
        }
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

    private static bool IsHostFloat(Tensor t) => t.dtype == ScalarType.Float32 && t.device_type == DeviceType.CPU && t.is_contiguous();

    /// <summary>The tensor's float32 CPU elements in place (contiguity checked by <see cref="Accepts"/>).</summary>
    private static unsafe ReadOnlySpan<float> Floats(Tensor t, long count) =>
        new((float*)StorageData(t.Handle) + StorageOffset(t.Handle), checked((int)count));

    // TorchSharp's own native exports (libLibTorchSharp, loaded with TorchSharp): the storage's base pointer and a
    // tensor's offset into it in elements. TorchSharp 0.107 exposes no public data pointer on Tensor.
    [DllImport("LibTorchSharp", EntryPoint = "THSStorage_data_ptr")]
    private static extern IntPtr StorageData(IntPtr tensor);

    [DllImport("LibTorchSharp", EntryPoint = "THSTensor_storage_offset")]
    private static extern long StorageOffset(IntPtr tensor);
}
