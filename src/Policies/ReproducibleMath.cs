using System.Runtime.InteropServices;

namespace RLAgents.Policies;

/// <summary>
/// Makes libtorch's CPU math bit-reproducible from run to run. libtorch's BLAS (Intel MKL) picks
/// code paths by CPU and by the memory alignment of each call's arrays, so the same matrix
/// product can differ in its last bits between two processes (or two runs in one process) whose
/// tensors happen to be aligned differently; over a training run those bits grow into different
/// metrics. MKL's conditional numerical reproducibility mode (<c>MKL_CBWR=COMPATIBLE</c>) removes
/// that dependence; for the small networks of RL agents its cost is lost in per-call overhead.
/// MKL reads the variable once, at its first call, so this runs before any policy computes.
/// </summary>
public static class ReproducibleMath
{
    private static int _done;

    /// <summary>Sets <c>MKL_CBWR=COMPATIBLE</c> in the native environment unless the user set it. Idempotent.</summary>
    public static void Ensure()
    {
        if (Interlocked.Exchange(ref _done, 1) == 1) return;
        if (Environment.GetEnvironmentVariable("MKL_CBWR") is not null) return;
        Environment.SetEnvironmentVariable("MKL_CBWR", "COMPATIBLE");
        // .NET keeps its own copy of the environment on Unix; MKL reads the C library's.
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) _ = SetEnv("MKL_CBWR", "COMPATIBLE", 0);
    }

    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int SetEnv(string name, string value, int overwrite);
}
