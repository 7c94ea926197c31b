using RLAgents.LanguageModel.Onnx;
using RLAgents.LanguageModel.Pretrained;
using RLAgents.LanguageModel.Tests.Onnx;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Tests.Pretrained;

/// <summary>
/// ML.NET's ImageNet ResNet-18, loaded from its NuGet package into <see cref="ResNetImageEncoder"/>,
/// against ONNX Runtime running the package's own preprocessing and model graphs (unoptimised) on the
/// same pixels at the export size, 224×224.
/// </summary>
public sealed class ResNetImageEncoderTests
{
    private static float[] Pixels(int count, int side, int seed)
    {
        var random = new Random(seed);
        var values = new float[count * 3 * side * side];
        for (int i = 0; i < values.Length; i++) values[i] = random.Next(256);
        return values;
    }

    [Fact]
    public void LoadedResNet18MatchesOnnxRuntimeOnThePackagesGraphs()
    {
        const int side = PretrainedImageEncoders.ExportSize;
        using var encoder = PretrainedImageEncoders.LoadResNet18(side, side);
        encoder.eval();
        string root = PretrainedImageEncoders.PackageDirectory();
        using var preprocess = OrtReference.Session(File.ReadAllBytes(Path.Combine(root, PretrainedImageEncoders.PreprocessFile)));
        using var model = OrtReference.Session(File.ReadAllBytes(Path.Combine(root, PretrainedImageEncoders.ModelFile)));
        var pixels = Pixels(2, side, 11);
        using var scope = NewDisposeScope();
        Tensor actual;
        using (no_grad()) actual = encoder.forward(tensor(pixels, [2, 3, side, side]));
        Assert.Equal([2L, ResNetImageEncoder.Features], actual.shape);
        int size = 3 * side * side;
        for (int b = 0; b < 2; b++)
        {
            var image = pixels.AsSpan(b * size, size).ToArray();
            var (bgr, bgrShape) = OrtReference.Run(preprocess, new Dictionary<string, (Array, long[])> { ["OriginalInput"] = (image, [1, 3, side, side]) }, "PreprocessedInput");
            var (features, shape) = OrtReference.Run(model, new Dictionary<string, (Array, long[])> { ["Input247"] = (bgr, bgrShape) }, "Pooling395_Output_0");
            Assert.Equal([1L, 512, 1, 1], shape);
            var expected = tensor(features);
            var row = actual[b];
            double maxAbs = (row - expected).abs().max().item<float>(), scale = expected.abs().max().item<float>();
            // Folding batch norm into the convolutions reorders float32 rounding: agreement to ~1e-5 of the features' range.
            Assert.True(maxAbs <= 1e-4 * Math.Max(1, scale), $"image {b}: max |Δ| = {maxAbs:E2} (features up to {scale:F3})");
            Assert.True(scale > 0.1, "features are all near zero: weights not loaded?");
        }
    }

    [Fact]
    public void AtTheAgentViewSizeTheMeanImageIsAreaResampledAndFeaturesComeOut()
    {
        using var small = PretrainedImageEncoders.LoadResNet18(56, 56);
        using var scope = NewDisposeScope();
        var mean = small.state_dict()["mean"];
        Assert.Equal([1L, 3, 56, 56], mean.shape);
        string root = PretrainedImageEncoders.PackageDirectory();
        var preprocess = OnnxModel.Read(Path.Combine(root, PretrainedImageEncoders.PreprocessFile)).Graph!;
        var full = preprocess.Initializer(preprocess.Nodes.Single(n => n.OpType == "Sub").Inputs[1])!.ToTensor(); // [1, 3, 224, 224]
        // Cell (c, 5, 9) of the 56×56 mean is the average of the 4×4 block at rows 20..23, columns 36..39.
        for (int c = 0; c < 3; c++)
            Assert.Equal(full[0, c, TensorIndex.Slice(20, 24), TensorIndex.Slice(36, 40)].mean().item<float>(), mean[0, c, 5, 9].item<float>(), 3);
        Tensor features;
        using (no_grad()) features = small.forward(tensor(Pixels(3, 56, 4), [3, 3, 56, 56]));
        Assert.Equal([3L, 512], features.shape);
        Assert.True(features.isfinite().all().item<bool>());
        Assert.True(features.ge(0).all().item<bool>(), "pooled ReLU outputs are non-negative");
        Assert.True((features[0] - features[1]).abs().max().item<float>() > 1e-3, "different images give the same features");
    }

    [Fact]
    public void AGraphThatIsNotAResNetIsRefusedInOneLine()
    {
        string root = PretrainedImageEncoders.PackageDirectory();
        var preprocess = OnnxModel.Read(Path.Combine(root, PretrainedImageEncoders.PreprocessFile)).Graph!;
        var e = Assert.Throws<PretrainedModelException>(() => ResNetOnnxImport.Load(preprocess, preprocess, 56, 56, "ResNetPreprocess.onnx"));
        Assert.StartsWith("ResNetPreprocess.onnx: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        using var empty = new TempDirectory();
        var missing = Assert.Throws<PretrainedModelException>(() => PretrainedImageEncoders.PackageDirectory(empty.Path));
        Assert.Contains(PretrainedImageEncoders.Package, missing.Message);
    }
}
