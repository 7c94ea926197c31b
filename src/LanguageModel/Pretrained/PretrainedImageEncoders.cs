using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Onnx;

namespace RLAgents.LanguageModel.Pretrained;

/// <summary>
/// The pretrained image encoder: ML.NET's ImageNet "ResNet18" (a CNTK ResNet of 2, 2, 2, 3 basic blocks, 15.9 M parameters), which the NuGet package
/// <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> (MIT) ships as <c>ResNet18.onnx</c> and
/// <c>ResNetPreprocess.onnx</c> under <c>tools/DnnImageModels/</c>. Restore downloads the package
/// (see the project file); <see cref="LoadResNet18"/> reads both graphs with the ONNX reader and
/// maps them onto a <see cref="ResNetImageEncoder"/> (<see cref="ResNetOnnxImport"/>).
/// </summary>
public static class PretrainedImageEncoders
{
    /// <summary>The NuGet package.</summary>
    public const string Package = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    /// <summary>The model inside the package.</summary>
    public const string ModelFile = "tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx";

    /// <summary>Its preprocessing (RGB → BGR, minus the ImageNet mean image) inside the package.</summary>
    public const string PreprocessFile = "tools/DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx";

    /// <summary>The side the model was trained and exported at (224).</summary>
    public const int ExportSize = 224;

    /// <summary>The package version this build downloads (stamped into this assembly).</summary>
    public static string PackageVersion => PretrainedTextEncoders.Metadata(Package) ?? "unknown";

    /// <summary>The package folders searched, in order (see <see cref="PretrainedTextEncoders.SearchPaths"/> for the roots).</summary>
    public static IReadOnlyList<string> SearchPaths() =>
        PretrainedTextEncoders.PackageRoots().Select(r => Path.GetFullPath(Path.Combine(r, Package.ToLowerInvariant(), PackageVersion))).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// The package folder (in <paramref name="directory"/> when given, else the first of <see cref="SearchPaths"/>
    /// holding the model). A missing package throws <see cref="PretrainedModelException"/> with one line naming the places looked in.
    /// </summary>
    public static string PackageDirectory(string? directory = null)
    {
        var candidates = directory is null ? SearchPaths() : [directory];
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, ModelFile)))
            ?? throw new PretrainedModelException(
                $"Pretrained image encoder ResNet-18: {ModelFile} not found (looked in {string.Join(", ", candidates)}); it comes from the NuGet package {Package} {PackageVersion}, which restoring RLAgents.LanguageModel downloads.");
    }

    /// <summary>
    /// ImageNet ResNet-18 for RGB inputs of <paramref name="height"/> × <paramref name="width"/>
    /// (values 0..255), from the package in <paramref name="directory"/> (default: <see cref="PackageDirectory"/>).
    /// </summary>
    public static ResNetImageEncoder LoadResNet18(int height, int width, string? directory = null)
    {
        string root = PackageDirectory(directory);
        var model = Read(Path.Combine(root, ModelFile));
        var preprocess = Read(Path.Combine(root, PreprocessFile));
        return ResNetOnnxImport.Load(model.Graph!, preprocess.Graph!, height, width, $"{Package} {PackageVersion} ({ModelFile})");
    }

    private static OnnxModel Read(string path)
    {
        try
        {
            return OnnxModel.Read(path);
        }
        catch (CheckpointException e)
        {
            throw new PretrainedModelException(e.Message);
        }
    }
}
