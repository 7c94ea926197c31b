namespace RLAgents.TestKit;

/// <summary>
/// The one temporary-directory helper of every test project (linked into each one by tests/Directory.Build.props):
/// a fresh, uniquely named, empty directory under <see cref="Root"/>, deleted with everything in it on
/// <see cref="Dispose"/>. Tests write only inside such a directory, never elsewhere in the system temp folder, so a
/// crashed run's leftovers sit in one place (<c>/tmp/rlagents-tests</c> on Linux) that can be removed wholesale.
/// </summary>
/// <remarks>
/// Use with <c>using var dir = new TempDirectory();</c>. A path that must not exist yet (a run directory the code
/// under test creates itself) is <c>dir.Combine("run")</c>; a second empty directory is <c>dir.CreateDirectory("b")</c>.
/// </remarks>
internal sealed class TempDirectory : IDisposable
{
    /// <summary>The folder under the system temp folder that holds every test's directories.</summary>
    public static string Root => System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rlagents-tests");

    /// <summary>Creates a new empty directory under <see cref="Root"/>.</summary>
    public TempDirectory() : this(Guid.NewGuid().ToString("N"))
    {
    }

    private TempDirectory(string name)
    {
        Path = System.IO.Path.Combine(Root, name);
        Directory.CreateDirectory(Path);
    }

    /// <summary>The directory's absolute path.</summary>
    public string Path { get; }

    /// <summary>
    /// A path inside the directory (<paramref name="parts"/> joined under <see cref="Path"/>). Nothing is created: in a
    /// fresh directory it names a file or directory that does not exist yet.
    /// </summary>
    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Creates the directory <see cref="Combine"/>(<paramref name="parts"/>) (and its parents) and returns its path.</summary>
    public string CreateDirectory(params string[] parts) => Directory.CreateDirectory(Combine(parts)).FullName;

    /// <summary>
    /// A path for the file <paramref name="name"/> in a new empty subdirectory, so that two calls with one name (two
    /// recordings called log.arrows) never meet; nothing is created but the subdirectory.
    /// </summary>
    public string NewFile(string name) => System.IO.Path.Combine(NewDirectory(), name);

    /// <summary>Creates a new, uniquely named, empty subdirectory and returns its path.</summary>
    public string NewDirectory() => CreateDirectory(Guid.NewGuid().ToString("N"));

    /// <summary>
    /// One directory for the whole test process: for kit helpers whose files outlive the call that made them (a
    /// recorded log handed back to the test). A test itself takes a <c>using</c> instance.
    /// </summary>
    /// <remarks>
    /// It is deleted when the process exits normally; the test platform may end its host before that, so the first
    /// process-wide directory of each test process also deletes those of processes that are no longer running.
    /// </remarks>
    public static TempDirectory ForProcess => ProcessWide.Value;

    private const string ProcessPrefix = "process-";

    private static readonly Lazy<TempDirectory> ProcessWide = new(() =>
    {
        DeleteLeftoversOfEndedProcesses();
        var directory = new TempDirectory($"{ProcessPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => directory.Dispose();
        return directory;
    });

    private static void DeleteLeftoversOfEndedProcesses()
    {
        if (!Directory.Exists(Root)) return;
        foreach (var dir in Directory.EnumerateDirectories(Root, ProcessPrefix + "*"))
        {
            // process-<pid>-<guid>: kept while a process with that id runs (a reused id only delays the clean-up).
            var parts = System.IO.Path.GetFileName(dir).Split('-');
            if (parts.Length != 3 || !int.TryParse(parts[1], out int pid) || IsRunning(pid)) continue;
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // Another test process is deleting it at the same moment.
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>
    /// A path under <see cref="Root"/> that every test process shares (a lock file serialising a machine-wide set-up
    /// step); <see cref="Root"/> is created, the file is not.
    /// </summary>
    public static string Shared(string name) => System.IO.Path.Combine(Directory.CreateDirectory(Root).FullName, name);

    /// <summary>Deletes the directory and everything in it; a directory already deleted (by the test itself) is fine.</summary>
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // The test removed it itself (or never needed it); nothing is left to clean.
        }
    }
}
