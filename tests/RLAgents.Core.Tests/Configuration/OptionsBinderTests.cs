using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Nodes;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;

namespace RLAgents.Core.Tests.Configuration;

public class OptionsBinderTests
{
    public enum Mode { Fast, SlowAndSteady }

    public sealed class Inner
    {
        [Range(0.0, 1.0)] public double Gamma { get; set; } = 0.99;
        public int[] Hidden { get; set; } = [64, 64];
    }

    public sealed class Outer : IValidatableObject
    {
        [Required] public string Name { get; set; } = "default";
        [Range(1, 1024)] public int NumEnvs { get; set; } = 8;
        public Mode Mode { get; set; } = Mode.Fast;
        public Inner Algo { get; set; } = new();
        public long? Seed { get; set; }
        public JsonElement? EnvOptions { get; set; }
        public List<string> Tags { get; set; } = new();

        public IEnumerable<ValidationResult> Validate(ValidationContext context)
        {
            if (Name == "forbidden") yield return new ValidationResult("this name is reserved", [nameof(Name)]);
        }
    }

    private static Outer Bind(string json) => OptionsBinder.Bind<Outer>(JsonDocument.Parse(json).RootElement);

    [Fact]
    public void BindsNestedValuesAndKeepsDefaults()
    {
        var o = Bind("""{"name":"x","algo":{"gamma":0.5},"mode":"slowAndSteady","seed":7,"envOptions":{"a":1},"tags":["p","q"]}""");
        Assert.Equal("x", o.Name);
        Assert.Equal(0.5, o.Algo.Gamma);
        Assert.Equal([64, 64], o.Algo.Hidden);
        Assert.Equal(8, o.NumEnvs);
        Assert.Equal(Mode.SlowAndSteady, o.Mode);
        Assert.Equal(7L, o.Seed);
        Assert.Equal(1, o.EnvOptions!.Value.GetProperty("a").GetInt32());
        Assert.Equal(["p", "q"], o.Tags);
    }

    [Theory]
    [InlineData("""{"algo":{"gama":0.5}}""", "algo.gama: unknown key; did you mean 'gamma'?")]
    [InlineData("""{"algo":{"beta":0.5}}""", "algo.beta: unknown key (known keys here: gamma, hidden)")]
    [InlineData("""{"Name":"x"}""", "Name: unknown key; did you mean 'name'?")]
    [InlineData("""{"numEnv":8}""", "numEnv: unknown key; did you mean 'numEnvs'?")]
    [InlineData("""{"numEnvs":"8"}""", "numEnvs: expected a number, got the string \"8\"")]
    [InlineData("""{"numEnvs":2.5}""", "numEnvs: expected a whole number that fits Int32, got 2.5")]
    [InlineData("""{"numEnvs":0}""", "numEnvs: 0 is out of range [1, 1024]")]
    [InlineData("""{"algo":{"gamma":1.5}}""", "algo.gamma: 1.5 is out of range [0, 1]")]
    [InlineData("""{"algo":{"hidden":[64,"a"]}}""", "algo.hidden[1]: expected a number, got the string \"a\"")]
    [InlineData("""{"mode":"turbo"}""", "mode: 'turbo' is not one of: fast, slowAndSteady")]
    [InlineData("""{"name":"forbidden"}""", "name: this name is reserved")]
    [InlineData("""{"algo":3}""", "algo: expected an object, got the number 3")]
    public void RejectsMistakesWithTheKeyPath(string json, string message)
    {
        var e = Assert.Throws<ConfigurationException>(() => Bind(json));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void OverridesParseJsonValuesAndCreateObjects()
    {
        var root = (JsonObject)JsonNode.Parse("""{"name":"x"}""")!;
        OptionsBinder.ApplyOverride(root, "algo.gamma=0.9");
        OptionsBinder.ApplyOverride(root, "name=plain text");
        OptionsBinder.ApplyOverride(root, "algo.hidden=[8,8,8]");
        var o = OptionsBinder.Bind<Outer>(JsonDocument.Parse(root.ToJsonString()).RootElement);
        Assert.Equal(0.9, o.Algo.Gamma);
        Assert.Equal("plain text", o.Name);
        Assert.Equal([8, 8, 8], o.Algo.Hidden);
    }

    [Fact]
    public void OverridesAddressArrayElementsByIndex()
    {
        var root = (JsonObject)JsonNode.Parse("""{"phases":[{"kind":"sft","sft":{"updates":5}},{"kind":"ppo","steps":10}],"grid":[[1,2],[3,4]]}""")!;
        OptionsBinder.ApplyOverride(root, "phases[0].sft.updates=800");
        OptionsBinder.ApplyOverride(root, "phases[1].steps=5000");
        OptionsBinder.ApplyOverride(root, "phases[1].ppo.epochs=4");   // a missing object inside an element is created
        OptionsBinder.ApplyOverride(root, "grid[1][0]=7");
        OptionsBinder.ApplyOverride(root, "phases[0]={\"kind\":\"bc\"}");
        Assert.Equal("""{"phases":[{"kind":"bc"},{"kind":"ppo","steps":5000,"ppo":{"epochs":4}}],"grid":[[1,2],[7,4]]}""", root.ToJsonString());

        Assert.Equal("phases[2]: is out of range: the array has 2 element(s)",
            Assert.Throws<ConfigurationException>(() => OptionsBinder.ApplyOverride(root, "phases[2].steps=1")).Message);
        Assert.Equal("phases[1].steps: is not an object, so it has no keys to set",
            Assert.Throws<ConfigurationException>(() => OptionsBinder.ApplyOverride(root, "phases[1].steps.x=1")).Message);
        Assert.Equal("phases[1].ppo: is not an array, so it cannot be indexed",
            Assert.Throws<ConfigurationException>(() => OptionsBinder.ApplyOverride(root, "phases[1].ppo[0]=1")).Message);
        Assert.Contains("is not key or key[index]", Assert.Throws<ConfigurationException>(() => OptionsBinder.ApplyOverride(root, "phases[x].steps=1")).Message);
        Assert.Equal("missing: is not set, so it has no elements to index",
            Assert.Throws<ConfigurationException>(() => OptionsBinder.ApplyOverride(root, "missing[0]=1")).Message);
    }

    [Fact]
    public void OverrideOfAnUnknownKeyFailsAtBinding()
    {
        var root = new JsonObject();
        OptionsBinder.ApplyOverride(root, "algo.lr=0.1");
        var e = Assert.Throws<ConfigurationException>(() => OptionsBinder.Bind<Outer>(JsonDocument.Parse(root.ToJsonString()).RootElement));
        Assert.StartsWith("algo.lr: unknown key", e.Message);
    }

    [Fact]
    public void MalformedAssignmentsAndFilesAreConfigurationErrors()
    {
        Assert.Throws<ConfigurationException>(() => OptionsBinder.ApplyOverride(new JsonObject(), "novalue"));
        var missing = Assert.Throws<ConfigurationException>(() => OptionsBinder.LoadFile("/nonexistent/x.json"));
        Assert.Contains("does not exist", missing.Message);
        using var dir = new TempDirectory();
        string bad = dir.Combine("bad.json");
        File.WriteAllText(bad, "{\"a\": }");
        var malformed = Assert.Throws<ConfigurationException>(() => OptionsBinder.LoadFile(bad));
        Assert.Contains("not valid JSON (line 1", malformed.Message);
    }

    [Fact]
    public void SerializedOptionsBindBackToEqualValues()
    {
        var o = Bind("""{"name":"x","algo":{"gamma":0.25},"mode":"slowAndSteady","seed":3}""");
        var back = Bind(OptionsBinder.Serialize(o));
        Assert.Equal(OptionsBinder.Serialize(o), OptionsBinder.Serialize(back));
        Assert.Equal(Mode.SlowAndSteady, back.Mode);
    }
}
