using System.Text.Json;
using RLAgents.Environments.Configuration;
using RLAgents.LanguageModel.Pretrained;

namespace RLAgents.LanguageModel.Tests.Pretrained;

/// <summary>The options bind from experiment JSON through the host's strict binder, and loading applies them.</summary>
public class PretrainedTextEncoderOptionsTests
{
    private static PretrainedTextEncoderOptions Bind(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return OptionsBinder.Bind<PretrainedTextEncoderOptions>(doc.RootElement);
    }

    [Fact]
    public void OptionsBindWithEnumAndNestedLora()
    {
        var options = Bind("""{ "name": "arctic-embed-xs", "fineTune": "lora", "lora": { "rank": 4, "targetModules": ["attn.c_attn"] }, "maxTokens": 24, "cacheCapacity": 512 }""");
        Assert.Equal((PretrainedTextEncoders.ArcticEmbedXs, TextEncoderFineTuning.Lora, 4, 24, 512),
            (options.Name, options.FineTune, options.Lora.Rank, options.MaxTokens, options.CacheCapacity));
    }

    [Theory]
    [InlineData("""{ "name": "bert-base-uncased" }""", "name")]
    [InlineData("""{ "fineTune": "partial" }""", "fineTune")]
    [InlineData("""{ "topLayers": 0 }""", "topLayers")]
    [InlineData("""{ "maxTokens": 1 }""", "maxTokens")]
    [InlineData("""{ "cacheSize": 10 }""", "cacheSize")]
    public void MistakesNameTheKeyPath(string json, string path) =>
        Assert.Equal(path, Assert.Throws<ConfigurationException>(() => Bind(json)).Path);

    [Fact]
    public void LoadingAppliesTheFineTuningMode()
    {
        using var encoder = PretrainedTextEncoders.Load(new PretrainedTextEncoderOptions { FineTune = TextEncoderFineTuning.TopLayers, TopLayers = 1, MaxTokens = 32 });
        var trainable = encoder.Encoder.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        Assert.Equal(12, trainable.Count);  // one layer: four projections and two LayerNorms, each a weight and a bias
        Assert.All(trainable, n => Assert.StartsWith("layers.5.", n));
        Assert.Equal(32, encoder.Tokenizer.MaxTokens);
        Assert.Throws<PretrainedModelException>(() => PretrainedTextEncoders.Load(new PretrainedTextEncoderOptions { MaxTokens = 600 }));
    }
}
