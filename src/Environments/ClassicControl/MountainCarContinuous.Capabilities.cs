namespace RLAgents.Environments.ClassicControl;

/// <summary>MountainCarContinuous's optional abilities: pictures and text of its state (MountainCar's picture with its goal at 0.45).</summary>
public sealed partial class MountainCarContinuous : IRenderFrame, IRenderText
{
    /// <summary>The hill, the car and the goal flag as Gymnasium draws them (600×400).</summary>
    public RgbFrame RenderFrame() => MountainCar.Frame(_position, GoalPosition);

    /// <summary>The position and velocity.</summary>
    public string RenderText() => MountainCar.Text(_position, _velocity, GoalPosition);
}
