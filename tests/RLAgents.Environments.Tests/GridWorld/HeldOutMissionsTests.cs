using RLAgents.Environments.Configuration;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;

namespace RLAgents.Environments.Tests.GridWorld;

public sealed class HeldOutMissionsTests
{
    private static readonly string[] Pairs = ["red ball", "green box", "blue key"];

    private static bool NamesAPair(string mission) => Pairs.Any(p => mission.EndsWith(" " + p, StringComparison.Ordinal));

    [Fact]
    public void ExcludedPairsNeverAppearInEpisodesAndOnlyModeGivesNothingElse()
    {
        using var excluded = BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { HeldOut = Pairs });
        using var only = BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { HeldOut = Pairs, HeldOutMode = HeldOutMode.Only });
        using var plain = BabyAILevels.Make("BabyAI-GoToLocal-v0");
        int plainHeldOut = 0;
        for (int seed = 0; seed < 300; seed++)
        {
            excluded.Reset(seed);
            only.Reset(seed);
            plain.Reset(seed);
            Assert.False(NamesAPair(excluded.Mission), $"seed {seed}: '{excluded.Mission}' is held out");
            Assert.True(NamesAPair(only.Mission), $"seed {seed}: '{only.Mission}' is not held out");
            if (NamesAPair(plain.Mission)) plainHeldOut++;
        }
        // The filter matters: about 3 of GoToLocal's 18 colour-type pairs would otherwise appear.
        Assert.InRange(plainHeldOut, 20, 100);
    }

    [Fact]
    public void EpisodesThatPassAreTheLevelsOwnAndTheFilterIsSeeded()
    {
        using var filtered = BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { HeldOut = Pairs });
        using var again = BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { HeldOut = Pairs });
        using var plain = BabyAILevels.Make("BabyAI-GoToLocal-v0");
        for (int seed = 0; seed < 50; seed++)
        {
            filtered.Reset(seed);
            again.Reset(seed);
            plain.Reset(seed);
            Assert.Equal(filtered.Mission, again.Mission);
            Assert.Equal(filtered.RenderAscii(), again.RenderAscii());
            // An accepted first draw is exactly the unfiltered episode: rejection only redraws.
            if (!NamesAPair(plain.Mission)) Assert.Equal(plain.RenderAscii(), filtered.RenderAscii());
        }
    }

    [Fact]
    public void TheBotsDemonstrationsAvoidTheHeldOutPairs()
    {
        using var env = BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { HeldOut = Pairs });
        var expert = Experts.For(env);
        for (int seed = 0; seed < 20; seed++)
        {
            var episode = Experts.Play(env, expert, seed);
            Assert.NotNull(episode);
            Assert.False(NamesAPair(episode.Observations[0].GetText("mission")));
            Assert.True(episode.Success);
        }
    }

    [Theory]
    [InlineData("crimson ball", "'crimson' is not a colour")]
    [InlineData("red wall", "'wall' in 'red wall' is not an object an instruction describes")]
    [InlineData("red", "'red' is not a colour–object pair")]
    public void AMalformedPairIsNamedInOneLine(string pair, string expected)
    {
        var json = System.Text.Json.JsonDocument.Parse($"{{\"heldOut\": [\"blue box\", \"{pair}\"]}}").RootElement;
        var error = Assert.Throws<ConfigurationException>(() => OptionsBinder.Bind<GridWorldOptions>(json, "env.options"));
        Assert.StartsWith("env.options.heldOut: [1]: ", error.Message);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void ALevelThatNeverDescribesAHeldOutPairSaysSo()
    {
        using var env = BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { HeldOut = ["red door"], HeldOutMode = HeldOutMode.Only });
        var error = Assert.Throws<InvalidOperationException>(() => env.Reset(0));
        Assert.Contains("BabyAI-GoToLocal-v0: no episode in 10000 describes the held-out pairs red door", error.Message);
    }
}
