namespace RLAgents.Environments.ClassicControl;

/// <summary>Options of <c>Pendulum-v1</c> (JSON keys are the camelCase of the property names).</summary>
public sealed class PendulumOptions
{
    /// <summary>Gymnasium's <c>g</c>: gravitational acceleration (m/s²). Default 10.</summary>
    public double Gravity { get; set; } = 10.0;
}
