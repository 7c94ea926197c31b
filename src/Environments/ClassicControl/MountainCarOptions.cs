namespace RLAgents.Environments.ClassicControl;

/// <summary>
/// Options of <c>MountainCar-v0</c> and <c>MountainCarContinuous-v0</c> (JSON keys are the camelCase
/// of the property names).
/// </summary>
public sealed class MountainCarOptions
{
    /// <summary>
    /// Gymnasium's <c>goal_velocity</c>: the episode terminates once the car is at the goal position
    /// with at least this velocity. Default 0.
    /// </summary>
    public double GoalVelocity { get; set; }
}
