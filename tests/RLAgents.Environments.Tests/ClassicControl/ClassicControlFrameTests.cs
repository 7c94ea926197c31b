using RLAgents.Environments.ClassicControl;

namespace RLAgents.Environments.Tests.ClassicControl;

/// <summary>The classic-control envs draw their state (the viewer's and the renderers' frame per step) where Gymnasium's pictures put it.</summary>
public sealed class ClassicControlFrameTests
{
    private static readonly (byte, byte, byte) White = (255, 255, 255), Rod = (204, 77, 77), Link = (0, 204, 204), Grey = (128, 128, 128), Flag = (204, 204, 0);
    private const double PendulumScale = 500 / 4.4;

    private static (byte, byte, byte) At(RgbFrame frame, double x, double y)
    {
        int i = ((int)y * frame.Width + (int)x) * 3;
        return (frame.Pixels[i], frame.Pixels[i + 1], frame.Pixels[i + 2]);
    }

    // Mean column of the pixels of one colour.
    private static double MeanX(RgbFrame frame, (byte R, byte G, byte B) colour)
    {
        double sum = 0;
        int count = 0;
        for (int y = 0; y < frame.Height; y++)
            for (int x = 0; x < frame.Width; x++)
                if (At(frame, x, y) == colour) { sum += x; count++; }
        Assert.True(count > 0, $"no pixel of colour {colour}");
        return sum / count;
    }

    [Theory]
    [InlineData("CartPole-v1", 300, 200)]
    [InlineData("MountainCar-v0", 600, 400)]
    [InlineData("MountainCarContinuous-v0", 600, 400)]
    [InlineData("Pendulum-v1", 500, 500)]
    [InlineData("Acrobot-v1", 500, 500)]
    public void EveryClassicEnvDrawsAFrameAndTextThroughItsWrappers(string id, int width, int height)
    {
        using var env = EnvRegistry.CreateDefault().Make(id);
        env.Reset(seed: 1);
        var frame = env.Find<IRenderFrame>()!.RenderFrame().Validate();
        Assert.Equal((width, height), (frame.Width, frame.Height));
        Assert.Contains(frame.Pixels, b => b != 255); // something is drawn on the white background
        Assert.False(string.IsNullOrWhiteSpace(env.Find<IRenderText>()!.RenderText()));
    }

    [Theory]
    [InlineData(0.0, 0.0, -1.0)]              // upright: the rod goes up from the axle
    [InlineData(Math.PI, 0.0, 1.0)]           // hanging
    [InlineData(Math.PI / 2, -1.0, 0.0)]      // a quarter turn counter-clockwise: to the left
    public void PendulumRodPointsAlongTheAngle(double theta, double dx, double dy)
    {
        var pendulum = new Pendulum();
        pendulum.Reset(seed: 0);
        pendulum.SetState([theta, 0]);
        var frame = pendulum.RenderFrame();
        double r = 0.8 * PendulumScale;
        Assert.Equal(Rod, At(frame, 250 + dx * r, 250 + dy * r));
        Assert.Equal(White, At(frame, 250 - dx * r, 250 - dy * r));
    }

    [Fact]
    public void AcrobotHangsDownAtRestAndReachesTheGoalLineUpsideDown()
    {
        var acrobot = new Acrobot();
        acrobot.Reset(seed: 0);
        acrobot.SetState([0, 0, 0, 0]);
        var hanging = acrobot.RenderFrame();
        Assert.Equal(Link, At(hanging, 250, 250 + 1.5 * PendulumScale));
        Assert.Equal(White, At(hanging, 250, 250 - 1.5 * PendulumScale));
        Assert.Equal((0, 0, 0), At(hanging, 10, 250 - PendulumScale)); // the goal line, one link length above the pivot
        acrobot.SetState([Math.PI, 0, 0, 0]);
        var up = acrobot.RenderFrame();
        Assert.Equal(Link, At(up, 250, 250 - 1.5 * PendulumScale));
        Assert.Equal(White, At(up, 250, 250 + 1.5 * PendulumScale));
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(-0.5)]
    [InlineData(0.3)]
    public void MountainCarsWheelsAndFlagStandWhereTheirPositionsAre(double position)
    {
        const double scale = 600 / 1.8;
        var car = new MountainCar();
        car.Reset(seed: 0);
        car.SetState([position, 0]);
        var continuous = new MountainCarContinuous();
        continuous.Reset(seed: 0);
        continuous.SetState([position, 0]);
        foreach (var (frame, goal) in new[] { (car.RenderFrame(), MountainCar.GoalPosition), (continuous.RenderFrame(), MountainCarContinuous.GoalPosition) })
        {
            // Two wheels a quarter car-length either side of the car's centre: their mean column is the car's.
            Assert.InRange(MeanX(frame, Grey), (position + 1.2) * scale - 2, (position + 1.2) * scale + 2);
            // The pennant spans 25 pixels right of the pole, tapering: its pixels' mean column is a third of the way along.
            Assert.InRange(MeanX(frame, Flag), (goal + 1.2) * scale + 6, (goal + 1.2) * scale + 11);
        }
    }
}
