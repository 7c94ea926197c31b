using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace RLAgents.Experiments.Tests;

/// <summary>
/// Runs the <c>rlagents</c> executable with its standard streams on a Linux pseudo-terminal
/// (<c>posix_openpt</c>), so it sees an interactive terminal: tests type keys into it and read the screen.
/// </summary>
internal sealed partial class PseudoTerminal : IDisposable
{
    private const int ReadWrite = 2, NoControllingTerminal = 0x100; // O_RDWR, O_NOCTTY on Linux
    private const uint SetWindowSize = 0x5414; // TIOCSWINSZ

    private readonly SafeFileHandle _master;
    private readonly FileStream _input, _output;
    private readonly StringBuilder _screen = new();
    private readonly Thread _reader;
    private readonly Process _process;

    [StructLayout(LayoutKind.Sequential)]
    private struct WindowSize
    {
        public ushort Rows, Columns, Width, Height;
    }

    [LibraryImport("libc", EntryPoint = "posix_openpt", SetLastError = true)]
    private static partial int OpenMaster(int flags);

    [LibraryImport("libc", EntryPoint = "grantpt", SetLastError = true)]
    private static partial int Grant(int fd);

    [LibraryImport("libc", EntryPoint = "unlockpt", SetLastError = true)]
    private static partial int Unlock(int fd);

    [LibraryImport("libc", EntryPoint = "ptsname_r", SetLastError = true)]
    private static partial int SlaveName(int fd, [Out] byte[] buffer, nuint length);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int SetSize(int fd, uint request, ref WindowSize size);

    [LibraryImport("libc", EntryPoint = "dup", SetLastError = true)]
    private static partial int Duplicate(int fd);

    /// <summary>Starts <c>rlagents</c> (the build in the test output) with <paramref name="args"/> on a new terminal of 120×50.</summary>
    public PseudoTerminal(params string[] args)
    {
        int fd = OpenMaster(ReadWrite | NoControllingTerminal);
        if (fd < 0) throw new InvalidOperationException($"posix_openpt failed (errno {Marshal.GetLastPInvokeError()})");
        _master = new SafeFileHandle(fd, ownsHandle: true);
        var name = new byte[256];
        if (Grant(fd) != 0 || Unlock(fd) != 0 || SlaveName(fd, name, (nuint)name.Length) != 0)
            throw new InvalidOperationException($"setting up the pseudo-terminal failed (errno {Marshal.GetLastPInvokeError()})");
        var size = new WindowSize { Rows = 50, Columns = 120 };
        SetSize(fd, SetWindowSize, ref size);
        string slave = Encoding.ASCII.GetString(name, 0, Array.IndexOf(name, (byte)0));
        _output = new FileStream(new SafeFileHandle(Duplicate(fd), ownsHandle: true), FileAccess.Write, 1);
        _input = new FileStream(new SafeFileHandle(Duplicate(fd), ownsHandle: true), FileAccess.Read, 1);

        // The shell puts the terminal on the child's three standard streams, then becomes the child.
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$0\" \"$@\" <\"$RLAGENTS_TTY\" >\"$RLAGENTS_TTY\" 2>&1");
        start.ArgumentList.Add(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rlagents.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["RLAGENTS_TTY"] = slave;
        start.Environment["TERM"] = "xterm";
        _process = Process.Start(start)!;
        _reader = new Thread(Read) { IsBackground = true };
        _reader.Start();
    }

    /// <summary>Everything the program wrote so far.</summary>
    public string Screen
    {
        get { lock (_screen) return _screen.ToString(); }
    }

    /// <summary>Types <paramref name="keys"/> (characters or escape sequences).</summary>
    public void Type(string keys)
    {
        var bytes = Encoding.UTF8.GetBytes(keys);
        _output.Write(bytes);
        _output.Flush();
    }

    /// <summary>Waits until the screen contains <paramref name="text"/> (after <paramref name="from"/> characters); returns where it starts.</summary>
    public int WaitFor(string text, int from = 0, double seconds = 120)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            string screen = Screen;
            int at = screen.IndexOf(text, Math.Min(from, screen.Length), StringComparison.Ordinal);
            if (at >= 0) return at;
            if (_process.HasExited && clock.Elapsed.TotalSeconds > 1 && Screen.IndexOf(text, Math.Min(from, Screen.Length), StringComparison.Ordinal) < 0)
                throw new InvalidOperationException($"rlagents exited ({_process.ExitCode}) before showing '{text}'. Screen:\n{Tail(Screen)}");
            Thread.Sleep(20);
        }
        throw new TimeoutException($"'{text}' did not appear in {seconds} s. Screen:\n{Tail(Screen)}");
    }

    /// <summary>Waits for the program to exit and returns its exit code.</summary>
    public int WaitForExit(double seconds = 120)
    {
        if (!_process.WaitForExit(TimeSpan.FromSeconds(seconds))) throw new TimeoutException($"rlagents did not exit. Screen:\n{Tail(Screen)}");
        _reader.Join(TimeSpan.FromSeconds(5));
        return _process.ExitCode;
    }

    private static string Tail(string s) => s.Length > 3000 ? s[^3000..] : s;

    private void Read()
    {
        var buffer = new byte[4096];
        var decoder = Encoding.UTF8.GetDecoder();
        var chars = new char[8192];
        try
        {
            int n;
            while ((n = _input.Read(buffer)) > 0)
            {
                int c = decoder.GetChars(buffer, 0, n, chars, 0);
                lock (_screen) _screen.Append(chars, 0, c);
            }
        }
        catch (IOException)
        {
            // EIO: the last holder of the terminal's other end closed it (the program exited).
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
        _output.Dispose();
        _input.Dispose();
        _master.Dispose();
    }
}
