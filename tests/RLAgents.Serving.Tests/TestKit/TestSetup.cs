using System.Runtime.CompilerServices;

namespace RLAgents.Serving.Tests;

internal static class TestSetup
{
    /// <summary>
    /// MKL's reproducible mode before any test computes: MKL fixes its mode at its first call and
    /// xunit runs classes in parallel, so a test that multiplies plain tensors could otherwise run
    /// first and leave the determinism tests comparing alignment-dependent bits.
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize() => LanguageModel.ReproducibleMath.RequestThroughEnvironment();
}
