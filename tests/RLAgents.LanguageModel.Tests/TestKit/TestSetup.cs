using System.Runtime.CompilerServices;

namespace RLAgents.LanguageModel.Tests;

internal static class TestSetup
{
    /// <summary>
    /// MKL's reproducible mode before any test computes (MKL fixes its mode at its first call and
    /// xunit runs classes in parallel, so a plain torch test could otherwise run first), and one
    /// libtorch thread for the whole run: the test models are tiny (threading costs more than it
    /// gains) and parallel test classes would oversubscribe the cores.
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize()
    {
        ReproducibleMath.RequestThroughEnvironment();
        TorchSharp.torch.set_num_threads(1);
    }
}
