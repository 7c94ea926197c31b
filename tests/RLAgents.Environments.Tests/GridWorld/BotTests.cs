using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Bot;
using RLAgents.Environments.GridWorld.Levels;

namespace RLAgents.Environments.Tests.GridWorld;

public sealed class BotTests
{
    [Theory]
    [MemberData(nameof(FixtureReplayTests.EpisodeIndices), MemberType = typeof(FixtureReplayTests))]
    public void BotChoosesMinigridsBotActionsOnFixtureLayouts(int index)
    {
        var ep = FixtureReplayTests.Episode(index);
        using var env = GridWorldEnv.FromLayout(GridWorldLayout.FromJson(ep), new GridWorldOptions { IncludeDescription = false });
        env.Reset(0);
        var bot = new BabyAIBot(env);
        var expected = ep.GetProperty("actions").EnumerateArray().Select(a => a.GetInt32()).ToArray();
        var actual = new List<int>();
        foreach (var _ in expected)
        {
            int a = bot.Act();
            actual.Add(a);
            if (env.Step(a).Done) break;
        }
        Assert.Equal(expected, actual);
    }

    public static TheoryData<string> SolvedLevels() => new(BabyAILevels.All.Keys.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(SolvedLevels))]
    public void BotSolvesEveryLevel(string id)
    {
        int episodes = id.Contains("GoTo-") || id.Contains("Open-") || id.Contains("Pickup-") || id.Contains("UnlockLocal") ? 60 : 200;
        var stats = BotEvaluation.Run(id, episodes, seed: 1234);
        Assert.True(stats.SuccessRate >= 0.99, $"{id}: success {stats.SuccessRate:P1} over {episodes} episodes");
    }
}

public sealed class ExpertPolicyTests
{
    [Fact]
    public void ExpertPolicyReplansAcrossEpisodesAndSolvesThem()
    {
        using var env = BabyAILevels.Make("BabyAI-PickupLoc-v0", new GridWorldOptions { IncludeDescription = false });
        var policy = new ExpertPolicy();
        int successes = 0;
        env.Reset(100);
        for (int episode = 0; episode < 20;)
        {
            var r = env.Step(policy.Act(env));
            if (!r.Done) continue;
            if (r.Info.IsSuccess == true) successes++;
            episode++;
            env.Reset();
        }
        Assert.Equal(20, successes);
    }

    [Fact]
    public void BotRecoversWhenTheAgentTakesOtherActions()
    {
        // DAgger-style use: every third step the agent turns instead of following the bot.
        using var env = BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { IncludeDescription = false });
        var policy = new ExpertPolicy();
        int successes = 0;
        for (int seed = 0; seed < 20; seed++)
        {
            env.Reset(seed);
            int? taken = null;
            for (int t = 0; ; t++)
            {
                int suggested = policy.Act(env, taken);
                int action = t % 3 == 2 ? (int)GridAction.Left : suggested;
                taken = action;
                var r = env.Step(action);
                if (!r.Done) continue;
                if (r.Info.IsSuccess == true) successes++;
                break;
            }
        }
        Assert.True(successes >= 19, $"{successes}/20");
    }
}
