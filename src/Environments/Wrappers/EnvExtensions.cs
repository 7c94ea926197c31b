using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments;

/// <summary>Navigation through wrapper chains.</summary>
public static class EnvExtensions
{
    /// <summary>The innermost environment under every <see cref="Wrapper"/>.</summary>
    public static IEnv Unwrapped(this IEnv env)
    {
        while (env is Wrapper w) env = w.Inner;
        return env;
    }

    /// <summary>The outermost wrapper or env of type <typeparamref name="T"/> in the chain, or null.</summary>
    public static T? Find<T>(this IEnv env) where T : class, IEnv
    {
        for (IEnv? e = env; e is not null; e = (e as Wrapper)?.Inner)
            if (e is T t) return t;
        return null;
    }
}
