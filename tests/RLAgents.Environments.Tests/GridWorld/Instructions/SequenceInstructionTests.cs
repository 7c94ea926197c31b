using RLAgents.Environments.GridWorld;

namespace RLAgents.Environments.Tests.GridWorld.Instructions;

/// <summary>
/// BabyAI's before / after / and verifiers on hand-built worlds: the second part is verified on the
/// step the first part succeeds, "and" parts are sticky, drops refresh tracked positions of every
/// leaf, and strict parts fail on a wrong door even on the toggle that completed the other part.
/// </summary>
public sealed class SequenceInstructionTests
{
    private const int Left = 0, Right = 1, Forward = 2, Pickup = 3, Drop = 4, Toggle = 5, Done = 6;

    private static ObjectDescription Bound(Grid g, ObjectType type, GridColor color, params (int X, int Y)[] at) => TestWorlds.Bound(g, type, color, at);

    [Fact]
    public void OneToggleOpensTheDoorAndCompletesTheGoToThatFollowsIt()
    {
        // "open the blue door, then go to the blue door": the agent faces the door it opens.
        var g = TestWorlds.Room();
        g.Put(2, 1, ObjectType.Door, GridColor.Blue, DoorState.Closed);
        var instr = new BeforeInstruction(new OpenInstruction(Bound(g, ObjectType.Door, GridColor.Blue, (2, 1))),
            new GoToInstruction(Bound(g, ObjectType.Door, GridColor.Blue, (2, 1))));
        using var env = TestWorlds.Env(g, 1, 1, 0, instr);
        Assert.Equal("open the blue door, then go to the blue door", env.Mission);
        Assert.Equal((null, null), (instr.AStatus, instr.BStatus));
        var r = env.Step(Toggle);
        Assert.True(r.Terminated);
        Assert.Equal(1 - 0.9 * (1 / 100.0), r.Reward);
        Assert.Equal((VerifyStatus.Success, VerifyStatus.Success), (instr.AStatus, instr.BStatus));
    }

    [Fact]
    public void BeforeVerifiesTheSecondPartOnlyOnceTheFirstHasSucceeded()
    {
        // "go to the red ball, then go to the green ball": facing green first does not count.
        var g = TestWorlds.Room();
        g.Put(2, 1, ObjectType.Ball, GridColor.Green);
        g.Put(1, 2, ObjectType.Ball, GridColor.Red);
        var instr = new BeforeInstruction(new GoToInstruction(Bound(g, ObjectType.Ball, GridColor.Red, (1, 2))),
            new GoToInstruction(Bound(g, ObjectType.Ball, GridColor.Green, (2, 1))));
        using var env = TestWorlds.Env(g, 1, 1, 3, instr);
        Assert.False(env.Step(Right).Done); // faces green
        Assert.Equal((VerifyStatus.Continue, (VerifyStatus?)null), (instr.AStatus, instr.BStatus));
        Assert.False(env.Step(Right).Done); // faces red: A succeeds, B checked at once (facing red: continue)
        Assert.Equal((VerifyStatus.Success, VerifyStatus.Continue), (instr.AStatus, instr.BStatus));
        Assert.True(env.Step(Left).Terminated); // faces green
        Assert.Equal(VerifyStatus.Success, instr.BStatus);
        Assert.Equal(2, instr.NavigationsNeeded);
    }

    [Fact]
    public void AfterDoesItsSecondPartFirst()
    {
        // "go to the green ball after you go to the red ball".
        var g = TestWorlds.Room();
        g.Put(2, 1, ObjectType.Ball, GridColor.Green);
        g.Put(1, 2, ObjectType.Ball, GridColor.Red);
        var instr = new AfterInstruction(new GoToInstruction(Bound(g, ObjectType.Ball, GridColor.Green, (2, 1))),
            new GoToInstruction(Bound(g, ObjectType.Ball, GridColor.Red, (1, 2))));
        using var env = TestWorlds.Env(g, 1, 1, 3, instr);
        Assert.Equal("go to the green ball after you go to the red ball", env.Mission);
        Assert.False(env.Step(Right).Done); // green first: not yet
        Assert.Equal(((VerifyStatus?)null, VerifyStatus.Continue), (instr.AStatus, instr.BStatus));
        Assert.False(env.Step(Right).Done); // red: B succeeds; A checked on the same step
        Assert.Equal((VerifyStatus.Continue, VerifyStatus.Success), (instr.AStatus, instr.BStatus));
        Assert.True(env.Step(Left).Terminated);
    }

    [Fact]
    public void OnePickupCompletesBothPartsWhenTheyDescribeTheSameObject()
    {
        // "pick up the grey box after you pick up a box": the later part has never been verified,
        // so its memory of what was carried is still empty when the pickup that completed B reaches it.
        var g = TestWorlds.Room();
        g.Put(2, 1, ObjectType.Box, GridColor.Grey);
        g.Put(4, 4, ObjectType.Box, GridColor.Red);
        var anyBox = new ObjectDescription(ObjectType.Box);
        anyBox.Bind(g, [(2, 1), (4, 4)]);
        var instr = new AfterInstruction(new PickupInstruction(Bound(g, ObjectType.Box, GridColor.Grey, (2, 1))), new PickupInstruction(anyBox));
        using var env = TestWorlds.Env(g, 1, 1, 0, instr);
        Assert.Equal("pick up the grey box after you pick up a box", env.Mission);
        Assert.True(env.Step(Pickup).Terminated);
        Assert.Equal((VerifyStatus.Success, VerifyStatus.Success), (instr.AStatus, instr.BStatus));
    }

    [Fact]
    public void PickingUpThenGoingToTheSameObjectSucceedsOnThePickupBecausePositionsOnlyMoveOnDrops()
    {
        var g = TestWorlds.Room();
        g.Put(2, 1, ObjectType.Ball, GridColor.Purple);
        var instr = new BeforeInstruction(new PickupInstruction(Bound(g, ObjectType.Ball, GridColor.Purple, (2, 1))),
            new GoToInstruction(Bound(g, ObjectType.Ball, GridColor.Purple, (2, 1))));
        using var env = TestWorlds.Env(g, 1, 1, 0, instr);
        var r = env.Step(Pickup);
        Assert.True(r.Terminated); // the agent faces the ball's old, now empty, cell
        Assert.Null(g.Get(2, 1));
    }

    [Fact]
    public void AndPartsAreStickyWhateverHappensBetween()
    {
        var g = TestWorlds.Room();
        g.Put(2, 1, ObjectType.Ball, GridColor.Green);
        g.Put(1, 2, ObjectType.Key, GridColor.Red);
        var instr = new AndInstruction(new GoToInstruction(Bound(g, ObjectType.Ball, GridColor.Green, (2, 1))),
            new GoToInstruction(Bound(g, ObjectType.Key, GridColor.Red, (1, 2))));
        using var env = TestWorlds.Env(g, 1, 1, 3, instr);
        Assert.False(env.Step(Right).Done); // green ball: A done
        Assert.Equal((VerifyStatus.Success, VerifyStatus.Continue), (instr.AStatus, instr.BStatus));
        Assert.False(env.Step(Left).Done); // facing the wall: A stays done
        Assert.False(env.Step(Left).Done);
        Assert.True(env.Step(Left).Terminated); // red key (south)
    }

    [Fact]
    public void DropsRefreshTrackedPositionsOfPartsNotYetActive()
    {
        // "open the blue door, then go to the green ball": the ball is moved before the door is
        // opened; the go-to, not yet verified, still follows it.
        var g = TestWorlds.Room();
        g.Put(2, 1, ObjectType.Ball, GridColor.Green);
        g.Put(3, 2, ObjectType.Door, GridColor.Blue, DoorState.Closed);
        var goTo = new GoToInstruction(Bound(g, ObjectType.Ball, GridColor.Green, (2, 1)));
        var instr = new BeforeInstruction(new OpenInstruction(Bound(g, ObjectType.Door, GridColor.Blue, (3, 2))), goTo);
        using var env = TestWorlds.Env(g, 1, 1, 0, instr);
        env.Step(Pickup);
        env.Step(Right); // facing (1,2)
        env.Step(Drop);
        Assert.Null(instr.BStatus);
        Assert.Equal([(1, 2)], goTo.Target.Positions);
        env.Step(Left); env.Step(Forward); env.Step(Right);
        Assert.Equal((2, 1, 1), (env.AgentX, env.AgentY, env.AgentDir));
        env.Step(Forward); env.Step(Left); // at (2,2) facing east: the door (3,2)
        Assert.False(env.Step(Toggle).Done); // A done; B checked: facing the door, not the ball
        Assert.Equal((VerifyStatus.Success, VerifyStatus.Continue), (instr.AStatus, instr.BStatus));
        env.Step(Right); // facing south (2,3)
        Assert.True(env.Step(Right).Terminated); // facing west: (1,2), where the ball now lies
    }

    [Fact]
    public void StrictSecondDoorFailsOnTheToggleThatOpensTheFirst()
    {
        // OpenDoorsOrder…Debug: both parts strict. The toggle that opens the first door is also the
        // first check of the second part, which then sees a door that is not its own.
        var g = TestWorlds.Room();
        g.Put(2, 1, ObjectType.Door, GridColor.Red, DoorState.Closed);
        g.Put(1, 2, ObjectType.Door, GridColor.Blue, DoorState.Closed);
        var instr = new BeforeInstruction(new OpenInstruction(Bound(g, ObjectType.Door, GridColor.Red, (2, 1)), strict: true),
            new OpenInstruction(Bound(g, ObjectType.Door, GridColor.Blue, (1, 2)), strict: true));
        using var env = TestWorlds.Env(g, 1, 1, 0, instr);
        var r = env.Step(Toggle);
        Assert.True(r.Terminated);
        Assert.Equal(0, r.Reward);
        Assert.Equal((VerifyStatus.Success, VerifyStatus.Failure), (instr.AStatus, instr.BStatus));
    }

    [Fact]
    public void StrictBeforeFailsWhenTheSecondPartIsDoneFirst()
    {
        var g = TestWorlds.Room();
        g.Put(2, 1, ObjectType.Ball, GridColor.Green);
        g.Put(1, 2, ObjectType.Ball, GridColor.Red);
        var instr = new BeforeInstruction(new GoToInstruction(Bound(g, ObjectType.Ball, GridColor.Red, (1, 2))),
            new GoToInstruction(Bound(g, ObjectType.Ball, GridColor.Green, (2, 1))), strict: true);
        using var env = TestWorlds.Env(g, 1, 1, 3, instr);
        var r = env.Step(Right); // green (B) before red (A)
        Assert.True(r.Terminated);
        Assert.Equal(0, r.Reward);
    }

    [Fact]
    public void AndWithDoneActionsFailsOnADoneThatConfirmsNeitherPart()
    {
        var g = TestWorlds.Room();
        g.Put(2, 1, ObjectType.Ball, GridColor.Green);
        g.Put(4, 4, ObjectType.Key, GridColor.Red);
        var instr = new AndInstruction(new GoToInstruction(Bound(g, ObjectType.Ball, GridColor.Green, (2, 1))),
            new GoToInstruction(Bound(g, ObjectType.Key, GridColor.Red, (4, 4)))) { UseDoneActions = true };
        Assert.True(instr.A.UseDoneActions && instr.B.UseDoneActions);
        using var env = TestWorlds.Env(g, 1, 1, 3, instr);
        var r = env.Step(Done);
        Assert.True(r.Terminated);
        Assert.Equal(0, r.Reward);
    }

    [Fact]
    public void SurfaceNavigationsAndPreOrderCoverTheWholeTree()
    {
        var g = TestWorlds.Room();
        g.Put(2, 1, ObjectType.Ball, GridColor.Green);
        g.Put(1, 2, ObjectType.Key, GridColor.Red);
        g.Put(4, 4, ObjectType.Box, GridColor.Grey);
        ObjectDescription Ball() => Bound(g, ObjectType.Ball, GridColor.Green, (2, 1));
        ObjectDescription Key() => Bound(g, ObjectType.Key, GridColor.Red, (1, 2));
        ObjectDescription Box() => Bound(g, ObjectType.Box, GridColor.Grey, (4, 4));
        var first = new AndInstruction(new GoToInstruction(Ball()), new PutNextInstruction(Key(), Box()));
        var second = new AndInstruction(new PickupInstruction(Box()), new GoToInstruction(Key()));
        var root = new AfterInstruction(first, second);
        Assert.Equal("go to the green ball and put the red key next to the grey box after you pick up the grey box and go to the red key", root.Surface());
        Assert.Equal(1 + 2 + 1 + 1, root.NavigationsNeeded);
        Assert.Equal([root, first, second], root.SequencesPreOrder());
        Assert.Equal(4, root.Leaves.Count());
        Assert.Throws<ArgumentException>(() => new BeforeInstruction(root, new GoToInstruction(Ball())));
        Assert.Throws<ArgumentException>(() => new AndInstruction(first, new GoToInstruction(Ball())));
    }
}
