using System.Diagnostics;

namespace RLAgents.Benchmarks.Multimodal;

/// <summary>
/// Runs bench jobs on parallel lanes. Trainings that run at the same time each get their own child process (this
/// bench executable again): two trainings on two threads of one process once failed inside libtorch after 750 s
/// (an integer add given a float alpha), so lanes share nothing.
/// </summary>
internal static class ChildLanes
{
    /// <summary>Calls <paramref name="job"/>(0 … count−1) on <paramref name="lanes"/> threads, each taking the next job until none is left.</summary>
    public static void Run(int count, int lanes, Action<int> job)
    {
        int next = -1;
        void Lane()
        {
            for (int i; (i = Interlocked.Increment(ref next)) < count;) job(i);
        }
        var threads = Enumerable.Range(0, Math.Max(1, Math.Min(lanes, count))).Select(_ => new Thread(Lane) { IsBackground = false }).ToList();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
    }

    /// <summary>Runs this bench executable with <paramref name="args"/> in a child process (output shared) and returns its exit code.</summary>
    public static int RunChild(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        start.ArgumentList.Add(typeof(ChildLanes).Assembly.Location);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var child = Process.Start(start)!;
        child.WaitForExit();
        return child.ExitCode;
    }
}
