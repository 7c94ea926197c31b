using RLAgents.Environments;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Multimodal;
using RLAgents.Policies.Tests.Multimodal;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests.Encoding;

/// <summary>NatureCNN and IMPALA encoders of pixel images: sizes from the image shape, forwards on odd sizes, acting memory.</summary>
public sealed class ImageEncoderTests
{
    private static BoxSpace Pixels(params int[] shape) => new(0f, 255f, shape, DType.UInt8);

    private static ModalityEncoder Create(BoxSpace box, ImageEncoding encoding, int? features = null)
    {
        var space = new ObservationSpace(new Modality("image", box));
        var options = new PolicyOptions { ImageEncoding = encoding, ImageFeatures = features };
        return ModalityEncoder.Create(space[0], options, new ObservationTensorizer(space), 0, new Rng(3UL));
    }

    private static long[] Shape(ModalityEncoder encoder, string parameter) =>
        encoder.named_parameters().Single(p => p.name == parameter).parameter.shape;

    [Fact]
    public void ConvolutionGeometryFollowsPyTorchsFormula()
    {
        Assert.Equal(20, ConvGeometry.Output(84, 8, 4));
        Assert.Equal(13, ConvGeometry.Output(56, 8, 4));
        Assert.Equal(28, ConvGeometry.Output(56, 3, 2, 1));
        Assert.Equal(5, ConvGeometry.Output(9, 3, 2, 1));
        Assert.Equal(0, ConvGeometry.Output(7, 8, 4));
        Assert.Equal(36, NatureCnnEncoder.MinimumSize);
        Assert.Equal((7, 7), NatureCnnEncoder.OutputGrid(84, 84));
        Assert.Equal((3, 3), NatureCnnEncoder.OutputGrid(56, 56));
        Assert.Equal((1, 2), NatureCnnEncoder.OutputGrid(36, 44));
        Assert.Equal((7, 7), ImpalaEncoder.OutputGrid(56, 56));
        Assert.Equal((2, 2), ImpalaEncoder.OutputGrid(15, 9));
        Assert.Equal((1, 1), ImpalaEncoder.OutputGrid(1, 1));
    }

    [Fact]
    public void EncoderSizesComeFromTheImageShape()
    {
        var nature = Create(Pixels(56, 56, 3), ImageEncoding.NatureCnn);
        Assert.IsType<NatureCnnEncoder>(nature);
        Assert.Equal(512, nature.OutputSize);
        Assert.Equal([32L, 3, 8, 8], Shape(nature, "conv1.weight"));
        Assert.Equal([512L, 64 * 3 * 3], Shape(nature, "linear.weight"));
        var atari = Create(Pixels(84, 84, 4), ImageEncoding.NatureCnn, features: 100);
        Assert.Equal(100, atari.OutputSize);
        Assert.Equal([100L, 64 * 7 * 7], Shape(atari, "linear.weight"));
        Assert.Equal([32L, 4, 8, 8], Shape(atari, "conv1.weight"));

        var impala = Create(Pixels(56, 56, 3), ImageEncoding.Impala);
        Assert.IsType<ImpalaEncoder>(impala);
        Assert.Equal(256, impala.OutputSize);
        Assert.Equal([256L, 32 * 7 * 7], Shape(impala, "linear.weight"));
        Assert.Equal(15, impala.named_parameters().Count(p => p.name.EndsWith(".weight", StringComparison.Ordinal) && p.parameter.dim() == 4));
    }

    [Fact]
    public void AutoEmbedsSymbolicCodesAndPicksNatureCnnForPixelsLargeEnough()
    {
        Assert.IsType<SymbolicImageEncoder>(Create(new BoxSpace(0f, 10f, [7, 7, 3], DType.UInt8), ImageEncoding.Auto));
        Assert.IsType<NatureCnnEncoder>(Create(Pixels(56, 56, 3), ImageEncoding.Auto));
        Assert.IsType<NatureCnnEncoder>(Create(Pixels(36, 40), ImageEncoding.Auto));
        Assert.IsType<ScaledImageEncoder>(Create(Pixels(28, 28, 1), ImageEncoding.Auto));
        var small = Assert.Throws<ArgumentException>(() => Create(Pixels(28, 28, 1), ImageEncoding.NatureCnn));
        Assert.Contains("36", small.Message);
        Assert.Throws<NotSupportedException>(() => Create(Pixels(4, 4, 4, 3), ImageEncoding.Impala));
    }

    [Theory]
    [InlineData(ImageEncoding.NatureCnn, new[] { 37, 41, 3 })]
    [InlineData(ImageEncoding.NatureCnn, new[] { 84, 84, 4 })]
    [InlineData(ImageEncoding.NatureCnn, new[] { 45, 39 })]
    [InlineData(ImageEncoding.Impala, new[] { 15, 9, 3 })]
    [InlineData(ImageEncoding.Impala, new[] { 1, 1, 2 })]
    [InlineData(ImageEncoding.Impala, new[] { 56, 56, 12 })]
    [InlineData(ImageEncoding.Impala, new[] { 27, 31 })]
    public void ForwardGivesOneFeatureRowPerImageForOddSizes(ImageEncoding encoding, int[] shape)
    {
        var box = Pixels(shape);
        using var encoder = Create(box, encoding, features: 24);
        using var scope = NewDisposeScope();
        var values = new byte[3 * box.Size];
        new Random(5).NextBytes(values);
        var features = encoder.forward(tensor(values, [3, box.Size]));
        Assert.Equal([3L, 24], features.shape);
        Assert.True(features.isfinite().all().item<bool>());
        Assert.True(features.ge(0).all().item<bool>(), "features end with a ReLU");
    }

    [Fact]
    public void PlanesReadChannelsLastPixelsAsChannelFirstPlanes()
    {
        using var scope = NewDisposeScope();
        // One image 2 × 3 × 2: element (r, c, ch) = 10·r + 3·c + ch.
        var values = new byte[12];
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 3; c++)
                for (int ch = 0; ch < 2; ch++) values[(r * 3 + c) * 2 + ch] = (byte)(10 * r + 3 * c + ch);
        var planes = PixelImageEncoder.ToPlanes(tensor(values, [1, 12]), 2, 3, 2, 0.5);
        Assert.Equal([1L, 2, 2, 3], planes.shape);
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 3; c++)
                for (int ch = 0; ch < 2; ch++) Assert.Equal(0.5f * (10 * r + 3 * c + ch), planes[0, ch, r, c].item<float>());
    }

    [Theory]
    [InlineData(ImageEncoding.NatureCnn)]
    [InlineData(ImageEncoding.Impala)]
    public void ActingOnPixelsKeepsLiveTensorsFlat(ImageEncoding encoding)
    {
        var space = new ObservationSpace(new Modality("image", Pixels(56, 56, 3)), new Modality("direction", new DiscreteSpace(4)));
        using var policy = new ActorCriticPolicy(space, new DiscreteSpace(7), new PolicyOptions { ImageEncoding = encoding, ImageFeatures = 32, HiddenSizes = [16] }, new Rng(4UL));
        var batch = new ObservationBatch(space, 3);
        new Random(2).NextBytes(batch.Bytes(0));
        EstimatorTestKit.ActingKeepsLiveTensorsFlat(policy, batch);
    }

    [Fact]
    public void ThePretrainedResNetReadsRgbViewsAndStartsFrozenOnRequest()
    {
        var space = new ObservationSpace(new Modality("image", Pixels(56, 56, 3)), new Modality("direction", new DiscreteSpace(4)));
        var options = new PolicyOptions { ImageEncoding = ImageEncoding.ResNet18, FreezeImageEncoder = true, HiddenSizes = [16], ShareStateEstimator = true };
        using var policy = new ActorCriticPolicy(space, new DiscreteSpace(7), options, new Rng(4UL));
        var resnet = policy.named_parameters().Where(p => p.name.Contains(".resnet.", StringComparison.Ordinal)).ToList();
        Assert.True(resnet.Sum(p => p.parameter.numel()) > 15_000_000);
        Assert.All(resnet, p => Assert.False(p.parameter.requires_grad, $"{p.name} trains although the encoder is frozen"));
        Assert.Contains(policy.named_parameters(), p => p.parameter.requires_grad);
        var batch = new ObservationBatch(space, 2);
        new Random(8).NextBytes(batch.Bytes(0));
        EstimatorTestKit.ActingKeepsLiveTensorsFlat(policy, batch);
        Assert.Throws<ArgumentException>(() => Create(Pixels(56, 56, 1), ImageEncoding.ResNet18));
        var errors = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        var wrong = new PolicyOptions { ImageEncoding = ImageEncoding.ResNet18, ImageFeatures = 64 };
        Assert.False(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(wrong, new(wrong), errors, true));
        Assert.Contains(errors, e => e.MemberNames.Contains(nameof(PolicyOptions.ImageFeatures)));
    }
}
