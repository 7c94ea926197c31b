using System.Globalization;

namespace RLAgents.Environments.ClassicControl;

/// <summary>Acrobot's optional abilities: pictures and text of its state, action names.</summary>
public sealed partial class Acrobot : IRenderFrame, IRenderText, IActionNames
{
    private const int FrameSize = 500;

    /// <inheritdoc />
    public IReadOnlyList<string> ActionNames { get; } = ["torque -1", "torque 0", "torque +1"];

    /// <summary>
    /// The two links as Gymnasium draws them (500×500, 500/4.4 pixels per metre): cyan links 0.2 wide hanging
    /// from the centre (θ₁ = θ₂ = 0 straight down), yellow joints, and the black goal line one link length above the pivot.
    /// </summary>
    public RgbFrame RenderFrame()
    {
        var canvas = new ControlCanvas(FrameSize, FrameSize);
        double scale = FrameSize / 4.4, centre = FrameSize / 2.0;
        canvas.Segment(0, centre - LinkLength1 * scale, FrameSize, centre - LinkLength1 * scale, 0.5, (0, 0, 0));
        // Joint positions with y up in the world, then to rows: the elbow and the tip.
        double x1 = LinkLength1 * Math.Sin(_theta1), y1 = -LinkLength1 * Math.Cos(_theta1);
        double x2 = x1 + LinkLength2 * Math.Sin(_theta1 + _theta2), y2 = y1 - LinkLength2 * Math.Cos(_theta1 + _theta2);
        (double X, double Y) ToPixel(double x, double y) => (centre + x * scale, centre - y * scale);
        var (pivot, elbow, tip) = (ToPixel(0, 0), ToPixel(x1, y1), ToPixel(x2, y2));
        canvas.Segment(pivot.X, pivot.Y, elbow.X, elbow.Y, 0.1 * scale, (0, 204, 204));
        canvas.Segment(elbow.X, elbow.Y, tip.X, tip.Y, 0.1 * scale, (0, 204, 204));
        canvas.FillDisc(pivot.X, pivot.Y, 0.1 * scale, (204, 204, 0));
        canvas.FillDisc(elbow.X, elbow.Y, 0.1 * scale, (204, 204, 0));
        return canvas.ToFrame();
    }

    /// <summary>The joint angles and velocities.</summary>
    public string RenderText()
    {
        var f = CultureInfo.InvariantCulture;
        return $"theta1={_theta1.ToString("0.000", f)} theta2={_theta2.ToString("0.000", f)} dtheta1={_dtheta1.ToString("0.000", f)} dtheta2={_dtheta2.ToString("0.000", f)}\n";
    }
}
