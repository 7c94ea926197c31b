using RLAgents.Environments;
using RLAgents.Policies.Networks;

namespace RLAgents.Policies.Tests.Networks;

/// <summary>The blocked host matrix product against the textbook triple loop, over every remainder of its blocks.</summary>
public class HostGemmTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ItEqualsTheTripleLoopForEveryShapeAndStride(bool transposedA)
    {
        var rng = new Rng(17UL);
        float Next() => (float)(rng.NextDouble() * 2 - 1);
        foreach (int m in new[] { 1, 3, 4, 5, 9 })
        foreach (int n in new[] { 1, 7, 8, 15, 16, 17, 40 })
        foreach (int k in new[] { 1, 5, 64 })
        foreach (bool accumulate in new[] { false, true })
        {
            // A [m, k] stored row-major, or stored as Aᵀ [k, m] and read through swapped strides.
            var a = Enumerable.Range(0, m * k).Select(_ => Next()).ToArray();
            var b = Enumerable.Range(0, k * n).Select(_ => Next()).ToArray();
            var c = Enumerable.Range(0, m * n).Select(_ => Next()).ToArray();
            float A(int i, int p) => transposedA ? a[p * m + i] : a[i * k + p];
            var expected = new float[m * n];
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double sum = accumulate ? c[i * n + j] : 0;
                    for (int p = 0; p < k; p++) sum += (double)A(i, p) * b[p * n + j];
                    expected[i * n + j] = (float)sum;
                }
            HostGemm.Multiply(a, transposedA ? 1 : k, transposedA ? m : 1, m, k, b, n, c, accumulate);
            for (int e = 0; e < expected.Length; e++)
                Assert.True(Math.Abs(c[e] - expected[e]) <= 1e-5f * Math.Max(1, Math.Abs(expected[e])), $"m {m} n {n} k {k} acc {accumulate}: [{e}] {c[e]} vs {expected[e]}");
        }
    }

    [Fact]
    public void ShortOperandsAreRejectedBeforeAnyMemoryIsRead()
    {
        var ex = Assert.Throws<ArgumentException>(() => HostGemm.Multiply(new float[5], 3, 1, 2, 3, new float[6], 2, new float[4], false));
        Assert.Contains("A is shorter", ex.Message);
        Assert.Throws<ArgumentException>(() => HostGemm.Multiply(new float[6], 3, 1, 2, 3, new float[5], 2, new float[4], false));
    }
}
