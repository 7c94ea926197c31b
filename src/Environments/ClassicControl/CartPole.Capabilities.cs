using System.Globalization;
using System.Text.Json;

namespace RLAgents.Environments.ClassicControl;

/// <summary>CartPole's optional abilities: pictures and text of its state, action names, start states.</summary>
public sealed partial class CartPole : IRenderFrame, IRenderText, IActionNames, IStartStateEnv
{
    private const int FrameWidth = 300, FrameHeight = 200;

    /// <inheritdoc />
    public IReadOnlyList<string> ActionNames { get; } = ["push left", "push right"];

    /// <summary>The cart, pole, track and axle as Gymnasium draws them, scaled to 300×200.</summary>
    public RgbFrame RenderFrame()
    {
        var canvas = new ControlCanvas(FrameWidth, FrameHeight);
        double x = _obs[0], theta = _obs[2];
        double scale = FrameWidth / (2 * XThreshold);
        int cartY = 130, cartW = 25, cartH = 15;
        int cx = (int)(x * scale + FrameWidth / 2.0);
        canvas.FillRect(0, cartY + cartH / 2, FrameWidth, 1, (0, 0, 0));
        canvas.FillRect(cx - cartW, cartY - cartH, 2 * cartW, 2 * cartH, (0, 0, 0));
        // The pole: a 5-pixel-thick segment from the axle, 2 × Length in world units.
        double len = 2 * Length * scale;
        for (double r = 0; r <= len; r += 0.5)
        {
            int px0 = (int)(cx + r * Math.Sin(theta)), py0 = (int)(cartY - cartH - r * Math.Cos(theta));
            canvas.FillRect(px0 - 2, py0 - 2, 5, 5, (202, 152, 101));
        }
        canvas.FillRect(cx - 3, cartY - cartH - 3, 7, 7, (129, 132, 203));
        return canvas.ToFrame();
    }

    /// <summary>The cart on a 61-character track with the pole's lean, and the four state values.</summary>
    public string RenderText()
    {
        const int width = 61;
        double x = _obs[0], theta = _obs[2];
        int pos = Math.Clamp((int)Math.Round((x + XThreshold) / (2 * XThreshold) * (width - 1)), 0, width - 1);
        char pole = theta > 0.07 ? '/' : theta < -0.07 ? '\\' : '|';
        var track = new char[width];
        Array.Fill(track, '_');
        var top = new char[width];
        Array.Fill(top, ' ');
        top[pos] = pole;
        track[pos] = '#';
        var f = CultureInfo.InvariantCulture;
        return $"{new string(top)}\n{new string(track)}\nx={_obs[0].ToString("0.000", f)} v={_obs[1].ToString("0.000", f)} theta={_obs[2].ToString("0.000", f)} omega={_obs[3].ToString("0.000", f)}\n";
    }

    /// <summary>The float64 physical state (x, ẋ, θ, θ̇) with round-trip precision: <c>{"state":[…]}</c>.</summary>
    public string CaptureStartState() => JsonSerializer.Serialize(new Dictionary<string, double[]> { ["state"] = State });

    /// <inheritdoc />
    public Observation RestoreStartState(string startState)
    {
        double[]? state;
        try
        {
            state = JsonSerializer.Deserialize<Dictionary<string, double[]>>(startState)?.GetValueOrDefault("state");
        }
        catch (JsonException)
        {
            state = null;
        }
        if (state is not { Length: 4 }) throw new FormatException($"CartPole start state must be {{\"state\":[x,xDot,theta,thetaDot]}}, got: {startState}");
        return SetState(state);
    }
}
