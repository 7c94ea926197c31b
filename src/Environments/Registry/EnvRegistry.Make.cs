using System.Reflection;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments;

public sealed partial class EnvRegistry
{
    // Plug-in ids and the types they were loaded from, so loading the same spec twice is harmless.
    private readonly Dictionary<string, Type> _pluginTypes = new(StringComparer.Ordinal);

    /// <summary>
    /// Builds a ready-to-use environment: the registered env with <paramref name="options"/> (null =
    /// defaults), wrapped in <see cref="TimeLimit"/> when a limit applies
    /// (<paramref name="maxEpisodeSteps"/>, else the registration's) and in
    /// <see cref="RecordEpisodeStatistics"/> outermost. <paramref name="id"/> is a registered id or a
    /// plug-in spec <c>path/to/Assembly.dll:Namespace.TypeName</c>, loaded on first use.
    /// </summary>
    public IEnv Make(string id, object? options = null, int? maxEpisodeSteps = null)
    {
        var registration = Resolve(id);
        if (maxEpisodeSteps is <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxEpisodeSteps), maxEpisodeSteps, $"{registration.Id}: maxEpisodeSteps must be positive.");
        IEnv env = registration.CreateUnwrapped(options);
        if ((maxEpisodeSteps ?? registration.MaxEpisodeSteps) is int limit) env = new TimeLimit(env, limit);
        return new RecordEpisodeStatistics(env);
    }

    /// <summary>The registration of a registered id, or of a plug-in spec (loading it on first use).</summary>
    public EnvRegistration Resolve(string idOrSpec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idOrSpec);
        if (Contains(idOrSpec)) return Get(idOrSpec);
        return IsPluginSpec(idOrSpec) ? LoadPlugin(idOrSpec) : Get(idOrSpec);
    }

    /// <summary>True when <paramref name="text"/> looks like <c>path/to/Assembly.dll:Type</c> rather than an id.</summary>
    public static bool IsPluginSpec(string text) => text.Contains(".dll:", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Loads a user's environment from <c>path/to/Assembly.dll:Namespace.TypeName</c> and registers it.
    /// The type implements <see cref="IEnv"/> and has either a public parameterless constructor or a
    /// public constructor taking one options object (whose class, with a parameterless constructor,
    /// becomes the options type). <see cref="EnvironmentInfoAttribute"/> gives its id and step limit.
    /// Loading the same type twice returns the first registration.
    /// </summary>
    /// <exception cref="EnvPluginException">Malformed spec, missing file, not an assembly, missing type, not an IEnv, or no usable constructor.</exception>
    public EnvRegistration LoadPlugin(string spec)
    {
        int colon = spec.LastIndexOf(':');
        if (colon <= 0 || colon == spec.Length - 1)
            throw new EnvPluginException($"Plug-in '{spec}' must be given as path/to/Assembly.dll:Namespace.TypeName.");
        string path = Path.GetFullPath(spec[..colon]);
        string typeName = spec[(colon + 1)..];
        if (!File.Exists(path)) throw new EnvPluginException($"Plug-in assembly '{path}' was not found.");

        Assembly assembly;
        try
        {
            assembly = Assembly.LoadFrom(path);
        }
        catch (BadImageFormatException e)
        {
            throw new EnvPluginException($"Plug-in '{path}' is not a .NET assembly.", e);
        }

        var type = assembly.GetType(typeName, throwOnError: false)
            ?? throw new EnvPluginException($"Type '{typeName}' was not found in plug-in assembly '{path}'.");
        if (!typeof(IEnv).IsAssignableFrom(type) || type.IsAbstract || type.IsInterface)
            throw new EnvPluginException($"Type '{typeName}' in '{path}' is not a concrete class implementing {typeof(IEnv).FullName}.");

        var registration = CreatePluginRegistration(type, path);
        if (_byId.TryGetValue(registration.Id.ToString(), out var existing))
        {
            if (_pluginTypes.TryGetValue(registration.Id.ToString(), out var loaded) && loaded == type) return existing;
            throw new EnvPluginException($"Plug-in '{typeName}' in '{path}' declares id {registration.Id}, which is already registered.");
        }
        Register(registration);
        _pluginTypes[registration.Id.ToString()] = type;
        return registration;
    }

    private static EnvRegistration CreatePluginRegistration(Type type, string path)
    {
        var info = type.GetCustomAttribute<EnvironmentInfoAttribute>();
        EnvId id;
        try
        {
            id = info is null ? new EnvId(type.Name, 0) : EnvId.Parse(info.Id);
        }
        catch (FormatException e)
        {
            throw new EnvPluginException($"Plug-in '{type.FullName}' in '{path}': {e.Message}", e);
        }
        int? maxSteps = info is { MaxEpisodeSteps: > 0 } ? info.MaxEpisodeSteps : null;
        string description = info is { Description.Length: > 0 } ? info.Description : $"Plug-in {type.FullName} from {Path.GetFileName(path)}";

        var withOptions = type.GetConstructors()
            .Where(c => c.GetParameters() is [{ ParameterType: { IsClass: true } p }] && p != typeof(string) && p.GetConstructor(Type.EmptyTypes) is not null)
            .ToArray();
        if (withOptions.Length > 1)
            throw new EnvPluginException($"Plug-in '{type.FullName}' in '{path}' has several one-argument constructors; keep one taking its options class.");
        if (withOptions.Length == 1)
        {
            var ctor = withOptions[0];
            return new EnvRegistration(id, ctor.GetParameters()[0].ParameterType, o => (IEnv)Construct(ctor, [o], id), maxSteps, description);
        }
        var parameterless = type.GetConstructor(Type.EmptyTypes)
            ?? throw new EnvPluginException($"Plug-in '{type.FullName}' in '{path}' needs a public parameterless constructor or one taking an options object.");
        return new EnvRegistration(id, typeof(NoOptions), _ => (IEnv)Construct(parameterless, [], id), maxSteps, description);
    }

    // A plug-in's constructor is user code: what it throws (its own validation of its options, a bug) becomes one line naming it.
    private static object Construct(ConstructorInfo ctor, object?[] args, EnvId id)
    {
        try
        {
            return ctor.Invoke(args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            if (e.InnerException is Configuration.ConfigurationException) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw new EnvPluginException($"Plug-in {id} ({ctor.DeclaringType!.FullName}): its constructor threw {e.InnerException.GetType().Name}: {e.InnerException.Message}", e.InnerException);
        }
    }
}

/// <summary>The options type of environments that take none (binds from an empty JSON object).</summary>
public sealed class NoOptions
{
}
