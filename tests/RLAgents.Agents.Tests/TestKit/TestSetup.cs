using System.Runtime.CompilerServices;

namespace RLAgents.Agents.Tests;

internal static class TestSetup
{
    /// <summary>
    /// MKL's reproducible mode before any test computes: MKL fixes its mode at its first call and
    /// xunit runs classes in parallel, so a test that multiplies plain tensors could otherwise run
    /// first and leave the determinism tests comparing alignment-dependent bits.
    /// One intra-op thread, as runs default to (training.threads): tests that drive algorithms directly
    /// would otherwise spin a thread per core for tiny networks on a shared machine.
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize()
    {
        LanguageModel.ReproducibleMath.RequestThroughEnvironment();
        TorchSharp.torch.set_num_threads(1);
    }
}
