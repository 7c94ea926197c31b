namespace RLAgents.Environments.Configuration;

/// <summary>
/// A configuration mistake a user can fix: an unknown key, a wrong type, a value out of range, a
/// missing file. <see cref="Exception.Message"/> is one line that names the key path; hosts print
/// it without a stack trace and exit with code 2.
/// </summary>
public sealed class ConfigurationException : Exception
{
    /// <summary>Creates the error for the key at <paramref name="path"/> (e.g. <c>algorithm.ppo.clipRange</c>).</summary>
    public ConfigurationException(string path, string problem)
        : base(string.IsNullOrEmpty(path) ? problem : $"{path}: {problem}")
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>Dotted key path of the offending value ("" for the whole document).</summary>
    public string Path { get; }

    /// <summary>What is wrong, without the path.</summary>
    public string Problem { get; }
}
