using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments;

/// <summary>Navigation through wrapper chains, and the step forms of single-kind action spaces.</summary>
public static class EnvExtensions
{
    /// <summary>Steps with the floats of a Box action space (e.g. <c>env.Step([0.5f])</c>).</summary>
    public static StepResult Step(this IEnv env, ReadOnlySpan<float> continuous) => env.Step(new EnvAction(default, continuous));

    /// <summary>Steps with the integers of a MultiDiscrete (or Discrete) action space (e.g. <c>env.Step([1, 0, 2])</c>).</summary>
    public static StepResult Step(this IEnv env, ReadOnlySpan<int> discrete) => env.Step(new EnvAction(discrete, default));

    /// <summary>The innermost environment under every <see cref="Wrapper"/>.</summary>
    public static IEnv Unwrapped(this IEnv env)
    {
        while (env is Wrapper w) env = w.Inner;
        return env;
    }

    /// <summary>
    /// The outermost wrapper or env in the chain that is a <typeparamref name="T"/>, or null: a type,
    /// or a capability interface such as <see cref="IRenderFrame"/> or <see cref="IExpertEnv"/>. An env
    /// made of other envs (<see cref="ICapabilitySource"/>) answers for the capabilities of its parts.
    /// </summary>
    public static T? Find<T>(this IEnv env) where T : class
    {
        for (IEnv? e = env; e is not null; e = (e as Wrapper)?.Inner)
        {
            if (e is T t) return t;
            if (e is ICapabilitySource source && source.Capability<T>() is { } offered) return offered;
        }
        return null;
    }
}
