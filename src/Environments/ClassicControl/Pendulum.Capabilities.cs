using System.Globalization;

namespace RLAgents.Environments.ClassicControl;

/// <summary>Pendulum's optional abilities: pictures and text of its state.</summary>
public sealed partial class Pendulum : IRenderFrame, IRenderText
{
    private const int FrameSize = 500;

    /// <summary>
    /// The rod as Gymnasium draws it (500×500, 500/4.4 pixels per metre): a red rod of one metre and 0.2 wide from
    /// the centre, θ = 0 pointing up and positive θ counter-clockwise, rounded at its tip, on a black axle.
    /// </summary>
    public RgbFrame RenderFrame()
    {
        var canvas = new ControlCanvas(FrameSize, FrameSize);
        double scale = FrameSize / 4.4, centre = FrameSize / 2.0;
        double tipX = centre - Length * scale * Math.Sin(_theta), tipY = centre - Length * scale * Math.Cos(_theta);
        canvas.Segment(centre, centre, tipX, tipY, 0.1 * scale, (204, 77, 77));
        canvas.FillDisc(centre, centre, 0.05 * scale, (0, 0, 0));
        return canvas.ToFrame();
    }

    /// <summary>The angle (normalised into [−π, π)) and angular velocity.</summary>
    public string RenderText()
    {
        var f = CultureInfo.InvariantCulture;
        double theta = _theta - 2 * Math.PI * Math.Floor((_theta + Math.PI) / (2 * Math.PI));
        return $"theta={theta.ToString("0.000", f)} theta_dot={_thetaDot.ToString("0.000", f)}\n";
    }
}
