using System.Runtime.CompilerServices;

namespace RLAgents.Distributed.Tests;

internal static class TestSetup
{
    /// <summary>MKL's reproducible mode before any test computes (it fixes its mode at its first call).</summary>
    [ModuleInitializer]
    internal static void Initialize() => LanguageModel.ReproducibleMath.RequestThroughEnvironment();
}
