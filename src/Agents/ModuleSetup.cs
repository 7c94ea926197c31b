using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace RLAgents.Agents;

internal static class ModuleSetup
{
    /// <summary>Requests MKL's reproducible mode before this assembly computes anything (see <see cref="LanguageModel.ReproducibleMath"/>).</summary>
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "MKL reads its mode once; the request must precede any torch computation.")]
    internal static void OnLoad() => LanguageModel.ReproducibleMath.RequestThroughEnvironment();
}
