using System.Diagnostics;
using System.Runtime.InteropServices;

namespace RLAgents.EpisodeLogs.Tests;

/// <summary>
/// Finds Debian's headless Chromium for the viewer's browser tests and, on a fresh machine where it is
/// missing, installs it (<c>apt-get update</c>, <c>apt-get install -y chromium</c>) when this process runs
/// as root and apt-get exists, so the README's <c>dotnet test</c> needs no set-up step of its own. Test
/// processes may race here: a file lock lets one install while the others wait and then find it.
/// </summary>
internal sealed class ChromiumInstaller(IReadOnlyList<string> searchPath, bool isRoot, string? aptGet, string lockFile)
{
    /// <summary>Executable names Debian and Ubuntu use.</summary>
    public static readonly string[] Names = ["chromium", "chromium-browser"];

    private static readonly Lock InProcess = new();

    /// <summary>The installer for this machine: PATH, the effective user, the apt-get on PATH.</summary>
    public static ChromiumInstaller ForThisMachine()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        string? apt = path.Select(d => Path.Combine(d, "apt-get")).FirstOrDefault(File.Exists);
        return new ChromiumInstaller(path, geteuid() == 0, apt, TempDirectory.Shared("chromium-install.lock"));
    }

    /// <summary>The first Chromium executable on the search path, or null.</summary>
    public string? Find() =>
        Names.SelectMany(n => searchPath.Select(d => Path.Combine(d, n))).FirstOrDefault(File.Exists);

    /// <summary>Chromium's path, installing it first when it is missing and this process can.</summary>
    /// <exception cref="InvalidOperationException">Missing and not installable here; the message says what to run.</exception>
    public string Ensure()
    {
        if (Find() is { } found) return found;
        const string manual = "apt-get update && apt-get install -y chromium";
        if (!isRoot) throw new InvalidOperationException($"Chromium is not installed and this test run is not root, so it cannot install it; run as root: {manual}");
        if (aptGet is null) throw new InvalidOperationException($"Chromium is not installed and there is no apt-get on PATH to install it; install Debian's chromium ({manual}).");
        lock (InProcess)
        {
            using var crossProcess = AcquireFileLock(lockFile, TimeSpan.FromMinutes(15));
            // Another test process may have installed it while this one waited for the lock.
            if (Find() is { } installed) return installed;
            Apt("update", "-qq");
            Apt("install", "-y", "-qq", "chromium");
            return Find() ?? throw new InvalidOperationException($"apt-get installed chromium, but no {string.Join(" or ", Names)} is on PATH ({string.Join(':', searchPath)}).");
        }
    }

    private void Apt(params string[] args)
    {
        var psi = new ProcessStartInfo(aptGet!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(15)))
        {
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{aptGet} {string.Join(' ', args)} did not finish within 15 minutes.");
        }
        _ = stdout.Result;
        if (p.ExitCode != 0)
        {
            string last = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
            throw new InvalidOperationException($"{aptGet} {string.Join(' ', args)} exited with {p.ExitCode}: {last}");
        }
    }

    private static FileStream AcquireFileLock(string path, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(500);
            }
        }
    }

    [DllImport("libc")]
    private static extern uint geteuid();
}
