using System.Globalization;

namespace RLAgents.Environments.ClassicControl;

/// <summary>MountainCar's optional abilities: pictures and text of its state, action names.</summary>
public sealed partial class MountainCar : IRenderFrame, IRenderText, IActionNames
{
    private const int FrameWidth = 600, FrameHeight = 400;

    /// <inheritdoc />
    public IReadOnlyList<string> ActionNames { get; } = ["accelerate left", "don't accelerate", "accelerate right"];

    /// <summary>The hill, the car and the goal flag as Gymnasium draws them (600×400).</summary>
    public RgbFrame RenderFrame() => Frame(_position, GoalPosition);

    /// <summary>The position and velocity.</summary>
    public string RenderText() => Text(_position, _velocity, GoalPosition);

    /// <summary>
    /// The picture of both mountain cars (<paramref name="goal"/> is where the flag stands): the track
    /// y = 0.45·sin(3x) + 0.55 over [−1.2, 0.6] at 600/1.8 pixels per unit, a 40×20 car tilted with the slope
    /// and lifted 10 pixels on two grey wheels, and a yellow flag on a 50-pixel pole.
    /// </summary>
    internal static RgbFrame Frame(double position, double goal)
    {
        var canvas = new ControlCanvas(FrameWidth, FrameHeight);
        double scale = FrameWidth / (MaxPosition - MinPosition);
        static double Height(double x) => Math.Sin(3 * x) * 0.45 + 0.55;
        // World (x, height) to pixels: y up in the world, rows down in the frame.
        (double X, double Y) ToPixel(double x, double up) => ((x - MinPosition) * scale, FrameHeight - up);
        (double X, double Y) previous = ToPixel(MinPosition, Height(MinPosition) * scale);
        for (int i = 1; i < 100; i++)
        {
            double x = MinPosition + i * (MaxPosition - MinPosition) / 99;
            var next = ToPixel(x, Height(x) * scale);
            canvas.Segment(previous.X, previous.Y, next.X, next.Y, 1, (0, 0, 0));
            previous = next;
        }
        // The car: a body of 40×20 along the slope's direction, its underside 10 pixels above the track.
        const double carWidth = 40, carHeight = 20, clearance = 10;
        double angle = Math.Cos(3 * position);
        var (baseX, baseY) = ToPixel(position, clearance + Height(position) * scale);
        double ux = Math.Cos(angle), uy = -Math.Sin(angle); // along the car, in pixels (rows grow downwards)
        double nx = -Math.Sin(angle), ny = -Math.Cos(angle); // the car's up
        (double X, double Y) Car(double along, double up) => (baseX + along * ux + up * nx, baseY + along * uy + up * ny);
        var (l, r) = (Car(-carWidth / 2 + carHeight / 2, carHeight / 2), Car(carWidth / 2 - carHeight / 2, carHeight / 2));
        canvas.Segment(l.X, l.Y, r.X, r.Y, carHeight / 2, (0, 0, 0));
        foreach (double along in new[] { -carWidth / 4, carWidth / 4 })
        {
            var wheel = Car(along, 0);
            canvas.FillDisc(wheel.X, wheel.Y, carHeight / 2.5, (128, 128, 128));
        }
        // The flag at the goal: a black pole of 50 pixels and a yellow pennant at its top.
        var (flagX, flagY) = ToPixel(goal, Height(goal) * scale);
        canvas.Segment(flagX, flagY, flagX, flagY - 50, 0.5, (0, 0, 0));
        for (int i = 0; i <= 25; i++) canvas.Segment(flagX + i, flagY - 50 + i * 5.0 / 25, flagX + i, flagY - 40 - i * 5.0 / 25, 0.5, (204, 204, 0));
        return canvas.ToFrame();
    }

    /// <summary>A line with the car's position, velocity and the goal.</summary>
    internal static string Text(double position, double velocity, double goal)
    {
        var f = CultureInfo.InvariantCulture;
        return $"position={position.ToString("0.0000", f)} velocity={velocity.ToString("0.00000", f)} goal={goal.ToString("0.00", f)}\n";
    }
}
