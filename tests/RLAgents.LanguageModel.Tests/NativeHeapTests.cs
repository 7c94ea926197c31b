using System.Runtime.InteropServices;

namespace RLAgents.LanguageModel.Tests;

/// <summary>
/// The native heap setting (<see cref="NativeHeap"/>): a freed block of tensor size goes back to the C heap, so the next
/// one of that size reuses its pages instead of mapping fresh ones and faulting on every page again.
/// </summary>
public sealed class NativeHeapTests
{
    [Fact]
    public void FreedTensorSizedBlocksAreReusedWithoutPageFaults()
    {
        if (!OperatingSystem.IsLinux()) return; // glibc's mallopt; elsewhere Apply leaves the platform's default
        string status = NativeHeap.Apply();
        Assert.Same(status, NativeHeap.Apply());
        Assert.Contains("stay in the heap", status);
        // A training step's pattern: a dozen activations of [256, 49, 64] floats (3.2 MB) made, then all freed. glibc's
        // default gives the freed top of the heap back to the kernel (trim) once it exceeds twice the largest block
        // freed, so the next step faults on every page again. Marshal.AllocHGlobal is malloc on Linux, the allocator
        // libtorch's CPU tensors come from.
        const int size = 256 * 49 * 64 * 4, count = 12, page = 4096;
        var blocks = new IntPtr[count];
        long Step()
        {
            long before = ThreadMinorFaults();
            for (int b = 0; b < count; b++)
            {
                blocks[b] = Marshal.AllocHGlobal(size);
                for (int offset = 0; offset < size; offset += page) Marshal.WriteByte(blocks[b], offset, 1); // touch every page
            }
            for (int b = count - 1; b >= 0; b--) Marshal.FreeHGlobal(blocks[b]);
            return ThreadMinorFaults() - before;
        }
        Step(); // the first step grows the heap: its pages fault once
        long faults = 0;
        for (int i = 0; i < 10; i++) faults += Step();
        // Each step touches 12 × 784 = 9,408 pages: glibc's default faults on (nearly) all of them every step.
        Assert.True(faults < 10 * 9408 / 20, $"{faults} minor page faults over 10 steps of 12 blocks of 3.2 MB");
    }

    // getrusage(RUSAGE_THREAD): ru_minflt is the 5th long after the two struct timevals (offset 64 on 64-bit Linux).
    private static long ThreadMinorFaults()
    {
        var usage = new long[18];
        Assert.Equal(0, GetRusage(1, usage));
        return usage[8];
    }

    [DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetRusage(int who, [Out] long[] usage);
}
