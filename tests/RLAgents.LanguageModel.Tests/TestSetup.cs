using System.Runtime.CompilerServices;

namespace RLAgents.LanguageModel.Tests;

internal static class TestSetup
{
    /// <summary>
    /// One libtorch thread for the whole test run: the test models are tiny (threading costs more
    /// than it gains) and xunit runs test classes in parallel, which would oversubscribe the cores.
    /// </summary>
    [ModuleInitializer]
    internal static void SingleThreadedTorch() => TorchSharp.torch.set_num_threads(1);
}
