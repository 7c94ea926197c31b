namespace RLAgents.Environments;

/// <summary>
/// Optional registry metadata on a plug-in environment class loaded by
/// <see cref="EnvRegistry.LoadPlugin"/>: its versioned id, step limit and description.
/// Without it a plug-in is registered as <c>TypeName-v0</c> with no step limit.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class EnvironmentInfoAttribute : Attribute
{
    /// <summary>Declares the versioned id, e.g. <c>MyEnv-v0</c>.</summary>
    public EnvironmentInfoAttribute(string id) => Id = id;

    /// <summary>Versioned id (<c>Name-vN</c>).</summary>
    public string Id { get; }

    /// <summary>Step limit the time-limit wrapper enforces; 0 (the default) means none.</summary>
    public int MaxEpisodeSteps { get; set; }

    /// <summary>One line for <c>rlagents envs</c>.</summary>
    public string Description { get; set; } = "";
}
