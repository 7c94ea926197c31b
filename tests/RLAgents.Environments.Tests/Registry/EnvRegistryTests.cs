using RLAgents.Environments.ClassicControl;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Tests.Registry;

public sealed class EnvRegistryTests
{
    internal static readonly string PluginPath = Path.Combine(AppContext.BaseDirectory, "RLAgents.TestPlugin.dll");
    internal static readonly string CorridorSpec = PluginPath + ":RLAgents.TestPlugin.Corridor";

    [Fact]
    public void DefaultRegistryHasCartpoleWithItsLimitAndOptions()
    {
        var registry = EnvRegistry.CreateDefault();
        var r = registry.Get("CartPole-v1");
        Assert.Equal(500, r.MaxEpisodeSteps);
        Assert.Equal(typeof(CartPoleOptions), r.OptionsType);
        Assert.IsType<CartPoleOptions>(r.DefaultOptions());
        Assert.Contains(registry.All, x => x.Id == CartPole.EnvId);
    }

    [Fact]
    public void UnknownIdAndVersionErrorsNameAlternatives()
    {
        var registry = EnvRegistry.CreateDefault();
        var version = Assert.Throws<KeyNotFoundException>(() => registry.Make("CartPole-v0"));
        Assert.Contains("CartPole-v1", version.Message);
        var unknown = Assert.Throws<KeyNotFoundException>(() => registry.Get("Nope-v3"));
        Assert.Contains("Nope-v3", unknown.Message);
        Assert.Contains("CartPole-v1", unknown.Message);
    }

    [Fact]
    public void DuplicateRegistrationAndWrongOptionsTypeAreRejected()
    {
        var registry = EnvRegistry.CreateDefault();
        Assert.Throws<InvalidOperationException>(() => registry.Register(CartPole.Registration));
        var ex = Assert.Throws<ArgumentException>(() => registry.Make("CartPole-v1", new NormalizeObservationOptions()));
        Assert.Contains("CartPoleOptions", ex.Message);
    }

    [Theory]
    [InlineData("CartPole-v1", "CartPole", 1)]
    [InlineData("BabyAI-GoToLocal-v0", "BabyAI-GoToLocal", 0)]
    [InlineData("My-Env-v12", "My-Env", 12)]
    public void EnvIdParsesNameAndVersion(string text, string name, int version)
    {
        var id = EnvId.Parse(text);
        Assert.Equal(name, id.Name);
        Assert.Equal(version, id.Version);
        Assert.Equal(text, id.ToString());
    }

    [Theory]
    [InlineData("CartPole")]
    [InlineData("CartPole-v")]
    [InlineData("-v1")]
    [InlineData("CartPole-vx")]
    [InlineData("CartPole-v-1")]
    public void EnvIdRejectsMalformedText(string text)
    {
        var ex = Assert.Throws<FormatException>(() => EnvId.Parse(text));
        Assert.Contains(text, ex.Message);
    }

    [Fact]
    public void PluginLoadsWithAttributeMetadataAndOptionsType()
    {
        var registry = EnvRegistry.CreateDefault();
        var r = registry.LoadPlugin(CorridorSpec);
        Assert.Equal("Corridor-v0", r.Id.ToString());
        Assert.Equal(50, r.MaxEpisodeSteps);
        Assert.Equal("CorridorOptions", r.OptionsType.Name);
        Assert.Same(r, registry.LoadPlugin(CorridorSpec));
        Assert.True(registry.Contains("Corridor-v0"));

        using var env = registry.Make(CorridorSpec);
        Assert.Equal(50, env.Find<TimeLimit>()!.MaxEpisodeSteps);
        var first = env.Reset(seed: 3).Observation;
        Assert.Equal(3, first.Space.Count);
        Assert.Contains("go to the", first.GetText("mission"));
    }

    [Fact]
    public void PluginOptionsArePassedToTheConstructor()
    {
        var registry = EnvRegistry.CreateDefault();
        var r = registry.LoadPlugin(CorridorSpec);
        var options = r.DefaultOptions();
        r.OptionsType.GetProperty("Length")!.SetValue(options, 2);
        using var env = registry.Make("Corridor-v0", options);
        env.Reset(seed: 0);
        // With two cells the start is the non-goal cell, so the right move ends the episode in one step.
        int goal = env.Reset(seed: 0).Observation.GetInt("goal");
        var step = env.Step(goal);
        Assert.True(step.Terminated);
        Assert.Equal(1.0, step.Reward);
    }

    [Fact]
    public void ParameterlessPluginWithoutAttributeRegistersAsTypeNameV0()
    {
        var registry = EnvRegistry.CreateDefault();
        var r = registry.LoadPlugin(PluginPath + ":RLAgents.TestPlugin.CoinFlip");
        Assert.Equal("CoinFlip-v0", r.Id.ToString());
        Assert.Null(r.MaxEpisodeSteps);
        Assert.Equal(typeof(NoOptions), r.OptionsType);
        using var env = registry.Make("CoinFlip-v0");
        Assert.Null(env.Find<TimeLimit>());
        env.Reset(seed: 1);
        StepResult step = default;
        for (int t = 0; t < 10; t++) step = env.Step(t % 2);
        Assert.True(step.Terminated);
        Assert.Equal(10, step.Info.Episode!.Value.Length);
    }

    [Fact]
    public void PluginWithAMalformedDeclaredIdIsRejected()
    {
        var ex = Assert.Throws<EnvPluginException>(() => EnvRegistry.CreateDefault().LoadPlugin(PluginPath + ":RLAgents.TestPlugin.BadIdEnv"));
        Assert.Contains("no version here", ex.Message);
        Assert.Contains("BadIdEnv", ex.Message);
    }

    [Fact]
    public void PluginErrorsNameThePathOrType()
    {
        var registry = EnvRegistry.CreateDefault();
        string missing = Path.Combine(AppContext.BaseDirectory, "Missing.dll");
        var e1 = Assert.Throws<EnvPluginException>(() => registry.LoadPlugin(missing + ":X.Y"));
        Assert.Contains(missing, e1.Message);
        Assert.Contains("not found", e1.Message);

        var e2 = Assert.Throws<EnvPluginException>(() => registry.LoadPlugin(PluginPath + ":RLAgents.TestPlugin.Nope"));
        Assert.Contains("RLAgents.TestPlugin.Nope", e2.Message);
        Assert.Contains(PluginPath, e2.Message);

        var e3 = Assert.Throws<EnvPluginException>(() => registry.LoadPlugin(PluginPath + ":RLAgents.TestPlugin.NotAnEnv"));
        Assert.Contains("RLAgents.TestPlugin.NotAnEnv", e3.Message);
        Assert.Contains("IEnv", e3.Message);

        var e4 = Assert.Throws<EnvPluginException>(() => registry.LoadPlugin("no-type-given"));
        Assert.Contains("Assembly.dll:Namespace.TypeName", e4.Message);

        string notAssembly = Path.Combine(AppContext.BaseDirectory, "Fixtures", "gymnasium-1.4-cartpole-v1.jsonl");
        var e5 = Assert.Throws<EnvPluginException>(() => registry.LoadPlugin(notAssembly + ":X"));
        Assert.Contains("not a .NET assembly", e5.Message);
    }
}
