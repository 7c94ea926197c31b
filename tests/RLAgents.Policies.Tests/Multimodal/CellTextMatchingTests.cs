using RLAgents.Environments;
using RLAgents.Policies.Multimodal;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests.Multimodal;

public sealed class CellTextMatchingTests
{
    private const int Width = 8, Heads = 2, Channels = 3, Codes = 10;

    /// <summary>
    /// The scores written out as their definition: per cell, channel and head, the best q·k over the real tokens and, with
    /// roles, the softmax over the real tokens of q·k times the position embedding P[t].
    /// </summary>
    private static float[] Naive(CellTextMatching module, long[,,] codes, Tensor table, Tensor text, bool[,] mask)
    {
        var p = module.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var normed = nn.functional.layer_norm(text, [Width], p["ln_text.weight"], p["ln_text.bias"]);
        var q = table.matmul(p["q_proj.weight"].t());             // [V, C]
        var k = normed.matmul(p["k_proj.weight"].t());            // [B, T, C]
        int b = codes.GetLength(0), n = codes.GetLength(1), d = Width / Heads;
        int f = module.Roles ? 1 + CellTextMatching.RoleWidth : 1;
        var features = zeros(b, n, Channels * Heads * f);
        for (int i = 0; i < b; i++)
            for (int c = 0; c < n; c++)
                for (int ch = 0; ch < Channels; ch++)
                    for (int h = 0; h < Heads; h++)
                    {
                        double best = double.NegativeInfinity;
                        var scores = new List<(int T, double S)>();
                        for (int t = 0; t < mask.GetLength(1); t++)
                        {
                            if (!mask[i, t]) continue;
                            double s = q[codes[i, c, ch]].narrow(0, h * d, d).dot(k[i, t].narrow(0, h * d, d)).item<float>() / Math.Sqrt(d);
                            best = Math.Max(best, s);
                            scores.Add((t, s));
                        }
                        int at = (ch * Heads + h) * f;
                        features[i, c, at] = best;
                        if (!module.Roles) continue;
                        double sum = scores.Sum(x => Math.Exp(x.S - best));
                        for (int r = 0; r < CellTextMatching.RoleWidth; r++)
                            features[i, c, at + 1 + r] = scores.Sum(x => Math.Exp(x.S - best) / sum * p["role_position"][x.T, r].item<float>());
                    }
        return features.matmul(p["out_proj.weight"].t()).add(p["out_proj.bias"]).data<float>().ToArray();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EachCellGetsTheBestMatchOfItsOwnCodesOverTheRealTextTokens(bool roles)
    {
        using var module = new CellTextMatching(Width, Heads, Channels, new Rng(3), roles ? 5 : 0);
        var rng = new Rng(5);
        var codes = new long[2, 4, Channels];
        for (int i = 0; i < 2; i++) for (int c = 0; c < 4; c++) for (int ch = 0; ch < Channels; ch++) codes[i, c, ch] = rng.NextInt(Codes);
        var mask = new bool[,] { { true, true, false, false, false }, { true, true, true, true, false } };
        using var table = randn(Codes, Width, generator: manual_seed(1));
        using var text = randn(2, 5, Width, generator: manual_seed(2));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var flatCodes = tensor(codes.Cast<long>().ToArray(), [2, 4, Channels]);
        var maskTensor = tensor(mask.Cast<bool>().ToArray(), [2, 5]);
        var y = module.forward(flatCodes, table, text, maskTensor);
        Assert.Equal([2L, 4L, (long)Width], y.shape);
        var expected = Naive(module, codes, table, text, mask);
        var actual = y.data<float>().ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 4);

        // Padding tokens, whatever they hold, change nothing. The order of the real tokens changes nothing without roles
        // (a max over them) and, with roles, changes where each code matched: the binding the roles exist for.
        var noisy = text.clone();
        noisy[0, 2..] = randn(3, Width, generator: manual_seed(9)).mul(100);
        Assert.False(noisy.allclose(text));
        Assert.True(module.forward(flatCodes, table, noisy, maskTensor).allclose(y, rtol: 0, atol: 1e-5));
        var swapped = text.clone();
        swapped[1, 0] = text[1, 3];
        swapped[1, 3] = text[1, 0];
        Assert.False(swapped.allclose(text));
        var reordered = module.forward(flatCodes, table, swapped, maskTensor);
        Assert.True(reordered[0].allclose(y[0], rtol: 0, atol: 1e-5));
        Assert.Equal(!roles, reordered[1].allclose(y[1], rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void RolesCoverTheTextPositionsTheyWereBuiltFor()
    {
        using var module = new CellTextMatching(Width, Heads, Channels, new Rng(3), textPositions: 4);
        Assert.True(module.Roles);
        Assert.Equal(Codes * Heads * (1 + CellTextMatching.RoleWidth), module.ScoreWidth(Codes));
        using var scope = NewDisposeScope();
        var table = randn(Codes, Width, generator: manual_seed(1));
        var error = Assert.Throws<ArgumentException>(() => module.CodeScores(table, randn(1, 5, Width, generator: manual_seed(2)), null));
        Assert.Contains("4 text positions", error.Message);
        Assert.Contains("has 5", error.Message);
    }

    [Fact]
    public void CellsWithTheSameCodesGetTheSameFeatureWhereverTheyAre()
    {
        using var module = new CellTextMatching(Width, Heads, Channels, new Rng(3));
        using var scope = NewDisposeScope();
        using var table = randn(Codes, Width, generator: manual_seed(1));
        var text = randn(1, 4, Width, generator: manual_seed(2));
        var codes = tensor(new long[] { 1, 4, 7, 2, 4, 8, 1, 4, 7 }, [1, 3, Channels]);
        var y = module.forward(codes, table, text, null);
        Assert.True(y[0, 0].allclose(y[0, 2], rtol: 0, atol: 0));
        Assert.False(y[0, 0].allclose(y[0, 1], rtol: 0, atol: 1e-4));
    }
}
