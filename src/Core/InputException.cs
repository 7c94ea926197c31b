namespace RLAgents.Core;

/// <summary>
/// A file, folder or name the user gave cannot be used as given (an output that would overwrite an
/// input, a run name that leaves its folder, an input of the wrong kind). The message is one line that
/// names the path; hosts print it without a stack trace and exit with code 2.
/// </summary>
public sealed class InputException(string message) : Exception(message);

/// <summary>Checks on the paths users give, shared by every verb that writes files.</summary>
public static class UserPaths
{
    /// <summary>
    /// Throws <see cref="InputException"/> when <paramref name="output"/> is one of <paramref name="inputs"/>
    /// (the same file by full path or through a symbolic link): outputs never overwrite inputs.
    /// </summary>
    /// <param name="option">How the user named the output, e.g. <c>--out</c>.</param>
    /// <param name="output">The file about to be written.</param>
    /// <param name="inputs">Files the same command reads.</param>
    public static void EnsureNotAnInput(string option, string output, params IEnumerable<string> inputs)
    {
        string target = Canonical(output);
        foreach (var input in inputs)
            if (string.Equals(Canonical(input), target, StringComparison.Ordinal))
                throw new InputException($"{option} {output} is also an input of this command; choose another file (inputs are never overwritten)");
    }

    /// <summary>
    /// Null when <paramref name="name"/> is a single folder name, else why not: it must not be empty, hold path
    /// separators, be <c>.</c> or <c>..</c>, or hold characters a file system rejects (so that a run directory
    /// named after it stays inside its parent).
    /// </summary>
    public static string? FolderNameProblem(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return "a name is required";
        if (name is "." or ".." || name.IndexOfAny(['/', '\\']) >= 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.Any(char.IsControl))
            return $"'{name}' is not a folder name (no '/', '\\', '..' or control characters): the run directory must stay inside its parent folder";
        return null;
    }

    // The full path with symbolic links of the file itself resolved.
    private static string Canonical(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            if (new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } target) return Path.GetFullPath(target.FullName);
        }
        catch (IOException)
        {
        }
        return full;
    }
}
