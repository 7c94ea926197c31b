using RLAgents.Environments.GridWorld;

namespace RLAgents.Environments.Tests.GridWorld;

/// <summary>Hand-built cases of Minigrid's step semantics: doors, keys, boxes, pickups, drops, truncation, occlusion.</summary>
public sealed class GridWorldSemanticsTests
{
    private const int Left = 0, Right = 1, Forward = 2, Pickup = 3, Drop = 4, Toggle = 5, Done = 6;

    // A far-away grey ball keeps a GoTo instruction unsatisfied while the test plays.
    private static Instruction Idle(Grid g)
    {
        g.Put(g.Width - 2, g.Height - 2, ObjectType.Ball, GridColor.Grey);
        return new GoToInstruction(TestWorlds.Bound(g, ObjectType.Ball, GridColor.Grey, (g.Width - 2, g.Height - 2)));
    }

    [Fact]
    public void ClosedDoorOpensAndClosesOnToggleAndBlocksUntilOpen()
    {
        var g = TestWorlds.Room(9, 9);
        var door = g.Put(3, 1, ObjectType.Door, GridColor.Blue, DoorState.Closed);
        using var env = TestWorlds.Env(g, 1, 1, 0, Idle(g));
        env.Step(Forward);
        Assert.Equal((2, 1), (env.AgentX, env.AgentY));
        env.Step(Forward); // blocked by the closed door
        Assert.Equal((2, 1), (env.AgentX, env.AgentY));
        Assert.Equal((4, 2, 1), env.View(3, 5));
        env.Step(Toggle);
        Assert.Equal(DoorState.Open, door.State);
        Assert.Equal((4, 2, 0), env.View(3, 5));
        env.Step(Forward);
        Assert.Equal((3, 1), (env.AgentX, env.AgentY)); // standing in the doorway
        env.Step(Forward);
        env.Step(Left); env.Step(Left);
        env.Step(Forward); // back into the doorway, facing west
        Assert.Equal((3, 1), (env.AgentX, env.AgentY));
        env.Step(Forward);
        env.Step(Right); env.Step(Right);
        env.Step(Toggle); // close it again
        Assert.Equal(DoorState.Closed, door.State);
        Assert.Equal(new byte[] { 4, 2, 1 }, env.EncodeFullGrid().AsSpan((3 * 9 + 1) * 3, 3).ToArray());
    }

    [Fact]
    public void LockedDoorOpensOnlyWithAKeyOfItsColour()
    {
        var g = TestWorlds.Room(9, 9);
        var door = g.Put(3, 1, ObjectType.Door, GridColor.Red, DoorState.Locked);
        g.Put(1, 2, ObjectType.Key, GridColor.Blue);
        g.Put(1, 3, ObjectType.Key, GridColor.Red);
        using var env = TestWorlds.Env(g, 2, 1, 0, Idle(g));
        env.Step(Toggle);
        Assert.Equal(DoorState.Locked, door.State);
        // Pick up the blue key (turn south-west: face (1,1)? no: go to face (1,2) from (2,2)).
        env.Step(Right); env.Step(Forward); env.Step(Right); // at (2,2) facing west → blue key in front
        env.Step(Pickup);
        Assert.Equal(GridColor.Blue, env.Carrying!.Color);
        env.Step(Right); env.Step(Forward); env.Step(Right); // back at... (2,1) facing east
        Assert.Equal((2, 1, 0), (env.AgentX, env.AgentY, env.AgentDir));
        env.Step(Toggle);
        Assert.Equal(DoorState.Locked, door.State); // wrong key
        // Swap for the red key: drop blue at (2,2)'s west? Drop in front is the locked door: refused.
        env.Step(Drop);
        Assert.NotNull(env.Carrying);
        env.Step(Left); env.Step(Left); // facing west, (1,1) empty
        env.Step(Drop);
        Assert.Null(env.Carrying);
        Assert.Equal(ObjectType.Key, g.Get(1, 1)!.Type);
        env.Step(Left); env.Step(Forward); env.Step(Right); // at (2,2) facing west → (1,2) now empty; red key at (1,3)
        env.Step(Left); env.Step(Forward); env.Step(Right); // at (2,3) facing west → red key
        env.Step(Pickup);
        Assert.Equal(GridColor.Red, env.Carrying!.Color);
        env.Step(Right); env.Step(Forward); env.Step(Forward); env.Step(Right); // (2,1) facing east
        Assert.Equal((2, 1, 0), (env.AgentX, env.AgentY, env.AgentDir));
        env.Step(Toggle);
        Assert.Equal(DoorState.Open, door.State); // unlocked and opened at once
        Assert.NotNull(env.Carrying); // the key is kept
        env.Step(Toggle);
        Assert.Equal(DoorState.Closed, door.State); // an unlocked door now toggles freely
    }

    [Fact]
    public void ToggledBoxIsReplacedByItsContentsOrNothing()
    {
        var g = TestWorlds.Room();
        var key = new WorldObject(ObjectType.Key, GridColor.Yellow);
        g.Put(2, 1, ObjectType.Box, GridColor.Purple, contains: key);
        g.Put(1, 2, ObjectType.Box, GridColor.Green);
        using var env = TestWorlds.Env(g, 1, 1, 0, Idle(g));
        Assert.Equal((7, 3, 0), env.View(3, 5));
        env.Step(Toggle);
        Assert.Same(key, g.Get(2, 1));
        Assert.Equal((5, 4, 0), env.View(3, 5));
        env.Step(Right); // facing south: the empty green box
        env.Step(Toggle);
        Assert.Null(g.Get(1, 2));
        Assert.Equal((1, 0, 0), env.View(3, 5));
    }

    [Fact]
    public void PickupFailsOnWallsDoorsAndWhenAlreadyCarrying()
    {
        var g = TestWorlds.Room();
        g.Put(2, 1, ObjectType.Ball, GridColor.Green);
        g.Put(1, 2, ObjectType.Key, GridColor.Red);
        using var env = TestWorlds.Env(g, 1, 1, 3, Idle(g)); // facing the north wall
        env.Step(Pickup);
        Assert.Null(env.Carrying);
        Assert.Equal(ObjectType.Wall, g.Get(1, 0)!.Type);
        env.Step(Right); // east: the ball
        env.Step(Pickup);
        Assert.Equal(ObjectType.Ball, env.Carrying!.Type);
        Assert.Null(g.Get(2, 1));
        Assert.Equal((6, 1, 0), env.View(3, 6)); // the agent's cell shows what it carries
        env.Step(Right); // south: the key
        env.Step(Pickup);
        Assert.Equal(ObjectType.Ball, env.Carrying!.Type); // still the ball
        Assert.Equal(ObjectType.Key, g.Get(1, 2)!.Type);
    }

    [Fact]
    public void DropOnlyOntoAnEmptyCell()
    {
        var g = TestWorlds.Room();
        var ball = g.Put(2, 1, ObjectType.Ball, GridColor.Green);
        g.Put(1, 2, ObjectType.Key, GridColor.Red);
        using var env = TestWorlds.Env(g, 1, 1, 0, Idle(g));
        env.Step(Drop); // nothing carried: no effect
        Assert.Same(ball, g.Get(2, 1));
        env.Step(Pickup);
        env.Step(Right); // facing the key
        env.Step(Drop);
        Assert.Same(ball, env.Carrying);
        env.Step(Left); env.Step(Left); // facing the west wall
        env.Step(Drop);
        Assert.Same(ball, env.Carrying);
        env.Step(Right); // east, empty again
        env.Step(Drop);
        Assert.Null(env.Carrying);
        Assert.Same(ball, g.Get(2, 1));
        Assert.Equal((2, 1), ball.Position);
        Assert.Equal((1, 0, 0), env.View(3, 6));
    }

    [Fact]
    public void TruncatesAtMaxStepsWithoutTermination()
    {
        var g = TestWorlds.Room();
        using var env = TestWorlds.Env(g, 1, 1, 0, Idle(g), maxSteps: 5);
        for (int t = 1; t <= 4; t++)
        {
            var r = env.Step(Left);
            Assert.False(r.Truncated);
            Assert.False(r.Terminated);
        }
        var last = env.Step(Done);
        Assert.True(last.Truncated);
        Assert.False(last.Terminated);
        Assert.Equal(0.0, last.Reward);
        Assert.Throws<InvalidOperationException>(() => env.Step(Left));
    }

    [Fact]
    public void SuccessOnTheLastStepIsBothTerminatedAndTruncatedWithTheDecayedReward()
    {
        var g = TestWorlds.Room();
        g.Put(3, 1, ObjectType.Ball, GridColor.Red);
        var goTo = new GoToInstruction(TestWorlds.Bound(g, ObjectType.Ball, GridColor.Red, (3, 1)));
        using var env = TestWorlds.Env(g, 1, 1, 1, goTo, maxSteps: 3);
        Assert.False(env.Step(Left).Done); // facing east, ball 2 cells ahead
        Assert.False(env.Step(Done).Done);
        var r = env.Step(Forward); // now (2,1) facing the ball
        Assert.True(r.Terminated);
        Assert.True(r.Truncated);
        Assert.Equal(1 - 0.9 * (3.0 / 3.0), r.Reward);
        Assert.True(r.Info.IsSuccess);
    }

    [Fact]
    public void WallsAndClosedDoorsHideWhatIsBehindThem()
    {
        // Agent at (3,7) facing north in a 7-wide, 9-high room with an inner wall row at y = 4,
        // a closed door at (3,4) and a ball at (3,2) behind it.
        var g = TestWorlds.Room(7, 9);
        g.HorizontalWall(1, 4, 5);
        var door = g.Put(3, 4, ObjectType.Door, GridColor.Yellow, DoorState.Closed);
        g.Put(3, 2, ObjectType.Ball, GridColor.Blue);
        g.Put(2, 6, ObjectType.Key, GridColor.Green);
        var instr = new GoToInstruction(TestWorlds.Bound(g, ObjectType.Key, GridColor.Green, (2, 6)));
        using var env = TestWorlds.Env(g, 3, 7, 3, instr);
        Assert.Equal((4, 4, 1), env.View(3, 3)); // the door, 3 ahead
        Assert.Equal((0, 0, 0), env.View(3, 1)); // the ball behind it is unseen
        Assert.Equal((0, 0, 0), env.View(3, 2)); // so is the cell right behind the door
        Assert.Equal((2, 5, 0), env.View(2, 3)); // the wall beside the door is seen
        Assert.Equal((5, 1, 0), env.View(2, 5)); // the key, 1 ahead and 1 left
        Assert.Equal((1, 0, 0), env.View(3, 4)); // a visible empty cell
        Assert.Equal((0, 0, 0), env.View(0, 0)); // beyond the wall: unseen, not (2,5,0)
        door.State = DoorState.Open;
        g.Refresh(3, 4);
        env.Step(Done);
        Assert.Equal((4, 4, 0), env.View(3, 3));
        Assert.Equal((6, 2, 0), env.View(3, 1)); // the ball is now visible through the open door
    }

    [Fact]
    public void ViewRotatesWithTheAgentAndPadsOutsideTheGridWithWalls()
    {
        var g = TestWorlds.Room(5, 5);
        g.Put(3, 2, ObjectType.Ball, GridColor.Red); // east of the agent
        using var env = TestWorlds.Env(g, 2, 2, 0, Idle(g)); // (Idle puts a grey ball at (3,3))
        Assert.Equal((6, 0, 0), env.View(3, 5)); // ahead when facing east
        env.Step(Left); // facing north: the red ball is to the right
        Assert.Equal((6, 0, 0), env.View(4, 6));
        env.Step(Left); // facing west: behind, not in view
        Assert.All(Enumerable.Range(0, 49), k => Assert.False(env.Image[k * 3] == 6 && env.Image[k * 3 + 1] == 0));
        env.Step(Left); // facing south: to the left
        Assert.Equal((6, 0, 0), env.View(2, 6));
        Assert.Equal((6, 5, 0), env.View(2, 5)); // the grey ball at (3,3): 1 ahead, 1 left
    }

    [Fact]
    public void LavaTerminatesWithoutRewardAndGoalTerminatesWithReward()
    {
        var g = TestWorlds.Room();
        g.Put(2, 1, ObjectType.Lava, GridColor.Red);
        g.Put(1, 2, ObjectType.Goal, GridColor.Green);
        using (var env = TestWorlds.Env(g, 1, 1, 0, Idle(g), maxSteps: 10))
        {
            var r = env.Step(Forward);
            Assert.True(r.Terminated);
            Assert.Equal(0.0, r.Reward);
            Assert.Equal((2, 1), (env.AgentX, env.AgentY));
        }
        var g2 = TestWorlds.Room();
        g2.Put(1, 2, ObjectType.Goal, GridColor.Green);
        using var env2 = TestWorlds.Env(g2, 1, 1, 1, Idle(g2), maxSteps: 10);
        var r2 = env2.Step(Forward);
        Assert.True(r2.Terminated);
        Assert.Equal(1 - 0.9 * (1.0 / 10), r2.Reward);
    }

    [Fact]
    public void PickupInstructionNeedsThePickupActionAndAnEmptyHandBefore()
    {
        var g = TestWorlds.Room();
        g.Put(2, 1, ObjectType.Ball, GridColor.Green);
        g.Put(1, 2, ObjectType.Key, GridColor.Red);
        var instr = new PickupInstruction(TestWorlds.Bound(g, ObjectType.Key, GridColor.Red, (1, 2)));
        using var env = TestWorlds.Env(g, 1, 1, 0, instr);
        Assert.False(env.Step(Pickup).Done); // the ball: not the target
        Assert.False(env.Step(Right).Done);
        Assert.False(env.Step(Pickup).Done); // hands full: nothing happens
        Assert.False(env.Step(Left).Done);
        Assert.False(env.Step(Drop).Done);
        Assert.False(env.Step(Right).Done);
        var r = env.Step(Pickup);
        Assert.True(r.Terminated);
        Assert.Equal(1 - 0.9 * (7 / 100.0), r.Reward);
    }

    [Fact]
    public void PutNextSucceedsOnDropNextToTheFixedObjectAndGoToTracksMovedObjects()
    {
        var g = TestWorlds.Room();
        g.Put(2, 1, ObjectType.Ball, GridColor.Green);
        g.Put(4, 3, ObjectType.Box, GridColor.Red);
        var put = new PutNextInstruction(TestWorlds.Bound(g, ObjectType.Ball, GridColor.Green, (2, 1)), TestWorlds.Bound(g, ObjectType.Box, GridColor.Red, (4, 3)));
        using var env = TestWorlds.Env(g, 1, 1, 0, put);
        env.Step(Pickup);
        env.Step(Forward); env.Step(Forward); // (3,1)
        env.Step(Right); // facing south, (3,2) empty: dropping there is not next to (4,3)
        Assert.False(env.Step(Drop).Done);
        env.Step(Pickup);
        env.Step(Forward); // (3,2) facing south, (3,3) is next to (4,3)
        var r = env.Step(Drop);
        Assert.True(r.Terminated);
        Assert.True(r.Reward > 0);
    }

    [Fact]
    public void DoneActionModeConfirmsSuccessOnlyRightAfterCompletion()
    {
        GridWorldEnv Make()
        {
            var g = TestWorlds.Room();
            g.Put(3, 1, ObjectType.Ball, GridColor.Red);
            var goTo = new GoToInstruction(TestWorlds.Bound(g, ObjectType.Ball, GridColor.Red, (3, 1))) { UseDoneActions = true };
            return TestWorlds.Env(g, 1, 1, 0, goTo);
        }
        using (var env = Make())
        {
            Assert.False(env.Step(Forward).Done); // completes the task, but needs done
            var r = env.Step(Done);
            Assert.True(r.Terminated);
            Assert.True(r.Reward > 0);
        }
        using (var env = Make())
        {
            var r = env.Step(Done);
            Assert.True(r.Terminated); // done too early fails
            Assert.Equal(0.0, r.Reward);
        }
    }

    [Fact]
    public void InvalidActionsAreRejectedNamingTheActionAndSpace()
    {
        var g = TestWorlds.Room();
        using var env = TestWorlds.Env(g, 1, 1, 0, Idle(g));
        var e = Assert.Throws<InvalidActionException>(() => env.Step(7));
        Assert.Contains("Discrete(7)", e.Message);
    }
}

public sealed class GridWorldAllocationTests
{
    [Theory]
    [InlineData("goto")]
    [InlineData("putnext")]
    [InlineData("sequence")]
    public void StepsAllocateNothingOnceWarm(string kind)
    {
        // A roomy level with objects, doors and a long budget; random actions, including pickups,
        // drops (which re-read every leaf's tracked positions), toggles and failed moves.
        var g = TestWorlds.Room(12, 12);
        g.VerticalWall(6, 1, 10);
        g.Put(6, 5, ObjectType.Door, GridColor.Red, DoorState.Closed);
        g.Put(3, 3, ObjectType.Ball, GridColor.Green);
        g.Put(8, 8, ObjectType.Key, GridColor.Blue);
        g.Put(9, 2, ObjectType.Box, GridColor.Yellow);
        // The go-to target sits in a walled pocket, so no instruction here can be completed.
        g.Put(10, 10, ObjectType.Ball, GridColor.Purple);
        g.Put(9, 10, ObjectType.Wall, GridColor.Grey);
        g.Put(10, 9, ObjectType.Wall, GridColor.Grey);
        GoToInstruction Pocket() => new(TestWorlds.Bound(g, ObjectType.Ball, GridColor.Purple, (10, 10)));
        PutNextInstruction Put() => new(TestWorlds.Bound(g, ObjectType.Ball, GridColor.Green, (3, 3)), TestWorlds.Bound(g, ObjectType.Key, GridColor.Blue, (8, 8)));
        Instruction instr = kind switch
        {
            "goto" => Pocket(),
            // Without a drop next to the key, only the pocket would finish it.
            "putnext" => new BeforeInstruction(Put(), Pocket()),
            _ => new AfterInstruction(Pocket(), new AndInstruction(Put(), new PickupInstruction(TestWorlds.Bound(g, ObjectType.Box, GridColor.Yellow, (9, 2))))),
        };
        using var env = TestWorlds.Env(g, 2, 2, 0, instr, maxSteps: 1_000_000);
        var rng = new Rng(5UL);
        int[] actions = [0, 1, 2, 2, 2, 3, 4, 5, 6];
        for (int i = 0; i < 1000; i++) Assert.False(env.Step(actions[rng.NextInt(actions.Length)]).Done);
        long before = GC.GetAllocatedBytesForCurrentThread();
        bool ended = false;
        for (int i = 0; i < 10_000; i++) ended |= env.Step(actions[rng.NextInt(actions.Length)]).Done;
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.False(ended);
    }
}
