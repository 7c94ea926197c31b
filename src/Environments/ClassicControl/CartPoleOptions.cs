namespace RLAgents.Environments.ClassicControl;

/// <summary>Options of <c>CartPole-v1</c> (JSON keys are the camelCase of the property names).</summary>
public sealed class CartPoleOptions
{
    /// <summary>
    /// Gymnasium's <c>sutton_barto_reward</c>: reward 0 on every non-terminating step and -1 on the
    /// terminating step, as in Barto, Sutton and Anderson (1983). Default false: reward 1 on every
    /// step, including the terminating one.
    /// </summary>
    public bool SuttonBartoReward { get; set; }
}
