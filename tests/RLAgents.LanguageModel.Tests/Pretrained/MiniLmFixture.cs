using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using RLAgents.LanguageModel.Pretrained;
using RLAgents.LanguageModel.Tests.Onnx;

namespace RLAgents.LanguageModel.Tests.Pretrained;

/// <summary>
/// all-MiniLM-L6-v2 loaded once for every test class in the "MiniLM" collection: the RLAgents
/// encoder (frozen, eval mode), the package's model.onnx bytes, an ONNX Runtime session on them,
/// and the reference WordPiece ids of the parity texts (Data/wordpiece-reference.json).
/// </summary>
public sealed class MiniLmFixture : IDisposable
{
    public MiniLmFixture()
    {
        Encoder = PretrainedTextEncoders.Load(PretrainedTextEncoders.MiniLM);
        Encoder.Encoder.ConfigureFineTuning(TextEncoderFineTuning.Frozen);
        Encoder.Encoder.eval();
        var info = PretrainedTextEncoders.Find(PretrainedTextEncoders.MiniLM);
        using (var stream = AssemblyResources.Open(PretrainedTextEncoders.AssemblyPath(info), info.ModelResource))
        {
            ModelBytes = new byte[stream.Length];
            stream.ReadExactly(ModelBytes);
        }
        Session = OrtReference.Session(ModelBytes);
        using var reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Pretrained", "Data", "wordpiece-reference.json")));
        Reference = reference.RootElement.GetProperty("items").EnumerateArray()
            .Select(i => (i.GetProperty("text").GetString()!, i.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray()))
            .ToList();
    }

    public PretrainedTextEncoder Encoder { get; }

    public byte[] ModelBytes { get; }

    public InferenceSession Session { get; }

    /// <summary>Texts and their ids from Hugging Face's tokenizer.</summary>
    public IReadOnlyList<(string Text, int[] Ids)> Reference { get; }

    public IReadOnlyList<string> Texts => Reference.Select(r => r.Text).ToList();

    public void Dispose()
    {
        Session.Dispose();
        Encoder.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class MiniLmCollection : ICollectionFixture<MiniLmFixture>
{
    public const string Name = "MiniLM";
}
