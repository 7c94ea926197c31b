namespace RLAgents.Environments.GridWorld.Demonstrations;

/// <summary>
/// One expert episode for supervised fine-tuning. Step t pairs what the agent saw before acting
/// (<see cref="Images"/>[t], <see cref="Directions"/>[t], <see cref="Descriptions"/>[t]) with the
/// action it took (<see cref="Actions"/>[t]) and the reward that followed (<see cref="Rewards"/>[t]).
/// </summary>
public sealed class Demonstration
{
    /// <summary>Versioned environment id, e.g. <c>BabyAI-GoToLocal-v0</c>.</summary>
    public required string EnvId { get; init; }

    /// <summary>Reset seed that reproduces the episode's level.</summary>
    public required long Seed { get; init; }

    /// <summary>The mission text.</summary>
    public required string Mission { get; init; }

    /// <summary>Actions, one per step (0 left … 6 done).</summary>
    public required int[] Actions { get; init; }

    /// <summary>7×7×3 views (147 bytes each, Minigrid layout) seen before each action.</summary>
    public required byte[][] Images { get; init; }

    /// <summary>Agent directions seen before each action.</summary>
    public required int[] Directions { get; init; }

    /// <summary>Rewards after each action.</summary>
    public required double[] Rewards { get; init; }

    /// <summary>Natural-language view descriptions before each action, when recorded.</summary>
    public string[]? Descriptions { get; init; }

    /// <summary>Sum of rewards.</summary>
    public double Return => Rewards.Sum();

    /// <summary>Number of steps.</summary>
    public int Length => Actions.Length;

    /// <summary>Whether the episode ended with the mission accomplished.</summary>
    public required bool Success { get; init; }

    /// <summary>Throws naming the first inconsistency (array lengths, image sizes, action range).</summary>
    public void Validate()
    {
        int n = Actions.Length;
        if (Images.Length != n || Directions.Length != n || Rewards.Length != n || (Descriptions is not null && Descriptions.Length != n))
            throw new FormatException($"Demonstration of {EnvId} seed {Seed}: per-step arrays differ in length (actions {n}, images {Images.Length}, directions {Directions.Length}, rewards {Rewards.Length}).");
        for (int t = 0; t < n; t++)
        {
            if (Images[t].Length != GridConstants.ViewBytes) throw new FormatException($"Demonstration of {EnvId} seed {Seed}: image {t} has {Images[t].Length} bytes, not {GridConstants.ViewBytes}.");
            if ((uint)Actions[t] >= GridConstants.ActionCount) throw new FormatException($"Demonstration of {EnvId} seed {Seed}: action {t} is {Actions[t]}, outside Discrete(7).");
            if ((uint)Directions[t] > 3) throw new FormatException($"Demonstration of {EnvId} seed {Seed}: direction {t} is {Directions[t]}.");
        }
    }
}
