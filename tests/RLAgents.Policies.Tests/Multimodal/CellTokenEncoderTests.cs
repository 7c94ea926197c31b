using RLAgents.Environments;
using RLAgents.Policies.Multimodal;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests.Multimodal;

public sealed class CellTokenEncoderTests
{
    [Fact]
    public void EachCellIsTheSumOfItsChannelsEmbeddingsPlusItsRowAndColumnWithOrWithoutGradientsAndGradientsCountEachCode()
    {
        // A 2×3 grid with 3 channels bounded by 10, 5 and 2: channel c's code k is row offset_c + k of the value table.
        var box = new BoxSpace(new float[18].Select(_ => 0f).ToArray(), Enumerable.Repeat(new[] { 10f, 5f, 2f }, 6).SelectMany(x => x).ToArray(), [2, 3, 3], DType.UInt8);
        using var encoder = new CellTokenEncoder(box, 8, new Rng(4));
        using var scope = NewDisposeScope();
        byte[] codes = [.. Enumerable.Range(0, 2 * 18).Select(i => (byte)(i % 3 == 0 ? i % 11 : i % 3 == 1 ? i % 6 : i % 3))];
        var input = tensor(codes, [2, 18]);
        var tokens = encoder.forward(input);                                                      // [2, 6, 8]
        var p = encoder.named_parameters().ToDictionary(x => x.name, x => (Tensor)x.parameter);
        long[] offsets = [0, 11, 17];
        for (int b = 0; b < 2; b++)
            for (int cell = 0; cell < 6; cell++)
            {
                var expected = p["rows.weight"][cell / 3].add(p["cols.weight"][cell % 3]);
                for (int c = 0; c < 3; c++) expected = expected.add(p["values.weight"][offsets[c] + codes[b * 18 + cell * 3 + c]]);
                Assert.True(tokens[b, cell].allclose(expected, rtol: 0, atol: 1e-6), $"row {b}, cell {cell}");
            }
        // Without gradients (acting) the same tokens come from a gather instead of the training path's matmul.
        using (no_grad()) Assert.True(encoder.forward(input).allclose(tokens, rtol: 0, atol: 1e-6));
        tokens.sum().backward();
        var grad = p["values.weight"].grad!;
        // d(sum)/d(table row) = C-wide ones times how often that code occurs.
        var counts = new float[20];
        for (int i = 0; i < codes.Length; i++) counts[offsets[i % 3] + codes[i]] += 1;
        Assert.True(grad.select(1, 0).allclose(tensor(counts), rtol: 0, atol: 1e-6));
    }
}
