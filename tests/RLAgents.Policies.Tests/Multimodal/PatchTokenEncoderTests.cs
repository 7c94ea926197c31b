using RLAgents.Environments;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.Wrappers;
using RLAgents.Policies.Multimodal;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests.Multimodal;

/// <summary>ViT-style patch tokens of pixel images in the Transformer state estimator.</summary>
public sealed class PatchTokenEncoderTests
{
    private static MultimodalOptions With(FusionMode fusion, int patchSize = 8) => new()
    {
        Fusion = fusion,
        PatchSize = patchSize,
        Backbone = new BackboneOptions { NLayer = 1, NHead = 2, NEmbd = 16, BlockSize = 128 },
        MaxTextTokens = 8,
        FusionHiddenSizes = [24],
    };

    /// <summary>GoToLocal seen through Minigrid's RGB view (image 56×56×3, direction, mission), from <paramref name="count"/> seeds.</summary>
    private static ObservationBatch PixelObservations(int count)
    {
        var gridOptions = new GridWorldOptions { IncludeDescription = false };
        using var env = new ImagePipeline(new PixelObservationOptions(), null, null, null).Wrap(BabyAILevels.Make("BabyAI-GoToLocal-v0", gridOptions));
        var batch = new ObservationBatch(env.ObservationSpace, count);
        for (int i = 0; i < count; i++) batch.Set(i, env.Reset(200 + i).Observation);
        return batch;
    }

    [Fact]
    public void PatchGridCoversOddSidesWithPadding()
    {
        Assert.Equal((7, 7), PatchTokenEncoder.Grid(56, 56, 8));
        Assert.Equal((8, 7), PatchTokenEncoder.Grid(57, 50, 8));
        Assert.Equal((1, 1), PatchTokenEncoder.Grid(5, 3, 8));
        using var encoder = new PatchTokenEncoder(new BoxSpace(0f, 255f, [57, 50, 3], DType.UInt8), 8, 16, new Rng(1UL));
        Assert.Equal(56, encoder.TokenCount);
        using var scope = NewDisposeScope();
        var tokens = encoder.forward(zeros(2, 57 * 50 * 3, dtype: ScalarType.Byte));
        Assert.Equal([2L, 56, 16], tokens.shape);
    }

    [Fact]
    public void EachTokenIsItsPatchProjectedPlusItsRowAndColumnPosition()
    {
        // A 2-channel 5×7 image in patches of 3: a 2×3 grid, the last row and column padded with zeros.
        var box = new BoxSpace(0f, 255f, [5, 7, 2], DType.UInt8);
        using var encoder = new PatchTokenEncoder(box, 3, 4, new Rng(2UL));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var parameters = encoder.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var weight = parameters["projection.weight"]; // [4, 2, 3, 3]
        var bias = parameters["projection.bias"];
        var rows = parameters["rows.weight"];
        var cols = parameters["cols.weight"];
        var values = new byte[box.Size];
        new Random(9).NextBytes(values);
        var tokens = encoder.forward(tensor(values, [1, box.Size]));
        Assert.Equal([1L, 6, 4], tokens.shape);
        for (int gr = 0; gr < 2; gr++)
            for (int gc = 0; gc < 3; gc++)
                for (int o = 0; o < 4; o++)
                {
                    double expected = bias[o].item<float>() + rows[gr, o].item<float>() + cols[gc, o].item<float>();
                    for (int ch = 0; ch < 2; ch++)
                        for (int i = 0; i < 3; i++)
                            for (int j = 0; j < 3; j++)
                            {
                                int r = 3 * gr + i, c = 3 * gc + j;
                                if (r >= 5 || c >= 7) continue; // padding contributes nothing
                                expected += weight[o, ch, i, j].item<float>() * values[(r * 7 + c) * 2 + ch] / 255.0;
                            }
                    Assert.Equal(expected, tokens[0, 3 * gr + gc, o].item<float>(), 4);
                }
    }

    [Theory]
    [InlineData(FusionMode.Early)]
    [InlineData(FusionMode.Late)]
    [InlineData(FusionMode.CrossAttention)]
    public void PatchTokensTakePartInEveryFusionMode(FusionMode fusion)
    {
        var batch = PixelObservations(3);
        var space = batch.Space;
        Assert.Equal([56, 56, 3], ((BoxSpace)space[space.IndexOf("image")].Space).Shape);
        var (estimator, tensorizer) = EstimatorTestKit.Build(With(fusion), space);
        int expected = fusion switch { FusionMode.Early => 1 + 49 + 1 + 8, FusionMode.Late => 49, _ => 1 + 8 };
        Assert.Equal(expected, estimator.SequenceLength);
        Assert.Contains(estimator.named_modules(), m => m.module is PatchTokenEncoder { TokenCount: 49 });
        var state = EstimatorTestKit.State(estimator, tensorizer, batch);
        Assert.Equal(3 * estimator.StateSize, state.Length);
        // The pixels reach the state: repainting one patch of the first image changes its state only.
        batch.Bytes(space.IndexOf("image")).AsSpan(0, 8 * 3).Fill(255);
        var changed = EstimatorTestKit.State(estimator, tensorizer, batch);
        int d = estimator.StateSize;
        Assert.False(state.AsSpan(0, d).SequenceEqual(changed.AsSpan(0, d)), "the first observation's state ignores its pixels");
        Assert.True(state.AsSpan(d).SequenceEqual(changed.AsSpan(d)), "other observations' states moved");
    }

    [Fact]
    public void APatchSizeOfOneGivesOneTokenPerPixelAndALargerOneFewer()
    {
        var space = new ObservationSpace(new Modality("image", new BoxSpace(0f, 255f, [6, 10, 3], DType.UInt8)), new Modality("direction", new DiscreteSpace(4)));
        var (one, _) = EstimatorTestKit.Build(With(FusionMode.Early, patchSize: 1), space);
        Assert.Equal(1 + 60 + 1, one.SequenceLength);
        var (four, _) = EstimatorTestKit.Build(With(FusionMode.Early, patchSize: 4), space);
        Assert.Equal(1 + 2 * 3 + 1, four.SequenceLength);
        var symbolic = new ObservationSpace(new Modality("image", new BoxSpace(0f, 10f, [7, 7, 3], DType.UInt8)));
        var (cells, _) = EstimatorTestKit.Build(With(FusionMode.Early, patchSize: 4), symbolic);
        Assert.Contains(cells.named_modules(), m => m.module is CellTokenEncoder);
        Assert.Equal(1 + 49, cells.SequenceLength);
    }

    [Fact]
    public void ActingOnPatchTokensKeepsLiveTensorsFlat()
    {
        var batch = PixelObservations(2);
        var factory = new MultimodalStateEstimatorFactory(With(FusionMode.CrossAttention), EstimatorTestKit.Tokenizer);
        using var policy = new ActorCriticPolicy(batch.Space, new DiscreteSpace(7), new PolicyOptions { ShareStateEstimator = true }, factory, new Rng(1UL));
        EstimatorTestKit.ActingKeepsLiveTensorsFlat(policy, batch);
    }
}
