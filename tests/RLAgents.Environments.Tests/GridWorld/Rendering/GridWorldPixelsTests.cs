using RLAgents.Environments.Checking;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.GridWorld.Rendering;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Tests.GridWorld.Rendering;

public sealed class GridWorldPixelsTests
{
    private static readonly GridWorldOptions NoDescription = new() { IncludeDescription = false };

    public static TheoryData<string> OneRoomLevels() => new() { "BabyAI-GoToRedBallGrey-v0", "BabyAI-GoToLocal-v0", "BabyAI-PickupLoc-v0" };

    /// <summary>All three pictures as added modalities over one env: agent view, full frame, highlighted full frame.</summary>
    private static IEnv AllViews(IEnv env, (int, int)? gridSize = null) =>
        new GridWorldPixels(new GridWorldPixels(new GridWorldPixels(env,
            new PixelObservationOptions { View = PixelView.Agent, Modality = "pov" }),
            new PixelObservationOptions { View = PixelView.Full, Modality = "full" }, gridSize),
            new PixelObservationOptions { View = PixelView.FullHighlighted, Modality = "full_hl" }, gridSize);

    [Theory]
    [MemberData(nameof(OneRoomLevels))]
    public void StepByStepReplayThroughTheWrappersMatchesMinigridsPictures(string level)
    {
        var episode = MinigridRgbFixture.Get(level);
        var first = episode.Frames[0];
        // The mission names the target, e.g. "go to the red ball" / "pick up the grey key".
        var words = episode.Mission.Split(' ');
        var type = GridConstants.ParseType(words[^1]);
        var color = GridConstants.ParseColor(words[^2]);
        var kind = episode.Mission.StartsWith("pick up", StringComparison.Ordinal) ? InstructionKind.Pickup : InstructionKind.GoTo;
        var target = new DescriptionSpec(type, color, null, MinigridRgbFixture.Positions(first.Grid, episode.Width, episode.Height, type, color));
        var layout = new GridWorldLayout(episode.Width, episode.Height, first.Grid, first.X, first.Y, first.Dir, new InstructionSpec(kind, target), episode.MaxSteps, episode.Mission);
        // The level's id: the full views take the grid size from the BabyAI level.
        using var env = AllViews(GridWorldEnv.FromLayout(layout, NoDescription, EnvId.Parse(level)));
        var obs = env.Reset(0).Observation;
        for (int k = 0; ; k++)
        {
            var frame = episode.Frames[k];
            Assert.Equal(frame.Image, obs.Bytes("image").ToArray());
            PictureAssert.Equal(frame.AgentView, obs.Bytes("pov"), 56, $"{level} frame {k} agent view");
            PictureAssert.Equal(frame.Full, obs.Bytes("full"), 8 * episode.Width, $"{level} frame {k} full frame");
            PictureAssert.Equal(frame.FullHighlighted, obs.Bytes("full_hl"), 8 * episode.Width, $"{level} frame {k} highlighted full frame");
            if (k == episode.Actions.Length) break;
            var r = env.Step(episode.Actions[k]);
            Assert.False(r.Done);
            obs = r.Observation;
        }
    }

    [Fact]
    public void BossLevelStatesRenderThroughTheWrappersAsMinigrid()
    {
        var episode = MinigridRgbFixture.Get("BabyAI-BossLevel-v0");
        foreach (var frame in episode.Frames)
        {
            using var env = AllViews(MinigridRgbFixture.StateEnv(episode, frame), (22, 22)); // BossLevel's 3x3 rooms of 8
            var obs = env.Reset(0).Observation;
            Assert.Equal([176, 176, 3], ((BoxSpace)env.ObservationSpace["full"].Space).ShapeArray());
            PictureAssert.Equal(frame.AgentView, obs.Bytes("pov"), 56, $"frame {frame.Index} agent view");
            PictureAssert.Equal(frame.Full, obs.Bytes("full"), 176, $"frame {frame.Index} full frame");
            PictureAssert.Equal(frame.FullHighlighted, obs.Bytes("full_hl"), 176, $"frame {frame.Index} highlighted full frame");
        }
    }

    [Fact]
    public void TheDefaultReplacesTheSymbolicImageInPlaceWithA56By56RgbBox()
    {
        using var env = new GridWorldPixels(BabyAILevels.Make("BabyAI-GoToLocal-v0"), new PixelObservationOptions());
        var space = env.ObservationSpace;
        Assert.Equal(["image", "direction", "mission", "description"], space.Modalities.Select(m => m.Name));
        var image = (BoxSpace)space["image"].Space;
        Assert.Equal(DType.UInt8, image.DType);
        Assert.Equal([56, 56, 3], image.ShapeArray());
        Assert.True(ImageModalities.IsPixelImage(image));
        var obs = env.Reset(3).Observation;
        Assert.True(space.Contains(obs));
        var world = env.Find<GridWorldEnv>()!;
        Assert.Equal(new TileRenderer(8).RenderView(world.Image), obs.Bytes("image").ToArray());
        Assert.Equal(world.Mission, obs.GetText("mission"));
        Assert.Equal(world.AgentDir, obs.GetInt("direction"));
    }

    [Theory]
    [InlineData(PixelView.Agent, 8)]
    [InlineData(PixelView.FullHighlighted, 4)]
    public void WrappedLevelsPassTheEnvironmentChecker(PixelView view, int tileSize)
    {
        var registry = EnvRegistry.CreateDefault();
        var report = EnvChecker.Check(() => new GridWorldPixels(registry.Make("BabyAI-GoToLocal-v0", NoDescription),
            new PixelObservationOptions { View = view, TileSize = tileSize }), steps: 300, seed: 5);
        Assert.True(report.Passed, report.ToString());
    }

    [Theory]
    [InlineData(false, AutoresetMode.SameStep)]
    [InlineData(true, AutoresetMode.SameStep)]
    [InlineData(false, AutoresetMode.NextStep)]
    public void VectorEnvsCarryPicturesOfTheirOwnStatesThroughAutoreset(bool threaded, AutoresetMode mode)
    {
        const int n = 4;
        static IEnv Make(int _) => new GridWorldPixels(BabyAILevels.Make("BabyAI-GoToRedBallGrey-v0", NoDescription),
            new PixelObservationOptions { Modality = "rgb" });
        using IVectorEnv vec = threaded ? new ThreadedVectorEnv(Make, n, mode, workers: 2) : new SyncVectorEnv(Make, n, mode);
        var renderer = new TileRenderer(8);
        int image = vec.SingleObservationSpace.IndexOf("image"), rgb = vec.SingleObservationSpace.IndexOf("rgb");
        var rng = new Rng(11UL);
        var actions = new int[n];
        int ended = 0;
        vec.Reset(2);
        for (int t = 0; t < 200; t++)
        {
            for (int i = 0; i < n; i++) actions[i] = rng.NextInt(GridConstants.ActionCount);
            vec.Step(actions);
            for (int i = 0; i < n; i++)
            {
                AssertPictureOf(vec.Observations, i);
                if (mode == AutoresetMode.SameStep && (vec.Terminated[i] || vec.Truncated[i]))
                {
                    ended++;
                    AssertPictureOf(vec.FinalObservations, i);
                    Assert.False(vec.FinalObservations.Bytes(rgb).AsSpan(i * 9408, 9408).SequenceEqual(vec.Observations.Bytes(rgb).AsSpan(i * 9408, 9408)));
                }
            }
        }
        if (mode == AutoresetMode.SameStep) Assert.True(ended > 0, "some episodes should end within 200 steps");

        void AssertPictureOf(ObservationBatch batch, int i) =>
            Assert.Equal(renderer.RenderView(batch.Bytes(image).AsSpan(i * 147, 147)), batch.Bytes(rgb).AsSpan(i * 9408, 9408).ToArray());
    }

    [Theory]
    [InlineData(PixelView.Agent)]
    [InlineData(PixelView.FullHighlighted)]
    public void StepsAllocateNothing(PixelView view)
    {
        // The red ball is walled in, so random play never ends the episode (a reset builds a new grid).
        var g = TestWorlds.Room(8, 8);
        g.Put(6, 6, ObjectType.Ball, GridColor.Red);
        g.Put(5, 6, ObjectType.Wall, GridColor.Grey);
        g.Put(6, 5, ObjectType.Wall, GridColor.Grey);
        g.Put(3, 3, ObjectType.Door, GridColor.Blue, DoorState.Closed);
        g.Put(2, 5, ObjectType.Key, GridColor.Yellow);
        var instruction = new GoToInstruction(TestWorlds.Bound(g, ObjectType.Ball, GridColor.Red, (6, 6)));
        using var env = new GridWorldPixels(TestWorlds.Env(g, 1, 1, 0, instruction, maxSteps: 1_000_000), new PixelObservationOptions { View = view }, (8, 8));
        env.Reset(0);
        var rng = new Rng(5UL);
        var actions = new int[4000];
        // Every action but drop, whose verifier update re-lists object positions (an allocation of the env, not of rendering).
        for (int i = 0; i < actions.Length; i++) actions[i] = rng.NextInt(6) is var a && a == (int)GridAction.Drop ? (int)GridAction.Done : a;
        Run(env, actions); // paints every tile met and warms the JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(env, actions);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        static void Run(IEnv env, int[] actions)
        {
            foreach (int a in actions) Assert.False(env.Step(a).Done);
        }
    }

    [Fact]
    public void MisuseIsReportedInOneLineNamingTheOption()
    {
        var once = new GridWorldPixels(BabyAILevels.Make("BabyAI-GoToLocal-v0"), new PixelObservationOptions());
        var twice = Assert.Throws<ConfigurationException>(() => new GridWorldPixels(once, new PixelObservationOptions()));
        Assert.Contains("symbolic 7x7x3 'image'", twice.Message);
        once.Dispose();

        using var plain = new GridWorldPixels(BabyAILevels.Make("BabyAI-GoToLocal-v0"), new PixelObservationOptions { Modality = "rgb" });
        var clash = Assert.Throws<ConfigurationException>(() => new GridWorldPixels(plain, new PixelObservationOptions { Modality = "rgb" }));
        Assert.Equal("env.pixels.modality", clash.Path);

        var g = TestWorlds.Room(8, 8);
        g.Put(3, 3, ObjectType.Ball, GridColor.Red);
        using var layout = TestWorlds.Env(g, 1, 1, 0, new GoToInstruction(TestWorlds.Bound(g, ObjectType.Ball, GridColor.Red, (3, 3))));
        var unknownSize = Assert.Throws<ConfigurationException>(() => new GridWorldPixels(layout, new PixelObservationOptions { View = PixelView.Full }));
        Assert.Contains("grid size of GridWorld-Test-v0", unknownSize.Message);
        using var wrongSize = new GridWorldPixels(layout, new PixelObservationOptions { View = PixelView.Full }, (9, 8));
        var e = Assert.Throws<InvalidOperationException>(() => wrongSize.Reset(0));
        Assert.Contains("grid is 8x8", e.Message);
        Assert.Throws<ConfigurationException>(() => new GridWorldPixels(layout, new PixelObservationOptions { TileSize = 0 }));
    }

    [Fact]
    public void LevelGridSizesFollowRoomGridGeometry()
    {
        Assert.Equal((8, 8), GridWorldPixels.LevelGridSize(EnvId.Parse("BabyAI-GoToLocal-v0")));
        Assert.Equal((22, 22), GridWorldPixels.LevelGridSize(EnvId.Parse("BabyAI-GoTo-v0")));
        Assert.Null(GridWorldPixels.LevelGridSize(EnvId.Parse("CartPole-v1")));
    }
}
