namespace RLAgents.Environments.Tests.Core;

public sealed class ActionTests
{
    [Fact]
    public void DiscreteLayoutIsOneIntegerWithItsRange()
    {
        var layout = new DiscreteSpace(4, start: 2).ActionLayout;
        Assert.True(layout.IsDiscrete);
        Assert.Equal(1, layout.DiscreteCount);
        Assert.Equal(0, layout.ContinuousCount);
        Assert.Equal([2], layout.DiscreteStarts.ToArray());
        Assert.Equal([4], layout.DiscreteSizes.ToArray());
        Assert.True(layout.ContainsDiscrete(0, 5));
        Assert.False(layout.ContainsDiscrete(0, 6));
        Assert.False(layout.ContainsDiscrete(0, 1));
    }

    [Fact]
    public void MultiDiscreteAndBoxLayoutsCountTheirElements()
    {
        var md = new MultiDiscreteSpace(3, 5, 2).ActionLayout;
        Assert.False(md.IsDiscrete);
        Assert.Equal([3, 5, 2], md.DiscreteSizes.ToArray());
        Assert.Equal([0, 0, 0], md.DiscreteStarts.ToArray());
        Assert.Equal(0, md.ContinuousCount);

        var box = new BoxSpace([-1f, 0f, -2f, 0f, -3f, 0f], [1f, 1f, 2f, 1f, 3f, 1f], [2, 3]).ActionLayout;
        Assert.Equal(0, box.DiscreteCount);
        Assert.Equal(6, box.ContinuousCount);
        Assert.Equal([-1f, 0f, -2f, 0f, -3f, 0f], box.Low.ToArray());
        Assert.Single(box.Parts);
        Assert.Equal("", box.Parts[0].Name);
    }

    [Fact]
    public void DictLayoutPutsDiscretePartsThenBoxPartsEachInPartOrder()
    {
        var layout = EchoEnv.GearAndSteering.ActionLayout;
        Assert.Equal(3, layout.DiscreteCount);   // gear, lights[0], lights[1]
        Assert.Equal(2, layout.ContinuousCount); // steer[0], steer[1]
        Assert.Equal([-1, 0, 0], layout.DiscreteStarts.ToArray());
        Assert.Equal([3, 2, 4], layout.DiscreteSizes.ToArray());
        Assert.Equal(["gear", "steer", "lights"], layout.Parts.Select(p => p.Name));
        Assert.Equal((0, 1, 0, 0), (layout.Parts[0].DiscreteOffset, layout.Parts[0].DiscreteCount, layout.Parts[0].ContinuousOffset, layout.Parts[0].ContinuousCount));
        Assert.Equal((1, 0, 0, 2), (layout.Parts[1].DiscreteOffset, layout.Parts[1].DiscreteCount, layout.Parts[1].ContinuousOffset, layout.Parts[1].ContinuousCount));
        Assert.Equal((1, 2, 2, 0), (layout.Parts[2].DiscreteOffset, layout.Parts[2].DiscreteCount, layout.Parts[2].ContinuousOffset, layout.Parts[2].ContinuousCount));
        Assert.Equal("Dict(gear: Discrete(3, start=-1), steer: Box(float32, [2], -1, 1), lights: MultiDiscrete([2, 4]))", EchoEnv.GearAndSteering.ToString());
        Assert.IsType<BoxSpace>(EchoEnv.GearAndSteering["steer"]);
        Assert.Contains("gear, steer, lights", Assert.Throws<KeyNotFoundException>(() => EchoEnv.GearAndSteering["brake"]).Message);
    }

    [Fact]
    public void DictRejectsDuplicateNamesAndPartsThatAreNotActions()
    {
        Assert.Throws<ArgumentException>(() => new DictSpace(("a", new DiscreteSpace(2)), ("a", new DiscreteSpace(3))));
        var nested = Assert.Throws<ArgumentException>(() => new DictSpace(("inner", new DictSpace(("a", new DiscreteSpace(2))))));
        Assert.Contains("'inner'", nested.Message);
        Assert.Throws<ArgumentException>(() => new DictSpace(("pixels", new BoxSpace(0, 255, [4], DType.UInt8))));
        Assert.Throws<ArgumentException>(() => new DictSpace());
    }

    [Fact]
    public void SpacesThatCannotBeActionsSayWhy()
    {
        var text = Assert.Throws<NotSupportedException>(() => new TextSpace(10).ActionLayout);
        Assert.Contains("cannot be an action space", text.Message);
        Assert.Throws<NotSupportedException>(() => new BoxSpace(0, 255, [3], DType.UInt8).ActionLayout);
        Assert.Throws<NotSupportedException>(() => ObservationSpace.Single("x", new DiscreteSpace(2)).ActionLayout);
    }

    [Fact]
    public void AsDiscreteReturnsTheSpaceOrThrowsOneLineNamingTheContextAndTheSpace()
    {
        var discrete = new DiscreteSpace(3);
        Assert.Same(discrete, discrete.AsDiscrete("DQN"));
        var box = new BoxSpace(-2f, 2f, [1]);
        var e = Assert.Throws<UnsupportedActionSpaceException>(() => box.AsDiscrete("DQN"));
        Assert.Equal("DQN needs a Discrete action space; the environment's is Box(float32, [1], -2, 2).", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Same(box, e.Space);
    }

    [Fact]
    public void ValidationRejectsOutOfRangeIntegersAndNonFiniteFloatsButPassesFiniteOutOfBoundsFloats()
    {
        var layout = EchoEnv.GearAndSteering.ActionLayout;
        Assert.Null(layout.Violation(new EnvAction([1, 1, 3], [0.5f, -0.5f])));
        Assert.Null(layout.Violation(new EnvAction([-1, 0, 0], [7f, -100f])));

        var low = Assert.Throws<InvalidActionException>(() => layout.Validate(new EnvAction([-2, 0, 0], [0f, 0f]), new EnvId("Car", 2)));
        Assert.Contains("Car-v2", low.Message);
        Assert.Contains("part 'gear'", low.Message);
        Assert.Equal((0, -2), (low.Element, low.Action));

        var lights = Assert.Throws<InvalidActionException>(() => layout.Validate(new EnvAction([0, 0, 4], [0f, 0f]), new EnvId("Car", 2), 3));
        Assert.Contains("Car-v2 (env 3)", lights.Message);
        Assert.Contains("part 'lights'[1]", lights.Message);
        Assert.Contains("[0, 3]", lights.Message);

        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            var e = Assert.Throws<InvalidActionException>(() => layout.Validate(new EnvAction([0, 0, 0], [0f, bad]), new EnvId("Car", 2)));
            Assert.Equal(1, e.Element);
            Assert.Null(e.Action);
            Assert.Contains("continuous action element 1 (part 'steer'[1])", e.Message);
            Assert.Contains("finite", e.Message);
        }

        var counts = Assert.Throws<InvalidActionException>(() => layout.Validate(new EnvAction([0], [0f, 0f]), new EnvId("Car", 2)));
        Assert.Contains("1 integers and 2 floats", counts.Message);
        Assert.Contains("takes 3 and 2", counts.Message);
        Assert.Null(counts.Element);
    }

    [Fact]
    public void SamplesOfEveryKindLieInTheSpaceAndRepeatWithTheSeed()
    {
        var layout = EchoEnv.GearAndSteering.ActionLayout;
        int[] d = new int[3], d2 = new int[3];
        float[] c = new float[2], c2 = new float[2];
        var a = new Rng(5UL);
        var b = new Rng(5UL);
        var seenGears = new HashSet<int>();
        for (int i = 0; i < 200; i++)
        {
            layout.Sample(a, d, c);
            layout.Sample(b, d2, c2);
            Assert.Equal(d, d2);
            Assert.Equal(c, c2);
            Assert.Null(layout.Violation(new EnvAction(d, c)));
            Assert.All(c, v => Assert.InRange(v, -1f, 1f));
            seenGears.Add(d[0]);
        }
        Assert.Equal([-1, 0, 1], seenGears.Order());
        Assert.Throws<ArgumentException>(() => layout.Sample(a, new int[2], c));
    }

    [Fact]
    public void ActionBatchSlotsAreEnvMajorViewsOfTwoArrays()
    {
        var batch = new ActionBatch(EchoEnv.GearAndSteering, 4);
        Assert.Equal(12, batch.Discrete.Length);
        Assert.Equal(8, batch.Continuous.Length);
        batch.Set(2, new EnvAction([1, 1, 2], [0.25f, -0.75f]));
        Assert.Equal([1, 1, 2], batch.Discrete[6..9]);
        Assert.Equal([0.25f, -0.75f], batch.Continuous[4..6]);
        var slot = batch[2];
        Assert.Equal([1, 1, 2], slot.Discrete.ToArray());
        Assert.Equal([0.25f, -0.75f], slot.Continuous.ToArray());
        Assert.Throws<ArgumentException>(() => batch.Set(0, new EnvAction([1], [0f, 0f])));
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = batch[4].Discrete.Length; });

        batch.Sample(new Rng(1UL));
        for (int i = 0; i < 4; i++) Assert.Null(batch.Layout.Violation(batch[i]));
        Assert.Equal("[1, 0] [0.25]", new EnvAction([1, 0], [0.25f]).ToString());
    }
}
