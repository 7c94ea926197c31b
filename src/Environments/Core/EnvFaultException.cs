namespace RLAgents.Environments;

/// <summary>
/// An environment broke its contract while running: <see cref="IEnv.Reset"/> or <see cref="IEnv.Step(EnvAction)"/>
/// threw, returned no observation or one of another layout, or (with per-step checks on) a value outside
/// its observation space or a reward that is not finite. The message is one line naming the environment,
/// the sub-environment and what went wrong; hosts print it without a stack trace (the original exception,
/// if any, is the inner one).
/// </summary>
public sealed class EnvFaultException : Exception
{
    /// <summary>Creates the fault of <paramref name="env"/> (sub-environment <paramref name="slot"/>, if in a vector env).</summary>
    public EnvFaultException(string env, int? slot, string problem, Exception? inner = null)
        : base($"{env}{(slot is int i ? $" (env {i})" : "")}: {problem}", inner)
    {
        Env = env;
        Slot = slot;
        Problem = problem;
    }

    /// <summary>The environment's id.</summary>
    public string Env { get; }

    /// <summary>The sub-environment of a vector environment, or null.</summary>
    public int? Slot { get; }

    /// <summary>What went wrong, without the environment.</summary>
    public string Problem { get; }

    /// <summary>The fault of an exception <paramref name="e"/> thrown by <paramref name="env"/>'s <paramref name="operation"/> (Reset, Step, a constructor).</summary>
    public static EnvFaultException Threw(string env, int? slot, string operation, Exception e) =>
        e as EnvFaultException ?? new EnvFaultException(env, slot, $"{operation} threw {e.GetType().Name}: {OneLine(e.Message)}", e);

    private static string OneLine(string text) => string.Join(" ", text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
