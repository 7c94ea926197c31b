using System.Text.Json;
using RLAgents.Environments.Configuration;
using RLAgents.LanguageModel.FineTuning;
using RLAgents.LanguageModel.Model;
using RLAgents.LanguageModel.Training;

namespace RLAgents.LanguageModel.Tests.Training;

/// <summary>The options bind from experiment JSON through the host's strict binder.</summary>
public class OptionsBindingTests
{
    private static T Bind<T>(string json) where T : new()
    {
        using var doc = JsonDocument.Parse(json);
        return OptionsBinder.Bind<T>(doc.RootElement);
    }

    [Fact]
    public void PretrainConfigBindsWithNestedModelAndEnum()
    {
        var options = Bind<PretrainOptions>("""
            {
              "model": { "vocabSize": 512, "blockSize": 64, "nLayer": 4, "nHead": 4, "nEmbd": 128, "dropout": 0.1, "activation": "geluTanh" },
              "corpusPath": "corpus.txt", "batchSize": 32, "steps": 2000, "learningRate": 0.001, "warmupSteps": 100,
              "weightDecay": 0.1, "maxGradNorm": 1.0, "evalInterval": 200, "seed": 7, "threads": 1
            }
            """);
        Assert.Equal(128, options.Model.NEmbd);
        Assert.Equal(GptActivation.GeluTanh, options.Model.Activation);
        Assert.Equal("corpus.txt", options.CorpusPath);
        Assert.Equal(7, options.Seed);
        Assert.Equal(1, options.Threads);
    }

    [Theory]
    [InlineData("""{ "model": { "nEmbed": 64 } }""", "model.nEmbed")]
    [InlineData("""{ "batchSize": 0 }""", "batchSize")]
    [InlineData("""{ "steps": 10, "warmupSteps": 20 }""", "warmupSteps")]
    [InlineData("""{ "model": { "nEmbd": 30, "nHead": 4 } }""", "model.nEmbd")]
    [InlineData("""{ "model": { "activation": "relu" } }""", "model.activation")]
    public void MistakesNameTheKeyPath(string json, string path)
    {
        var error = Assert.Throws<ConfigurationException>(() => Bind<PretrainOptions>(json));
        Assert.Equal(path, error.Path);
    }

    [Fact]
    public void SftConfigBindsWithLora()
    {
        var options = Bind<TextSftOptions>("""{ "updates": 50, "lora": { "rank": 4, "alpha": 8, "targetModules": ["attn.c_attn"] } }""");
        Assert.Equal(4, options.Lora!.Rank);
        Assert.Equal(["attn.c_attn"], options.Lora.TargetModules);
        Assert.Equal("lora.rank", Assert.Throws<ConfigurationException>(() => Bind<TextSftOptions>("""{ "lora": { "rank": 0 } }""")).Path);
    }

    [Fact]
    public void SavedModelConfigUsesTheSameKeys()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "config.json");
        new GptConfig { NEmbd = 64, NHead = 2, Activation = GptActivation.GeluTanh }.Save(path);
        var bound = Bind<GptConfig>(File.ReadAllText(path));
        Assert.Equal(GptActivation.GeluTanh, bound.Activation);
        Assert.Equal(64, GptConfig.Load(path).NEmbd);
    }
}
