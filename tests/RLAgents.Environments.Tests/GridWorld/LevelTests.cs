using System.Text.RegularExpressions;
using RLAgents.Environments.Checking;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;

namespace RLAgents.Environments.Tests.GridWorld;

public sealed class LevelTests
{
    public static TheoryData<string> AllLevels() => new(BabyAILevels.All.Keys.Order(StringComparer.Ordinal));

    [Theory]
    [InlineData("BabyAI-GoToRedBallGrey-v0", 64, 8, 8)]
    [InlineData("BabyAI-GoToRedBall-v0", 64, 8, 8)]
    [InlineData("BabyAI-GoToLocal-v0", 64, 8, 8)]
    [InlineData("BabyAI-PickupLoc-v0", 64, 8, 8)]
    [InlineData("BabyAI-PutNextLocal-v0", 128, 8, 8)]
    [InlineData("BabyAI-GoTo-v0", 576, 22, 22)]
    [InlineData("BabyAI-Open-v0", 576, 22, 22)]
    [InlineData("BabyAI-GoToDoor-v0", 441, 19, 19)]
    [InlineData("BabyAI-PickupDist-v0", 49, 7, 7)]
    [InlineData("BabyAI-UnlockLocal-v0", 576, 22, 22)]
    // Levels with a fixed budget (MINIGRID-SEMANTICS.md §11; UnlockPickup's intended 288, not Minigrid's 72).
    [InlineData("BabyAI-PutNextS5N2-v0", 200, 9, 5)]
    [InlineData("BabyAI-PutNextS7N4Carrying-v0", 392, 13, 7)]
    [InlineData("BabyAI-UnlockPickup-v0", 288, 11, 6)]
    [InlineData("BabyAI-BlockedUnlockPickup-v0", 576, 11, 6)]
    [InlineData("BabyAI-UnlockToUnlock-v0", 1080, 16, 6)]
    [InlineData("BabyAI-OpenTwoDoors-v0", 720, 16, 16)]
    [InlineData("BabyAI-OpenDoorsOrderN4-v0", 720, 16, 16)]
    [InlineData("BabyAI-FindObjS5-v0", 500, 13, 13)]
    [InlineData("BabyAI-KeyCorridorS3R1-v0", 270, 7, 3)]
    [InlineData("BabyAI-KeyCorridor-v0", 1080, 16, 16)]
    [InlineData("BabyAI-MoveTwoAcrossS5N2-v0", 400, 9, 5)]
    [InlineData("BabyAI-PickupAbove-v0", 288, 16, 16)]
    // One-action levels: navs · room_size² · rooms.
    [InlineData("BabyAI-OneRoomS8-v0", 64, 8, 8)]
    [InlineData("BabyAI-OneRoomS20-v0", 400, 20, 20)]
    [InlineData("BabyAI-ActionObjDoor-v0", 441, 19, 19)]
    [InlineData("BabyAI-GoToImpUnlock-v0", 576, 22, 22)]
    [InlineData("BabyAI-KeyInBox-v0", 576, 22, 22)]
    [InlineData("BabyAI-OpenDoor-v0", 576, 22, 22)]
    [InlineData("BabyAI-GoToObjMazeS4R2-v0", 64, 7, 7)]
    [InlineData("BabyAI-GoToObjS6-v1", 36, 6, 6)]
    public void LevelsHaveMinigridsSizeAndStepBudget(string id, int maxSteps, int width, int height)
    {
        using var env = BabyAILevels.Make(id);
        env.Reset(3);
        Assert.Equal(maxSteps, env.MaxSteps);
        Assert.Equal((width, height), env.Size);
        Assert.Equal(maxSteps, EnvRegistry.CreateDefault().Get(id).MaxEpisodeSteps);
    }

    [Theory]
    [InlineData("BabyAI-BossLevel-v0", 576, 8 * 576)]
    [InlineData("BabyAI-MiniBossLevel-v0", 100, 8 * 100)]
    [InlineData("BabyAI-GoToSeq-v0", 576, 4 * 576)]
    [InlineData("BabyAI-Synth-v0", 576, 2 * 576)]
    public void LevelGenBudgetsCountNavigationsAndTheRegistrationDeclaresTheLargest(string id, int perNavigation, int largest)
    {
        using var env = BabyAILevels.Make(id, new GridWorldOptions { IncludeDescription = false });
        var budgets = new HashSet<int>();
        for (int s = 0; s < 40; s++)
        {
            env.Reset(s);
            Assert.Equal(perNavigation * env.Instruction.NavigationsNeeded, env.MaxSteps);
            budgets.Add(env.MaxSteps);
        }
        Assert.True(budgets.Count >= 2, $"{id}: one budget only");
        Assert.Equal(largest, EnvRegistry.CreateDefault().Get(id).MaxEpisodeSteps);
    }

    [Fact]
    public void RegistryListsEveryLevelWithVersionedIds()
    {
        var registry = EnvRegistry.CreateDefault();
        foreach (var id in new[] { "BabyAI-GoToRedBallGrey-v0", "BabyAI-GoToRedBall-v0", "BabyAI-GoToLocal-v0", "BabyAI-PickupLoc-v0", "BabyAI-PutNextLocal-v0", "BabyAI-GoTo-v0", "BabyAI-Open-v0" })
        {
            var reg = registry.Get(id);
            Assert.Equal(typeof(GridWorldOptions), reg.OptionsType);
            using var env = reg.CreateUnwrapped(new GridWorldOptions { IncludeDescription = false });
            Assert.Equal(3, env.ObservationSpace.Count);
            Assert.Equal(id, env.Id.ToString());
        }
        var e = Assert.Throws<KeyNotFoundException>(() => registry.Get("BabyAI-GoToLocal-v9"));
        Assert.Contains("BabyAI-GoToLocal-v0", e.Message);
    }

    [Theory]
    [MemberData(nameof(AllLevels))]
    public void EveryLevelPassesTheEnvironmentChecker(string id)
    {
        var registry = EnvRegistry.CreateDefault();
        var report = EnvChecker.Check(() => registry.Make(id), steps: 300, seed: 3);
        Assert.True(report.Passed, string.Join("\n", report.Failures));
    }

    [Fact]
    public void RegistryMakeTruncatesTogetherWithTheEnvironment()
    {
        using var env = EnvRegistry.CreateDefault().Make("BabyAI-GoToRedBallGrey-v0", new GridWorldOptions { IncludeDescription = false });
        env.Reset(1);
        int steps = 0;
        StepResult r;
        do { r = env.Step((int)GridAction.Done); steps++; } while (!r.Done);
        Assert.Equal(64, steps);
        Assert.True(r.Truncated);
        Assert.False(r.Terminated);
    }

    [Fact]
    public void ObservationModalitiesComeInTheirFixedOrder()
    {
        using var env = BabyAILevels.Make("BabyAI-GoToLocal-v0");
        var names = env.ObservationSpace.Modalities.Select(m => m.Name).ToArray();
        Assert.Equal(new[] { "image", "direction", "mission", "description" }, names);
        Assert.Equal(new[] { 7, 7, 3 }, ((BoxSpace)env.ObservationSpace["image"].Space).ShapeArray());
        var obs = env.Reset(11).Observation;
        Assert.Null(env.ObservationSpace.Violation(obs));
        Assert.Equal(env.Mission, obs.GetText("mission"));
        Assert.StartsWith("You see", obs.GetText("description"));
    }

    [Theory]
    [InlineData("BabyAI-GoToLocal-v0")]
    [InlineData("BabyAI-GoTo-v0")]
    [InlineData("BabyAI-PutNextLocal-v0")]
    [InlineData("BabyAI-PickupLoc-v0")]
    public void SameSeedGivesTheSameLevelAndOtherSeedsDiffer(string id)
    {
        using var a = BabyAILevels.Make(id);
        using var b = BabyAILevels.Make(id);
        a.Reset(42);
        b.Reset(42);
        Assert.Equal(a.EncodeFullGrid(), b.EncodeFullGrid());
        Assert.Equal((a.AgentX, a.AgentY, a.AgentDir, a.Mission), (b.AgentX, b.AgentY, b.AgentDir, b.Mission));
        var layouts = new HashSet<string>();
        for (int s = 0; s < 20; s++)
        {
            a.Reset(s);
            layouts.Add(Convert.ToBase64String(a.EncodeFullGrid()));
        }
        Assert.True(layouts.Count >= 19, $"{id}: only {layouts.Count} distinct layouts over 20 seeds");
    }

    [Theory]
    [InlineData("BabyAI-GoToRedBallGrey-v0", @"^go to the red ball$")]
    [InlineData("BabyAI-GoToLocal-v0", @"^go to (a|the) (red|green|blue|purple|yellow|grey) (key|ball|box)$")]
    [InlineData("BabyAI-PickupLoc-v0", @"^pick up (a|the) ((red|green|blue|purple|yellow|grey) )?(key|ball|box)( (in front of you|behind you|on your left|on your right))?$")]
    [InlineData("BabyAI-PutNextLocal-v0", @"^put the (red|green|blue|purple|yellow|grey) (key|ball|box) next to the (red|green|blue|purple|yellow|grey) (key|ball|box)$")]
    [InlineData("BabyAI-Open-v0", @"^open (a|the) (red|green|blue|purple|yellow|grey) door$")]
    [InlineData("BabyAI-GoToDoor-v0", @"^go to (a|the) (red|green|blue|purple|yellow|grey) door$")]
    public void MissionsFollowBabyAIsGrammar(string id, string pattern)
    {
        using var env = BabyAILevels.Make(id, new GridWorldOptions { IncludeDescription = false });
        for (int s = 0; s < 30; s++)
        {
            env.Reset(s);
            Assert.Matches(new Regex(pattern), env.Mission);
        }
    }

    [Fact]
    public void GeneratedLevelsRespectBabyAIsConstraints()
    {
        using var env = BabyAILevels.Make("BabyAI-GoToRedBallGrey-v0", new GridWorldOptions { IncludeDescription = false });
        for (int s = 0; s < 50; s++)
        {
            env.Reset(s);
            var g = env.Grid;
            var objects = Enumerable.Range(0, g.Width * g.Height).Select(i => g.Get(i % g.Width, i / g.Width)).Where(o => o is { Type: not ObjectType.Wall }).ToList();
            Assert.Equal(8, objects.Count);
            Assert.Single(objects, o => o!.Color == GridColor.Red);
            Assert.All(objects.Where(o => o!.Color != GridColor.Red), o => Assert.Equal(GridColor.Grey, o!.Color));
            // The agent never starts facing an object, and objects are not placed next to it.
            Assert.True(env.FrontCell() is null or { Type: ObjectType.Wall });
        }
        using var put = BabyAILevels.Make("BabyAI-PutNextLocal-v0", new GridWorldOptions { IncludeDescription = false });
        for (int s = 0; s < 50; s++)
        {
            put.Reset(s);
            var instr = (PutNextInstruction)put.Instruction;
            Assert.False(instr.ObjectsNext());
            Assert.Single(instr.Move.Objects);
            Assert.Single(instr.Fixed.Objects);
        }
    }

    [Fact]
    public void FullGridEncodingRoundTripsThroughALayout()
    {
        using var env = BabyAILevels.Make("BabyAI-Open-v0", new GridWorldOptions { IncludeDescription = false });
        env.Reset(5);
        var instr = (OpenInstruction)env.Instruction;
        var spec = new InstructionSpec(InstructionKind.Open, new DescriptionSpec(ObjectType.Door, instr.Target.Color, null, instr.Target.Positions.ToList()));
        var layout = new GridWorldLayout(env.Grid.Width, env.Grid.Height, env.EncodeFullGrid(), env.AgentX, env.AgentY, env.AgentDir, spec, env.MaxSteps);
        using var copy = GridWorldEnv.FromLayout(layout, new GridWorldOptions { IncludeDescription = false });
        copy.Reset(0);
        Assert.Equal(env.EncodeFullGrid(), copy.EncodeFullGrid());
        Assert.Equal(env.Mission, copy.Mission);
        Assert.True(env.Image.SequenceEqual(copy.Image));
        Assert.Equal(env.RenderAscii(), copy.RenderAscii());
    }

    [Fact]
    public void BadLayoutsFailWithOneLineErrorsNamingTheProblem()
    {
        var grid = TestWorlds.Room(5, 5).Encode();
        var spec = new InstructionSpec(InstructionKind.GoTo, new DescriptionSpec(ObjectType.Ball, GridColor.Red, null, [(2, 2)]));
        var noBall = Assert.Throws<ArgumentException>(() => new GridWorldLayout(5, 5, grid, 1, 1, 0, spec, 10));
        Assert.Contains("(2, 2)", noBall.Message);
        var bad = (byte[])grid.Clone();
        bad[(2 * 5 + 2) * 3] = 42;
        var code = Assert.Throws<FormatException>(() => new GridWorldLayout(5, 5, bad, 1, 1, 0, spec, 10));
        Assert.Contains($"byte offset {(2 * 5 + 2) * 3}", code.Message);
        var size = Assert.Throws<ArgumentException>(() => new GridWorldLayout(5, 5, grid.AsSpan(3).ToArray(), 1, 1, 0, spec, 10));
        Assert.Contains("75", size.Message);
    }

    [Fact]
    public void AsciiRenderingShowsWallsObjectsDoorsAndTheAgent()
    {
        var g = TestWorlds.Room(5, 4);
        g.Put(2, 1, ObjectType.Ball, GridColor.Red);
        g.Put(4, 2, ObjectType.Door, GridColor.Blue, DoorState.Locked);
        g.Put(3, 2, ObjectType.Door, GridColor.Green, DoorState.Open);
        Assert.Equal("WGWGWGWGWG\nWG  AR  WG\nWG>>  __LB\nWGWGWGWGWG", g.RenderAscii(1, 2, 0));
    }
}
