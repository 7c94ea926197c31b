using System.ComponentModel.DataAnnotations;

namespace RLAgents.Policies.Selection;

/// <summary>How the action selector turns preferences (policy logits or Q-values) into actions.</summary>
public enum SelectionStrategy
{
    /// <summary>Sample from softmax(logits) — on-policy training.</summary>
    Sample,
    /// <summary>Take the argmax — evaluation.</summary>
    Greedy,
    /// <summary>Argmax with probability 1−ε, a uniform action with probability ε — Q-learning exploration.</summary>
    EpsilonGreedy,
    /// <summary>Sample from softmax(preferences / temperature).</summary>
    Boltzmann,
    /// <summary>A uniformly random action of the space, ignoring the network (off-policy warm-up before learning starts).</summary>
    Uniform,
}

/// <summary>One acting call's strategy and its parameter.</summary>
/// <param name="Strategy">The strategy.</param>
/// <param name="Epsilon">Exploration probability for <see cref="SelectionStrategy.EpsilonGreedy"/>.</param>
/// <param name="Temperature">Softmax temperature for <see cref="SelectionStrategy.Boltzmann"/> (&gt; 0).</param>
/// <param name="NoiseScale">Greedy continuous actions only: scale of the noise added to the deterministic action, in units of half the Box's range (TD3's exploration noise); 0 for none.</param>
/// <param name="Noise">The process the noise draws come from (e.g. <see cref="OrnsteinUhlenbeckNoise"/>); null for independent standard normals.</param>
public readonly record struct ActionSelection(SelectionStrategy Strategy, double Epsilon = 0, double Temperature = 1, double NoiseScale = 0, IActionNoise? Noise = null)
{
    /// <summary>A uniformly random action.</summary>
    public static ActionSelection Uniform => new(SelectionStrategy.Uniform);

    /// <summary>
    /// The deterministic action plus <paramref name="noiseScale"/> × half the range × a draw of <paramref name="noise"/>
    /// (TD3; without a process, Gaussian noise of that std).
    /// </summary>
    public static ActionSelection NoisyGreedy(double noiseScale, IActionNoise? noise = null) => new(SelectionStrategy.Greedy, NoiseScale: noiseScale, Noise: noise);

    /// <summary>Sampling from the policy.</summary>
    public static ActionSelection Sample => new(SelectionStrategy.Sample);

    /// <summary>Greedy (argmax).</summary>
    public static ActionSelection Greedy => new(SelectionStrategy.Greedy);

    /// <summary>ε-greedy with the given ε.</summary>
    public static ActionSelection EpsilonGreedy(double epsilon) => new(SelectionStrategy.EpsilonGreedy, Epsilon: epsilon);

    /// <summary>Boltzmann with the given temperature.</summary>
    public static ActionSelection Boltzmann(double temperature) => new(SelectionStrategy.Boltzmann, Temperature: temperature);
}

/// <summary>
/// A value annealed linearly from <see cref="Start"/> to <see cref="End"/> over the first
/// <see cref="Fraction"/> of training, then held (CleanRL's and SB3's ε schedule).
/// </summary>
public sealed class LinearSchedule
{
    /// <summary>Value at step 0.</summary>
    [Range(0.0, double.MaxValue)]
    public double Start { get; set; } = 1.0;

    /// <summary>Value from the end of the annealing on.</summary>
    [Range(0.0, double.MaxValue)]
    public double End { get; set; } = 0.05;

    /// <summary>Fraction of the total steps over which the value anneals (0 = constant <see cref="End"/>).</summary>
    [Range(0.0, 1.0)]
    public double Fraction { get; set; } = 0.5;

    /// <summary>The value at <paramref name="step"/> of <paramref name="totalSteps"/>.</summary>
    public double ValueAt(long step, long totalSteps)
    {
        double duration = Fraction * totalSteps;
        if (duration <= 0) return End;
        double progress = Math.Clamp(step / duration, 0.0, 1.0);
        return Start + (End - Start) * progress;
    }
}
