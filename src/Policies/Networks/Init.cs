using RLAgents.Environments;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Policies.Networks;

/// <summary>
/// Weight initialisation drawn from the run's <see cref="Rng"/> rather than torch's global
/// generator, so a network is a pure function of its seed even when several are built at once
/// (parallel tests, actor and learner processes).
/// </summary>
public static class Init
{
    /// <summary>
    /// Initialises <paramref name="layer"/>: with a gain, an orthogonal weight scaled by it and a
    /// zero bias (Saxe et al.; CleanRL's <c>layer_init</c>); without, PyTorch's default
    /// U(−1/√in, 1/√in) for weight and bias.
    /// </summary>
    public static void Linear(Linear layer, Rng rng, double? orthogonalGain) =>
        Fill(layer.weight!, layer.bias, (int)layer.weight!.shape[1], rng, orthogonalGain);

    /// <summary>
    /// Initialises a convolution like <see cref="Linear"/>, its weight [out, in, kH, kW] read as a
    /// matrix [out, in·kH·kW]: orthogonal rows scaled by the gain with a zero bias (CleanRL's Atari
    /// networks), or without a gain PyTorch's default U(−1/√fan_in, 1/√fan_in).
    /// </summary>
    public static void Conv2d(Conv2d layer, Rng rng, double? orthogonalGain)
    {
        var shape = layer.weight!.shape;
        Fill(layer.weight, layer.bias, (int)(shape[1] * shape[2] * shape[3]), rng, orthogonalGain);
    }

    // weight [out, …] read as [out, fanIn]; the same draws whatever the layer's kind.
    private static void Fill(Tensor weightTensor, Tensor? biasTensor, int fanIn, Rng rng, double? orthogonalGain)
    {
        int outputs = (int)weightTensor.shape[0];
        float[] weight, bias = new float[outputs];
        if (orthogonalGain is double gain)
        {
            weight = Orthogonal(outputs, fanIn, rng);
            for (int i = 0; i < weight.Length; i++) weight[i] = (float)(weight[i] * gain);
        }
        else
        {
            double bound = 1 / Math.Sqrt(fanIn);
            weight = new float[outputs * fanIn];
            for (int i = 0; i < weight.Length; i++) weight[i] = (float)rng.Uniform(-bound, bound);
            for (int i = 0; i < bias.Length; i++) bias[i] = (float)rng.Uniform(-bound, bound);
        }
        using var _ = no_grad();
        using var w = tensor(weight, weightTensor.shape);
        weightTensor.copy_(w);
        if (biasTensor is { } b)
        {
            using var bt = tensor(bias, [outputs]);
            b.copy_(bt);
        }
    }

    /// <summary>Standard-normal embedding table (PyTorch's default).</summary>
    public static void Embedding(Embedding table, Rng rng)
    {
        var weight = table.weight!;
        var values = new float[weight.numel()];
        for (int i = 0; i < values.Length; i++) values[i] = (float)rng.NextNormal();
        using var _ = no_grad();
        using var w = tensor(values, weight.shape);
        weight.copy_(w);
    }

    /// <summary>
    /// A row-major [rows, cols] matrix with orthonormal rows (rows ≤ cols) or columns (rows &gt; cols):
    /// Gram–Schmidt on a Gaussian matrix, which equals QR with a positive diagonal of R.
    /// </summary>
    public static float[] Orthogonal(int rows, int cols, Rng rng)
    {
        // Orthonormalise the k = min(rows, cols) vectors of length n = max(rows, cols).
        int n = Math.Max(rows, cols), k = Math.Min(rows, cols);
        var v = new double[k][];
        for (int i = 0; i < k; i++)
        {
            var x = new double[n];
            for (int j = 0; j < n; j++) x[j] = rng.NextNormal();
            for (int p = 0; p < i; p++)
            {
                double dot = 0;
                for (int j = 0; j < n; j++) dot += x[j] * v[p][j];
                for (int j = 0; j < n; j++) x[j] -= dot * v[p][j];
            }
            double norm = Math.Sqrt(x.Sum(e => e * e));
            for (int j = 0; j < n; j++) x[j] /= norm;
            v[i] = x;
        }
        var result = new float[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                result[r * cols + c] = (float)(rows <= cols ? v[r][c] : v[c][r]);
        return result;
    }
}
