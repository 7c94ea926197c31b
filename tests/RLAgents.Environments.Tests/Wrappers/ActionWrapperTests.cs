using RLAgents.Environments.ClassicControl;
using RLAgents.Environments.Tests.Core;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Tests.Wrappers;

public sealed class ActionWrapperTests
{
    private static readonly BoxSpace Square = new([0f, -4f], [10f, 4f], [2]);

    [Fact]
    public void ClipActionClampsEachContinuousElementToItsBoundsAndKeepsTheSpace()
    {
        var echo = new EchoEnv(Square);
        using var env = new ClipAction(echo);
        Assert.Same(Square, env.ActionSpace);
        env.Reset(seed: 0);
        env.Step([12.5f, -3f]);
        Assert.Equal([10f, -3f], echo.Last.Continuous);
        env.Step([-1e30f, 1e30f]);
        Assert.Equal([0f, 4f], echo.Last.Continuous);
        // Non-finite values are still rejected, before clipping.
        Assert.Throws<InvalidActionException>(() => env.Step([float.PositiveInfinity, 0f]));
    }

    [Fact]
    public void ClipActionPassesDiscretePartsOfADictThrough()
    {
        var echo = new EchoEnv(EchoEnv.GearAndSteering);
        using var env = new ClipAction(echo);
        env.Reset(seed: 0);
        env.Step(new EnvAction([1, 1, 3], [-2f, 0.5f]));
        Assert.Equal([1, 1, 3], echo.Last.Discrete);
        Assert.Equal([-1f, 0.5f], echo.Last.Continuous);
    }

    [Fact]
    public void ClipActionMakesPendulumsOutOfBoundsStepEqualTheBoundsStep()
    {
        using var clipped = new ClipAction(new Pendulum());
        using var plain = new Pendulum();
        clipped.Reset(seed: 9);
        plain.Reset(seed: 9);
        Assert.Equal(plain.Step([-2f]).Reward, clipped.Step([-7f]).Reward);
    }

    [Fact]
    public void WrappersOfContinuousActionsRefuseDiscreteSpaces()
    {
        Assert.Throws<UnsupportedActionSpaceException>(() => new ClipAction(new CartPole()));
        Assert.Throws<UnsupportedActionSpaceException>(() => new RescaleAction(new CartPole()));
    }

    [Fact]
    public void RescaleActionMapsMinusOneToOneOntoTheBoundsExactly()
    {
        var echo = new EchoEnv(Square);
        using var env = new RescaleAction(echo);
        var space = Assert.IsType<BoxSpace>(env.ActionSpace);
        Assert.Equal([-1f, -1f], space.Low.ToArray());
        Assert.Equal([1f, 1f], space.High.ToArray());
        Assert.Equal([2], space.ShapeArray());
        env.Reset(seed: 0);
        env.Step([-1f, 1f]);
        Assert.Equal([0f, 4f], echo.Last.Continuous);
        env.Step([1f, -1f]);
        Assert.Equal([10f, -4f], echo.Last.Continuous);
        env.Step([0f, 0.5f]);
        Assert.Equal([5f, 2f], echo.Last.Continuous);
        // Beyond [min, max] the map extrapolates; the inner env decides what that means.
        env.Step([2f, 0f]);
        Assert.Equal([15f, 0f], echo.Last.Continuous);
    }

    [Fact]
    public void RescaleActionTakesPerElementBoundsAndRescalesDictPartsInPlace()
    {
        var echo = new EchoEnv(Square);
        using var env = new RescaleAction(echo, [0f, 0f], [1f, 2f]);
        env.Reset(seed: 0);
        env.Step([0.25f, 2f]);
        Assert.Equal([2.5f, 4f], echo.Last.Continuous);

        var dictEcho = new EchoEnv(EchoEnv.GearAndSteering);
        using var dict = new RescaleAction(dictEcho, 0f, 4f);
        var rescaled = Assert.IsType<DictSpace>(dict.ActionSpace);
        Assert.Equal("Dict(gear: Discrete(3, start=-1), steer: Box(float32, [2], 0, 4), lights: MultiDiscrete([2, 4]))", rescaled.ToString());
        dict.Reset(seed: 0);
        dict.Step(new EnvAction([-1, 0, 2], [0f, 3f]));
        Assert.Equal([-1, 0, 2], dictEcho.Last.Discrete);
        Assert.Equal([-1f, 0.5f], dictEcho.Last.Continuous);
    }

    [Fact]
    public void RescaleActionNeedsFiniteInnerBoundsAndOrderedNewBounds()
    {
        var unbounded = new EchoEnv(new BoxSpace(float.NegativeInfinity, float.PositiveInfinity, [1]));
        Assert.Contains("finite bounds", Assert.Throws<ArgumentException>(() => new RescaleAction(unbounded)).Message);
        Assert.Throws<ArgumentException>(() => new RescaleAction(new EchoEnv(Square), 1f, -1f));
        Assert.Throws<ArgumentException>(() => new RescaleAction(new EchoEnv(Square), [0f], [1f]));
    }

    [Fact]
    public void RescaledPendulumTorqueOfOneIsTheMaximumTorque()
    {
        using var rescaled = new RescaleAction(new Pendulum());
        using var plain = new Pendulum();
        rescaled.Reset(seed: 2);
        plain.Reset(seed: 2);
        Assert.Equal(plain.Step([2f]).Observation.Floats(0).ToArray(), rescaled.Step([1f]).Observation.Floats(0).ToArray());
        Assert.Equal(plain.Step([-1f]).Observation.Floats(0).ToArray(), rescaled.Step([-0.5f]).Observation.Floats(0).ToArray());
    }
}
