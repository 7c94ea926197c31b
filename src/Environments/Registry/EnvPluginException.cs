namespace RLAgents.Environments;

/// <summary>A plug-in environment could not be loaded; the message names the assembly path and type.</summary>
public sealed class EnvPluginException : Exception
{
    /// <summary>Creates the error.</summary>
    public EnvPluginException(string message, Exception? inner = null) : base(message, inner) { }
}
