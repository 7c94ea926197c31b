using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RLAgents.LanguageModel;

/// <summary>
/// Makes libtorch's CPU math bit-reproducible from run to run. libtorch's BLAS (Intel MKL) picks
/// code paths by the memory alignment of each call's arrays, so the same matrix product can
/// differ in its last bits between two runs (even two runs in one process) whose tensors happen
/// to be aligned differently; over a training run those bits grow into different metrics.
/// MKL's conditional numerical reproducibility mode removes that dependence. The mode chosen is
/// <c>AUTO,STRICT</c>: MKL keeps the fastest code path of this CPU and computes it the same way
/// whatever the alignment (measured here: a [64, 256] × [256, 256] product costs about the
/// same as unrestricted MKL, while <c>COMPATIBLE</c>, which is reproducible across CPUs too,
/// is 3.5× slower). Runs are therefore identical on one machine (or one CPU model), which is the
/// determinism RLAgents promises; set <c>MKL_CBWR=COMPATIBLE</c> for identical bits across CPUs.
/// <para>
/// MKL fixes its mode at its first call and refuses to change it afterwards, so the mode is
/// requested as early as possible: a module initializer in every RLAgents assembly that computes
/// with torch puts <c>MKL_CBWR</c> into the process environment when the assembly loads (no
/// native library is touched then), and <see cref="Ensure"/> — called by the training runners —
/// also asks MKL directly and reports whether a reproducible mode is in force.
/// </para>
/// </summary>
public static class ReproducibleMath
{
    // mkl_cbwr.h: MKL_CBWR_BRANCH selects the branch query; MKL_CBWR_BRANCH_OFF (1) is MKL's
    // unrestricted default, MKL_CBWR_AUTO (2) and above are reproducible branches, and
    // MKL_CBWR_STRICT makes them independent of memory alignment.
    private const int CbwrBranch = 1;
    private const int CbwrAuto = 2;
    private const int CbwrCompatible = 3;
    private const int CbwrStrict = 0x10000;
    private const string Requested = "AUTO,STRICT";
    private const string Variable = "MKL_CBWR";
    private static int _environmentSet;
    private static bool _environmentWasOurs;
    private static ReproducibleMathStatus? _status;

    /// <summary>
    /// Requests CNR mode through the environment (<c>MKL_CBWR=AUTO,STRICT</c>) unless the user set
    /// the variable (their choice is kept). Cheap and idempotent; loads no native library.
    /// </summary>
    public static void RequestThroughEnvironment()
    {
        if (Interlocked.Exchange(ref _environmentSet, 1) == 1) return;
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable))) return;
        _environmentWasOurs = true;
        Environment.SetEnvironmentVariable(Variable, Requested);
        // .NET keeps its own copy of the environment on Unix; MKL reads the C library's.
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) _ = SetEnv(Variable, Requested, 0);
    }

    /// <summary>
    /// Puts MKL into a reproducible (CNR) mode if it is not in one already and reports the outcome. Loads libtorch.
    /// <see cref="ReproducibleMathStatus.Active"/> is false when MKL had already run in another
    /// mode (something computed with torch before any RLAgents assembly loaded) or when the
    /// native library carries no MKL; training still runs, but two runs may differ in their last bits.
    /// </summary>
    public static ReproducibleMathStatus Ensure()
    {
        if (_status is { } known) return known;
        RequestThroughEnvironment();
        _ = TorchSharp.torch.get_num_threads(); // loads the native backend through TorchSharp's own resolver
        ReproducibleMathStatus status;
        try
        {
            // A user's own MKL_CBWR wins; otherwise switch now in case MKL has not started yet.
            bool userChoice = !_environmentWasOurs;
            int mode = CbwrGet(CbwrBranch);
            if (mode < CbwrAuto && !userChoice && CbwrSet(CbwrAuto | CbwrStrict) == 0) mode = CbwrGet(CbwrBranch);
            status = mode >= CbwrAuto
                ? new(true, $"MKL conditional numerical reproducibility: {(mode == CbwrAuto ? "AUTO" : mode == CbwrCompatible ? "COMPATIBLE" : $"branch {mode}")}")
                : new(false, userChoice
                    ? $"MKL_CBWR={Environment.GetEnvironmentVariable(Variable)} leaves MKL's results dependent on memory alignment; unset it or use AUTO,STRICT for bit-identical runs"
                    : $"MKL had already started in its unrestricted mode; set MKL_CBWR=AUTO,STRICT before the process starts for bit-identical runs");
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            status = new(false, "the native torch backend exposes no MKL reproducibility controls");
        }
        _status = status;
        return status;
    }

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "MKL reads its mode once; the request must precede any torch computation.")]
    internal static void OnLoad() => RequestThroughEnvironment();

    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int SetEnv(string name, string value, int overwrite);

    // MKL is linked into libtorch_cpu (CPU and CUDA builds alike); glibc resolves the name to the
    // copy TorchSharp already loaded.
    [DllImport("libtorch_cpu", EntryPoint = "mkl_serv_cbwr_get")]
    private static extern int CbwrGet(int option);

    [DllImport("libtorch_cpu", EntryPoint = "mkl_serv_cbwr_set")]
    private static extern int CbwrSet(int setting);
}

/// <summary>Outcome of <see cref="ReproducibleMath.Ensure"/>.</summary>
/// <param name="Active">Whether MKL computes in its alignment-independent, reproducible mode.</param>
/// <param name="Description">One line for logs.</param>
public readonly record struct ReproducibleMathStatus(bool Active, string Description);
