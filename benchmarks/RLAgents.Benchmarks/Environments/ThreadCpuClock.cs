using System.Runtime.InteropServices;
using Perfolizer.Horology;

namespace RLAgents.Benchmarks.Environments;

/// <summary>
/// A clock that reads the calling thread's CPU time (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>), so a
/// single-threaded benchmark measures time per core even on a machine shared with other builds:
/// time the thread spends descheduled is not counted. Use it in-process only.
/// </summary>
public sealed class ThreadCpuClock : IClock
{
    private const int ClockThreadCpuTimeId = 3;

    public string Title => "Thread CPU time";

    public bool IsAvailable => OperatingSystem.IsLinux();

    public Frequency Frequency => Frequency.GHz; // nanoseconds

    public long GetTimestamp()
    {
        if (ClockGetTime(ClockThreadCpuTimeId, out var ts) != 0) throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed.");
        return ts.Seconds * 1_000_000_000L + ts.Nanoseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clockId, out TimeSpec time);
}
