using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.GridWorld.Rendering;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Tests.GridWorld;

public sealed class ObservationExtrasTests
{
    [Fact]
    public void DescriptionNamesVisibleObjectsRelativeToTheAgent()
    {
        var g = TestWorlds.Room(7, 7);
        g.Put(2, 3, ObjectType.Ball, GridColor.Red);           // 2 forward, 1 left of (3,5) facing north
        g.Put(4, 5, ObjectType.Door, GridColor.Blue, DoorState.Locked); // 1 right
        var instr = new GoToInstruction(TestWorlds.Bound(g, ObjectType.Ball, GridColor.Red, (2, 3)));
        using var env = TestWorlds.Env(g, 3, 5, 3, instr, description: true);
        string text = env.CurrentObservation.GetText("description");
        Assert.Equal("You see a wall 5 steps forward. You see a wall 3 steps left. You see a locked blue door 1 step right. You see a red ball 2 steps forward and 1 step left.", text);
    }

    [Fact]
    public void DescriptionMentionsTheCarriedObjectAndIsCachedWhileTheViewIsUnchanged()
    {
        var g = TestWorlds.Room(5, 5);
        g.Put(2, 1, ObjectType.Key, GridColor.Yellow);
        g.Put(3, 3, ObjectType.Ball, GridColor.Grey);
        var instr = new GoToInstruction(TestWorlds.Bound(g, ObjectType.Ball, GridColor.Grey, (3, 3)));
        using var env = TestWorlds.Env(g, 1, 1, 0, instr, description: true);
        env.Step((int)GridAction.Pickup);
        string first = env.CurrentObservation.GetText("description");
        Assert.EndsWith("You carry a yellow key.", first);
        env.Step((int)GridAction.Pickup); // nothing changes
        Assert.Same(first, env.CurrentObservation.GetText("description"));
    }

    [Fact]
    public void RgbViewRenderingIsAPureFunctionOfTheImage()
    {
        using var env = BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { IncludeDescription = false });
        env.Reset(1);
        var renderer = new TileRenderer(8);
        var a = renderer.RenderView(env.Image);
        var b = new TileRenderer(8).RenderView(env.Image.ToArray());
        Assert.Equal(7 * 8 * 7 * 8 * 3, a.Length);
        Assert.Equal(a, b);
        // The agent's tile (bottom centre) holds the red triangle.
        int cx = 3 * 8 + 4, cy = 6 * 8 + 4;
        int o = (cy * 56 + cx) * 3;
        Assert.True(a[o] > 200 && a[o + 1] < 120, $"agent pixel {a[o]},{a[o + 1]},{a[o + 2]}");
        var frame = renderer.RenderEnv(env);
        Assert.Equal(env.Grid.Width * 8 * env.Grid.Height * 8 * 3, frame.Length);
        // A wall tile's centre is grey (100,100,100), highlighted or not.
        int wo = ((4) * env.Grid.Width * 8 + 4) * 3;
        Assert.True(frame[wo] >= 100 && frame[wo] == frame[wo + 1] && frame[wo + 1] == frame[wo + 2]);
    }

    [Fact]
    public void TheExpertCapabilityPlaysSuccessfulEpisodesThatReplayToTheSameViews()
    {
        using var env = BabyAILevels.Make("BabyAI-PutNextLocal-v0", new GridWorldOptions { IncludeDescription = true });
        // Through a wrapper, as generic code meets environments: the capability is found underneath.
        IEnv wrapped = new RecordEpisodeStatistics(env);
        var expert = Experts.For(wrapped);
        using var replay = BabyAILevels.Make("BabyAI-PutNextLocal-v0", new GridWorldOptions { IncludeDescription = true });
        for (long seed = 9; seed < 14; seed++)
        {
            var d = Experts.Play(wrapped, expert, seed);
            Assert.NotNull(d);
            Assert.True(d.Success);
            Assert.True(d.Rewards[^1] > 0);
            var obs = replay.Reset(seed).Observation;
            for (int t = 0; t < d.Length; t++)
            {
                Assert.True(d.Observations[t].ContentEquals(obs), $"seed {seed} step {t}: the expert's observation differs from a replay's");
                var r = replay.Step(d.Actions[t]);
                Assert.Equal(d.Rewards[t], r.Reward);
                obs = r.Observation;
            }
        }
    }

    [Fact]
    public void AnEnvWithoutAnExpertIsNamedInOneLine()
    {
        using var env = new RLAgents.Environments.ClassicControl.CartPole();
        var e = Assert.Throws<NotSupportedException>(() => Experts.For(env));
        Assert.Equal("CartPole-v1 has no expert policy (it does not implement IExpertEnv); expert demonstrations need one.", e.Message);
    }
}
