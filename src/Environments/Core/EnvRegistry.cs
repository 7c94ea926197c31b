namespace RLAgents.Environments;

/// <summary>
/// One registered environment: a versioned id, a typed options class with defaults, a factory,
/// and the step limit the time-limit wrapper enforces (Gymnasium's <c>max_episode_steps</c>).
/// </summary>
public sealed class EnvRegistration
{
    private readonly Func<object, IEnv> _create;

    /// <summary>Creates a registration.</summary>
    /// <param name="id">Versioned id, e.g. <c>CartPole-v1</c>.</param>
    /// <param name="optionsType">The options class bound from an experiment file's <c>env.options</c>; must have a public parameterless constructor.</param>
    /// <param name="create">Builds the unwrapped environment from an options instance of <paramref name="optionsType"/>.</param>
    /// <param name="maxEpisodeSteps">Step limit applied by the time-limit wrapper, or null for none.</param>
    /// <param name="description">One line for <c>rlagents envs</c>.</param>
    public EnvRegistration(EnvId id, Type optionsType, Func<object, IEnv> create, int? maxEpisodeSteps, string description)
    {
        if (optionsType.GetConstructor(Type.EmptyTypes) is null)
            throw new ArgumentException($"Options type {optionsType.Name} of {id} needs a public parameterless constructor.", nameof(optionsType));
        Id = id;
        OptionsType = optionsType;
        _create = create;
        MaxEpisodeSteps = maxEpisodeSteps;
        Description = description;
    }

    /// <summary>Versioned id.</summary>
    public EnvId Id { get; }

    /// <summary>Options class (defaults = a new instance).</summary>
    public Type OptionsType { get; }

    /// <summary>Step limit the time-limit wrapper enforces, or null.</summary>
    public int? MaxEpisodeSteps { get; }

    /// <summary>One-line description.</summary>
    public string Description { get; }

    /// <summary>
    /// A native batched implementation of the family, or null: builds <c>numEnvs</c> envs stepped together
    /// with the given autoreset mode, options instance (of <see cref="OptionsType"/>) and step limit.
    /// <see cref="Vector.VectorizationMode.Batched"/> uses it.
    /// </summary>
    public Func<int, AutoresetMode, object, int?, IVectorEnv>? CreateBatched { get; init; }

    /// <summary>A new options instance holding the defaults.</summary>
    public object DefaultOptions() => Activator.CreateInstance(OptionsType)!;

    /// <summary>Builds the unwrapped environment; <paramref name="options"/> null means defaults.</summary>
    public IEnv CreateUnwrapped(object? options = null)
    {
        options ??= DefaultOptions();
        if (!OptionsType.IsInstanceOfType(options))
            throw new ArgumentException($"{Id} takes options of type {OptionsType.Name}, not {options.GetType().Name}.", nameof(options));
        return _create(options);
    }
}

/// <summary>
/// Versioned environment ids and how to build them. Built-in families are listed once in
/// <see cref="BuiltInEnvironments"/>; plug-ins are loaded from an assembly path and a type name.
/// </summary>
public sealed partial class EnvRegistry
{
    private readonly Dictionary<string, EnvRegistration> _byId = new(StringComparer.Ordinal);

    /// <summary>Registered environments, ordered by id.</summary>
    public IEnumerable<EnvRegistration> All => _byId.Values.OrderBy(r => r.Id.ToString(), StringComparer.Ordinal);

    /// <summary>Adds a registration; an id may be registered once.</summary>
    public void Register(EnvRegistration registration)
    {
        if (!_byId.TryAdd(registration.Id.ToString(), registration))
            throw new InvalidOperationException($"Environment id {registration.Id} is already registered.");
    }

    /// <summary>The registration of <paramref name="id"/>; the error lists close ids and versions.</summary>
    public EnvRegistration Get(string id)
    {
        if (_byId.TryGetValue(id, out var r)) return r;
        string name = id.Contains("-v", StringComparison.Ordinal) ? id[..id.LastIndexOf("-v", StringComparison.Ordinal)] : id;
        var versions = _byId.Keys.Where(k => k.StartsWith(name + "-v", StringComparison.Ordinal)).ToList();
        string hint = versions.Count > 0 ? $" Registered versions: {string.Join(", ", versions)}." : $" Known ids: {string.Join(", ", _byId.Keys.Order())}.";
        throw new KeyNotFoundException($"No environment '{id}' is registered.{hint}");
    }

    /// <summary>True when <paramref name="id"/> is registered.</summary>
    public bool Contains(string id) => _byId.ContainsKey(id);

    /// <summary>A registry holding every built-in environment.</summary>
    public static EnvRegistry CreateDefault()
    {
        var registry = new EnvRegistry();
        BuiltInEnvironments.RegisterAll(registry);
        return registry;
    }
}

/// <summary>The list of built-in environment families, registered into every default registry.</summary>
internal static class BuiltInEnvironments
{
    /// <summary>Registers every built-in family. Each family adds one line here.</summary>
    public static void RegisterAll(EnvRegistry registry)
    {
        registry.Register(ClassicControl.CartPole.Registration);
        registry.Register(ClassicControl.MountainCar.Registration);
        registry.Register(ClassicControl.Acrobot.Registration);
        registry.Register(ClassicControl.Pendulum.Registration);
        registry.Register(ClassicControl.MountainCarContinuous.Registration);
        GridWorld.Levels.BabyAILevels.Register(registry);
    }
}
