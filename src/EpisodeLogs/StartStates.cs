using System.Globalization;
using System.Text.Json;
using RLAgents.Environments;
using RLAgents.Environments.Wrappers;

namespace RLAgents.EpisodeLogs;

/// <summary>Captures and restores the start state of one environment type from the outside.</summary>
public interface IStartStateCodec
{
    /// <summary>True when this codec handles <paramref name="unwrapped"/> (the innermost environment).</summary>
    bool CanHandle(IEnv unwrapped);

    /// <summary>The start state as JSON.</summary>
    string Capture(IEnv unwrapped);

    /// <summary>Puts the reset environment into <paramref name="startState"/> and returns its observation.</summary>
    Observation Restore(IEnv unwrapped, string startState);
}

/// <summary>
/// Start states of environments: their own <see cref="IStartStateEnv"/> (found through wrappers), or a
/// codec registered for an environment type you do not own.
/// </summary>
public static class StartStates
{
    private static readonly List<IStartStateCodec> Codecs = [];
    private static readonly Lock Gate = new();

    /// <summary>Adds a codec (checked before earlier ones).</summary>
    public static void Register(IStartStateCodec codec)
    {
        lock (Gate) Codecs.Insert(0, codec);
    }

    /// <summary>True when the start state of <paramref name="env"/> (or of its innermost env) can be captured.</summary>
    public static bool Supports(IEnv env) => env.Unwrapped() is IStartStateEnv s ? s.CanCaptureStartState : Find(env.Unwrapped()) is not null;

    /// <summary>Captures the start state of <paramref name="env"/>'s innermost environment.</summary>
    public static string Capture(IEnv env)
    {
        var inner = env.Unwrapped();
        if (inner is IStartStateEnv s) return s.CaptureStartState();
        return (Find(inner) ?? throw Unsupported(inner)).Capture(inner);
    }

    /// <summary>
    /// Starts an episode of <paramref name="env"/> (the whole wrapper stack is reset, so per-episode
    /// wrapper counters restart) and then puts its innermost environment into <paramref name="startState"/>.
    /// Wrappers that transform observations are bypassed for this first observation.
    /// </summary>
    public static Observation ResetTo(IEnv env, string startState)
    {
        env.Reset(0);
        var inner = env.Unwrapped();
        if (inner is IStartStateEnv s) return s.RestoreStartState(startState);
        return (Find(inner) ?? throw Unsupported(inner)).Restore(inner, startState);
    }

    private static IStartStateCodec? Find(IEnv inner)
    {
        lock (Gate) return Codecs.FirstOrDefault(c => c.CanHandle(inner));
    }

    private static NotSupportedException Unsupported(IEnv inner) =>
        new($"{inner.Id} ({inner.GetType().FullName}) cannot capture or restore a start state: implement {nameof(IStartStateEnv)} or register an {nameof(IStartStateCodec)}.");
}

/// <summary>Describes and navigates wrapper stacks for log headers.</summary>
public static class EnvStack
{
    /// <summary>The innermost environment under every wrapper.</summary>
    public static IEnv Innermost(IEnv env) => env.Unwrapped();

    /// <summary>
    /// The wrapper stack, outermost first, one entry per wrapper: its type name, with the step
    /// limit for <see cref="TimeLimit"/> (e.g. <c>TimeLimit(500)</c>). Recorders are left out.
    /// </summary>
    public static IReadOnlyList<string> Describe(IEnv env)
    {
        var list = new List<string>();
        for (IEnv e = env; e is Wrapper w; e = w.Inner)
        {
            if (w is EpisodeRecorder) continue;
            list.Add(w is TimeLimit t ? $"TimeLimit({t.MaxEpisodeSteps.ToString(CultureInfo.InvariantCulture)})" : w.GetType().Name);
        }
        return list;
    }

    /// <summary>The step limit of the stack's <see cref="TimeLimit"/>, or null when it has none.</summary>
    public static int? TimeLimitOf(IReadOnlyList<string> wrappers)
    {
        foreach (var w in wrappers)
            if (w.StartsWith("TimeLimit(", StringComparison.Ordinal) && w.EndsWith(')')
                && int.TryParse(w.AsSpan(10, w.Length - 11), NumberStyles.None, CultureInfo.InvariantCulture, out int n))
                return n;
        return null;
    }
}
