using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;

namespace RLAgents.Environments.Tests.GridWorld.Levels;

/// <summary>
/// Invariants of every generated BabyAI level: the registry matches Minigrid 3.1's list, sizes and
/// step budgets follow the level definitions, missions follow the grammar and parse back to the
/// instruction, descriptions designate real objects, and a captured layout restarts the same
/// episode through format-2 JSON.
/// </summary>
public sealed class LevelGenerationTests
{
    // Minigrid 3.1's BabyAI registrations (minigrid/__init__.py), in its order.
    private static readonly string[] MinigridIds =
    [
        "GoToRedBallGrey", "GoToRedBall", "GoToRedBallNoDists", "GoToObj", "GoToObjS4", "GoToObjS6", "GoToLocal",
        "GoToLocalS5N2", "GoToLocalS6N2", "GoToLocalS6N3", "GoToLocalS6N4", "GoToLocalS7N4", "GoToLocalS7N5", "GoToLocalS8N2",
        "GoToLocalS8N3", "GoToLocalS8N4", "GoToLocalS8N5", "GoToLocalS8N6", "GoToLocalS8N7", "GoTo", "GoToOpen", "GoToObjMaze",
        "GoToObjMazeOpen", "GoToObjMazeS4R2", "GoToObjMazeS4", "GoToObjMazeS5", "GoToObjMazeS6", "GoToObjMazeS7", "GoToImpUnlock",
        "GoToSeq", "GoToSeqS5R2", "GoToRedBlueBall", "GoToDoor", "GoToObjDoor",
        "Open", "OpenRedDoor", "OpenDoor", "OpenDoorDebug", "OpenDoorColor", "OpenDoorLoc", "OpenTwoDoors", "OpenRedBlueDoors",
        "OpenRedBlueDoorsDebug", "OpenDoorsOrderN2", "OpenDoorsOrderN4", "OpenDoorsOrderN2Debug", "OpenDoorsOrderN4Debug",
        "Pickup", "UnblockPickup", "PickupLoc", "PickupDist", "PickupDistDebug", "PickupAbove",
        "PutNextLocal", "PutNextLocalS5N3", "PutNextLocalS6N4", "PutNextS4N1", "PutNextS5N2", "PutNextS5N1", "PutNextS6N3",
        "PutNextS7N4", "PutNextS5N2Carrying", "PutNextS6N3Carrying", "PutNextS7N4Carrying",
        "Unlock", "UnlockLocal", "UnlockLocalDist", "KeyInBox", "UnlockPickup", "UnlockPickupDist", "BlockedUnlockPickup", "UnlockToUnlock",
        "ActionObjDoor", "FindObjS5", "FindObjS6", "FindObjS7", "KeyCorridor", "KeyCorridorS3R1", "KeyCorridorS3R2", "KeyCorridorS3R3",
        "KeyCorridorS4R3", "KeyCorridorS5R3", "KeyCorridorS6R3", "OneRoomS8", "OneRoomS12", "OneRoomS16", "OneRoomS20",
        "MoveTwoAcrossS5N2", "MoveTwoAcrossS8N9",
        "Synth", "SynthS5R2", "SynthLoc", "SynthSeq", "MiniBossLevel", "BossLevel", "BossLevelNoUnlock",
    ];

    private static GridWorldOptions Quiet => new() { IncludeDescription = false };

    [Fact]
    public void RegistryHoldsEveryBabyAILevelMinigridRegisters()
    {
        var expected = MinigridIds.Select(n => $"BabyAI-{n}-v{(n == "GoToObjS6" ? 1 : 0)}").Order(StringComparer.Ordinal);
        Assert.Equal(expected, BabyAILevels.All.Keys.Order(StringComparer.Ordinal));
        var registry = EnvRegistry.CreateDefault();
        foreach (var (id, level) in BabyAILevels.All)
            Assert.Equal(level.MaxSteps, registry.Get(id).MaxEpisodeSteps);
    }

    [Theory]
    [MemberData(nameof(LevelTests.AllLevels), MemberType = typeof(LevelTests))]
    public void GeneratedLevelsFollowTheLevelDefinitionAndTheGrammar(string id)
    {
        var level = BabyAILevels.Get(id);
        using var env = BabyAILevels.Make(id, Quiet);
        for (int seed = 0; seed < 12; seed++)
        {
            env.Reset(seed);
            string at = $"{id} seed {seed}";
            Assert.Equal((level.Width, level.Height), env.Size);
            int area = level.RoomSize * level.RoomSize * level.NumRows * level.NumCols;
            Assert.Equal(level.FixedMaxSteps ?? area * env.Instruction.NavigationsNeeded, env.MaxSteps);
            Assert.InRange(env.MaxSteps, 1, level.MaxSteps);

            // The mission is the instruction's surface and parses back to the same tree and articles.
            Assert.Equal(env.Instruction.Surface(), env.Mission);
            var parsed = InstructionSpec.ParseMission(env.Mission);
            Assert.True(parsed.SameShape(InstructionSpec.From(env.Instruction)), $"{at}: '{env.Mission}'");
            Assert.Equal(env.Mission, parsed.Surface());

            // Every description designates objects of its type and colour.
            foreach (var d in env.Instruction.Descriptions)
            {
                Assert.NotEmpty(d.Objects);
                Assert.All(d.Objects, o => Assert.True(d.Matches(o), $"{at}: {o} does not match '{d}'"));
            }

            // The agent stands on a free cell inside the grid; objects know where they lie.
            Assert.True(env.Grid.Get(env.AgentX, env.AgentY) is null or { CanOverlap: true });
            for (int x = 0; x < env.Grid.Width; x++)
                for (int y = 0; y < env.Grid.Height; y++)
                    if (env.Grid.Get(x, y) is { Type: not ObjectType.Wall } o) Assert.Equal((x, y), o.Position);
            if (env.Carrying is not null) continue;

            // A captured layout, through format-2 JSON, restarts the same episode.
            var json = GridWorldLayout.Capture(env).ToJson();
            using var copy = GridWorldEnv.FromLayout(GridWorldLayout.FromJson(System.Text.Json.JsonDocument.Parse(json).RootElement), Quiet);
            copy.Reset(0);
            Assert.Equal(env.EncodeFullGrid(), copy.EncodeFullGrid());
            Assert.Equal((env.Mission, env.MaxSteps, env.AgentX, env.AgentY, env.AgentDir), (copy.Mission, copy.MaxSteps, copy.AgentX, copy.AgentY, copy.AgentDir));
            Assert.True(env.Image.SequenceEqual(copy.Image), $"{at}: first views differ");
        }
    }

    [Theory]
    [InlineData("BabyAI-BossLevel-v0")]
    [InlineData("BabyAI-KeyInBox-v0")]
    [InlineData("BabyAI-MoveTwoAcrossS8N9-v0")]
    [InlineData("BabyAI-KeyCorridorS3R3-v0")]
    public void SameSeedGivesTheSameLevel(string id)
    {
        using var a = BabyAILevels.Make(id, Quiet);
        using var b = BabyAILevels.Make(id, Quiet);
        var layouts = new HashSet<string>();
        for (int s = 0; s < 10; s++)
        {
            a.Reset(s);
            b.Reset(s);
            Assert.Equal(a.EncodeFullGrid(), b.EncodeFullGrid());
            Assert.Equal((a.AgentX, a.AgentY, a.AgentDir, a.Mission), (b.AgentX, b.AgentY, b.AgentDir, b.Mission));
            layouts.Add(Convert.ToBase64String(a.EncodeFullGrid()) + a.Mission);
        }
        Assert.True(layouts.Count >= 9, $"{id}: only {layouts.Count} distinct levels over 10 seeds");
    }

    [Fact]
    public void BossLevelDrawsEveryInstructionShapeAndLocation()
    {
        using var env = BabyAILevels.Make("BabyAI-BossLevel-v0", Quiet);
        var seen = new HashSet<string>();
        for (int s = 0; s < 150; s++)
        {
            env.Reset(s);
            string m = env.Mission;
            if (m.Contains(", then ", StringComparison.Ordinal)) seen.Add("before");
            if (m.Contains(" after you ", StringComparison.Ordinal)) seen.Add("after");
            if (m.Contains(" and ", StringComparison.Ordinal)) seen.Add("and");
            foreach (var w in new[] { "go to ", "pick up ", "open ", "put ", "on your left", "on your right", "in front of you", "behind you", "object" })
                if (m.Contains(w, StringComparison.Ordinal)) seen.Add(w);
            if (env.Grid.Encode().Chunk(3).Any(c => c[0] == (byte)ObjectType.Door && c[2] == (byte)DoorState.Locked)) seen.Add("locked");
        }
        // BabyAI never names an "object" without a type, so that word must not appear.
        Assert.Equal(["after", "and", "before", "behind you", "go to ", "in front of you", "locked", "on your left", "on your right", "open ", "pick up ", "put "], seen.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void LockedRoomLevelsKeepTheKeyOutsideItsRoomAndTheAgentOutsideTheLockedRoom()
    {
        foreach (var id in new[] { "BabyAI-Unlock-v0", "BabyAI-GoToImpUnlock-v0" })
        {
            using var env = BabyAILevels.Make(id, Quiet);
            for (int s = 0; s < 40; s++)
            {
                env.Reset(s);
                var g = env.Grid;
                var door = Cells(g).Single(c => c.Obj.IsLocked);
                // Minigrid 3.1 can drop the key behind its own door; here it is always within reach.
                var reachable = Reachable(g, env.AgentX, env.AgentY);
                Assert.Contains(Cells(g), c => c.Obj.Type == ObjectType.Key && c.Obj.Color == door.Obj.Color && reachable.Contains(c.Pos));
                if (id.Contains("GoToImpUnlock", StringComparison.Ordinal))
                {
                    // The target's room is behind the locked door: some target lies out of reach.
                    var targets = ((GoToInstruction)env.Instruction).Target.Positions;
                    Assert.Contains(targets, p => !reachable.Contains(p));
                }
            }
        }
    }

    [Fact]
    public void KeyInBoxHidesTheKeyOfTheLockedDoorInABox()
    {
        using var env = BabyAILevels.Make("BabyAI-KeyInBox-v0", Quiet);
        for (int s = 0; s < 20; s++)
        {
            env.Reset(s);
            var door = Cells(env.Grid).Single(c => c.Obj.Type == ObjectType.Door).Obj;
            Assert.True(door.IsLocked);
            Assert.DoesNotContain(Cells(env.Grid), c => c.Obj.Type == ObjectType.Key);
            var box = Cells(env.Grid).Single(c => c.Obj.Type == ObjectType.Box).Obj;
            Assert.Equal((ObjectType.Key, door.Color), (box.Contains!.Type, box.Contains.Color));
            Assert.Equal("open the door", env.Mission);
            Assert.Single(GridWorldLayout.Capture(env).BoxContents);
        }
    }

    [Fact]
    public void CarryingVariantsStartWithTheObjectToMoveInHand()
    {
        using var env = BabyAILevels.Make("BabyAI-PutNextS6N3Carrying-v0", Quiet);
        for (int s = 0; s < 20; s++)
        {
            var obs = env.Reset(s).Observation;
            var put = (PutNextInstruction)env.Instruction;
            Assert.Same(put.Move.Objects.Single(), env.Carrying);
            Assert.DoesNotContain(Cells(env.Grid), c => ReferenceEquals(c.Obj, env.Carrying));
            var image = obs.Bytes("image");
            Assert.Equal(env.Carrying!.Encode(), (image[EgocentricView.AgentCell * 3], image[EgocentricView.AgentCell * 3 + 1], image[EgocentricView.AgentCell * 3 + 2]));
            // The mission was worded while the object lay in its room ("put the C T next to …").
            Assert.StartsWith("put the ", env.Mission);
            Assert.Equal(6 * 6 * 8, env.MaxSteps);
        }
        Assert.Throws<InvalidOperationException>(() => GridWorldLayout.Capture(env));
    }

    [Theory]
    [InlineData("BabyAI-PutNextS7N4-v0", 7, 4)]
    [InlineData("BabyAI-MoveTwoAcrossS5N2-v0", 5, 2)]
    public void TwoRoomLevelsHaveNoWallBetweenTheRoomsAndUniqueObjects(string id, int size, int perRoom)
    {
        using var env = BabyAILevels.Make(id, Quiet);
        for (int s = 0; s < 20; s++)
        {
            env.Reset(s);
            for (int y = 1; y < size - 1; y++) Assert.Null(env.Grid.Get(size - 1, y));
            var objs = Cells(env.Grid).Where(c => c.Obj.Type != ObjectType.Wall).ToList();
            Assert.Equal(2 * perRoom, objs.Count);
            Assert.Equal(objs.Count, objs.Select(c => (c.Obj.Type, c.Obj.Color)).Distinct().Count());
            // Each put-next moves an object of one room next to one of the other.
            foreach (var put in env.Instruction.Leaves.Cast<PutNextInstruction>())
                Assert.NotEqual(put.Move.Positions.Single().X < size - 1, put.Fixed.Positions.Single().X < size - 1);
        }
    }

    [Fact]
    public void OpenTwoDoorsPutsTheDoorsOnOppositeWallsOfTheCentreRoom()
    {
        using var env = BabyAILevels.Make("BabyAI-OpenTwoDoors-v0", Quiet);
        for (int s = 0; s < 20; s++)
        {
            env.Reset(s);
            var doors = Cells(env.Grid).Where(c => c.Obj.Type == ObjectType.Door).OrderBy(c => c.Pos.X).ToList();
            Assert.Equal([5, 10], doors.Select(d => d.Pos.X));
            Assert.Equal($"open the {doors[0].Obj.Color.Name()} door, then open the {doors[1].Obj.Color.Name()} door", env.Mission);
            Assert.Equal(720, env.MaxSteps);
        }
    }

    [Fact]
    public void ATypelessGreyDescriptionMatchesGreyWallsAsInBabyAI()
    {
        // PickupDist can name an object by colour only; BabyAI's matcher then also takes grey walls,
        // so "pick up a grey object" reads "a" even with one grey object (walls cannot be picked up).
        var g = TestWorlds.Room(5, 5);
        g.Put(2, 2, ObjectType.Ball, GridColor.Grey);
        var grey = new ObjectDescription(null, GridColor.Grey);
        grey.Match(g, 1, 1, 0, null);
        Assert.Equal(17, grey.Objects.Count); // 16 walls and the ball
        Assert.Equal("a grey object", grey.Surface());
        // A drop re-reads tracked positions: the walls stay tracked (they share one object here).
        var ball = g.Get(2, 2)!;
        g.Set(2, 2, null);
        g.Set(3, 2, ball);
        ball.Position = (3, 2);
        grey.UpdatePositions(g);
        Assert.Equal(17, grey.Positions.Count);
        Assert.Equal((0, 0), grey.Positions[0]);
        Assert.Contains((3, 2), grey.Positions);
        var red = new ObjectDescription(null, GridColor.Red);
        red.Match(g, 1, 1, 0, null);
        Assert.Empty(red.Objects);
    }

    private static IEnumerable<((int X, int Y) Pos, WorldObject Obj)> Cells(Grid g)
    {
        for (int x = 0; x < g.Width; x++)
            for (int y = 0; y < g.Height; y++)
                if (g.Get(x, y) is { } o) yield return ((x, y), o);
    }

    // Cells reachable on foot through unlocked doors; objects are reached but not crossed.
    private static HashSet<(int X, int Y)> Reachable(Grid g, int x0, int y0)
    {
        var seen = new HashSet<(int, int)>();
        var stack = new Stack<(int X, int Y)>();
        stack.Push((x0, y0));
        while (stack.Count > 0)
        {
            var p = stack.Pop();
            if (!g.InBounds(p.X, p.Y) || seen.Contains(p)) continue;
            var c = g.Get(p.X, p.Y);
            if (c is { Type: ObjectType.Wall } || c is { IsLocked: true }) continue;
            seen.Add(p);
            if (c is not null && c.Type != ObjectType.Door && p != (x0, y0)) continue;
            stack.Push((p.X + 1, p.Y));
            stack.Push((p.X - 1, p.Y));
            stack.Push((p.X, p.Y + 1));
            stack.Push((p.X, p.Y - 1));
        }
        return seen;
    }
}
