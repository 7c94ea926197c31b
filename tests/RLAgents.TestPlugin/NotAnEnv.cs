namespace RLAgents.TestPlugin;

/// <summary>A type that is not an environment, for the registry's error-path tests.</summary>
public sealed class NotAnEnv
{
    /// <summary>A member so the type is not empty.</summary>
    public int Value { get; set; }
}
