using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Demonstrations;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.GridWorld.Rendering;

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
    public void DemonstrationsRoundTripAndReplayToTheSameViews()
    {
        string dir = Path.Combine(Path.GetTempPath(), "rlagents-demos-" + Guid.NewGuid().ToString("N"));
        string path = Path.Combine(dir, "demos.jsonl");
        try
        {
            var summary = DemoGenerator.Generate("BabyAI-PutNextLocal-v0", 5, seed: 9, path, includeDescriptions: true);
            Assert.Equal(5, summary.Written);
            Assert.False(File.Exists(path + ".tmp"));
            var demos = DemonstrationReader.ReadAll(path);
            Assert.Equal(5, demos.Count);
            using var env = BabyAILevels.Make("BabyAI-PutNextLocal-v0");
            foreach (var d in demos)
            {
                Assert.True(d.Success);
                Assert.Equal(d.Rewards[^1], d.Return);
                var obs = env.Reset(d.Seed).Observation;
                Assert.Equal(d.Mission, env.Mission);
                for (int t = 0; t < d.Length; t++)
                {
                    Assert.Equal(d.Images[t], obs.Bytes("image").ToArray());
                    Assert.Equal(d.Directions[t], obs.GetInt("direction"));
                    Assert.Equal(d.Descriptions![t], obs.GetText("description"));
                    var r = env.Step(d.Actions[t]);
                    Assert.Equal(d.Rewards[t], r.Reward);
                    obs = r.Observation;
                }
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void DemonstrationReaderNamesTheLineAndKeyOfBadInput()
    {
        var bad = "{\"format\":\"rlagents-demos-v1\",\"env_id\":\"BabyAI-GoToLocal-v0\",\"seed\":1,\"mission\":\"m\",\"actions\":[1],\"images\":[\"AAAA\"],\"directions\":[0],\"rewards\":[0],\"success\":false}";
        var e = Assert.Throws<FormatException>(() => DemonstrationReader.Read(new StringReader("\n" + bad), "demos.jsonl").ToList());
        Assert.Contains("demos.jsonl:2", e.Message);
        Assert.Contains("image 0 has 3 bytes", e.Message);
        var missing = Assert.Throws<FormatException>(() => DemonstrationReader.Parse("{\"format\":\"rlagents-demos-v1\"}", "x:1"));
        Assert.Contains("$.env_id", missing.Message);
    }
}
