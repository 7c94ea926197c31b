using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Mixtures;

/// <summary>Options of a mixture registration (bound from an experiment's <c>env.options</c>).</summary>
public sealed class MixtureOptions : IValidatableObject
{
    /// <summary>
    /// Registered ids of the environments mixed, in curriculum order; they must share observation and
    /// action spaces. Null takes the registration's default set.
    /// </summary>
    [MinLength(1)]
    public string[]? Ids { get; set; }

    /// <summary>Relative probability of drawing each environment for an episode, one positive weight per id; null draws uniformly.</summary>
    public double[]? Weights { get; set; }

    /// <summary>Options every mixed environment is built with (bound to each registration's options type); null = their defaults.</summary>
    public JsonElement? EnvOptions { get; set; }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Weights is null) yield break;
        if (Ids is not null && Weights.Length != Ids.Length)
            yield return new ValidationResult($"{Weights.Length} weights for {Ids.Length} ids; give one per id", [nameof(Weights)]);
        if (Weights.Any(w => !(w > 0) || double.IsInfinity(w)))
            yield return new ValidationResult("every weight must be a positive finite number", [nameof(Weights)]);
    }
}

/// <summary>
/// One environment made of several registered environments that share observation and action
/// spaces (e.g. BabyAI levels): every episode draws one of them (by <see cref="MixtureOptions.Weights"/>)
/// and plays it to the end. Every step's <see cref="StepInfo.Task"/> names the episode's task, so one
/// agent trained on the mixture is evaluated per task. A seeded reset draws from every task with the
/// mixture's generator reseeded (same seed ⇒ same episode); unseeded resets draw from the first
/// <see cref="ActiveTasks"/> tasks (a curriculum narrows them). Start states name the task and the
/// seed of its episode, so logged episodes re-simulate exactly whatever the curriculum was.
/// The parts' capabilities (pictures, action names, vocabulary, expert) are offered through
/// <see cref="ICapabilitySource"/>, each acting on the current episode's environment.
/// </summary>
public sealed class MixtureEnv : IEnv, ITaskMixture, IStartStateEnv, ICapabilitySource
{
    private readonly IEnv[] _parts;
    private readonly string[] _tasks;
    private readonly double[] _weights;
    private readonly Rng _random = new(unchecked((ulong)System.Diagnostics.Stopwatch.GetTimestamp() * 0x9E3779B97F4A7C15UL));
    private int _current, _active;
    private long _episodeSeed;
    private bool _everReset;

    /// <summary>Builds the mixture <paramref name="id"/> of <paramref name="ids"/>, each made from <paramref name="registry"/>.</summary>
    /// <param name="id">The mixture's registered id.</param>
    /// <param name="ids">Registered ids of the parts, in curriculum order.</param>
    /// <param name="weights">Relative draw probabilities, one per part; null = uniform.</param>
    /// <param name="envOptions">Options for every part, bound to each registration's options type; null = defaults.</param>
    /// <param name="registry">Where the parts are registered.</param>
    /// <exception cref="ConfigurationException">An unknown id, or parts whose spaces differ.</exception>
    public MixtureEnv(EnvId id, IReadOnlyList<string> ids, IReadOnlyList<double>? weights, JsonElement? envOptions, EnvRegistry registry)
    {
        if (ids.Count == 0) throw new ConfigurationException("env.options.ids", "a mixture needs at least one environment");
        if (weights is not null && weights.Count != ids.Count) throw new ConfigurationException("env.options.weights", $"{weights.Count} weights for {ids.Count} ids");
        if (ids.Distinct(StringComparer.Ordinal).Count() != ids.Count) throw new ConfigurationException("env.options.ids", "an id is listed twice");
        Id = id;
        _parts = new IEnv[ids.Count];
        try
        {
            for (int i = 0; i < ids.Count; i++) _parts[i] = MakePart(registry, ids[i], envOptions, i);
            var first = _parts[0];
            for (int i = 1; i < _parts.Length; i++)
            {
                var p = _parts[i];
                if (!p.ObservationSpace.SameLayout(first.ObservationSpace) || !SameActions(p.ActionSpace, first.ActionSpace))
                    throw new ConfigurationException($"env.options.ids[{i}]",
                        $"{ids[i]} observes {p.ObservationSpace} and acts in {p.ActionSpace}, unlike {ids[0]} ({first.ObservationSpace}, {first.ActionSpace}); a mixture's environments share their spaces");
            }
        }
        catch
        {
            foreach (var p in _parts) p?.Dispose();
            throw;
        }
        _tasks = TaskLabels(ids);
        _weights = weights?.ToArray() ?? Enumerable.Repeat(1.0, ids.Count).ToArray();
        _active = _parts.Length;
    }

    /// <summary>
    /// A registration of a mixture under <paramref name="id"/>, its parts resolved in <paramref name="registry"/>;
    /// <paramref name="defaultIds"/> are mixed when the options name none.
    /// </summary>
    public static EnvRegistration Registration(EnvRegistry registry, EnvId id, IReadOnlyList<string> defaultIds, string description) =>
        new(id, typeof(MixtureOptions), o =>
        {
            var options = (MixtureOptions)o;
            return new MixtureEnv(id, options.Ids ?? defaultIds, options.Weights, options.EnvOptions, registry);
        }, maxEpisodeSteps: null, description);

    /// <inheritdoc />
    public EnvId Id { get; }

    /// <inheritdoc />
    public ObservationSpace ObservationSpace => _parts[0].ObservationSpace;

    /// <inheritdoc />
    public Space ActionSpace => _parts[0].ActionSpace;

    /// <inheritdoc />
    public IReadOnlyList<string> Tasks => _tasks;

    /// <inheritdoc />
    public string CurrentTask => _tasks[_current];

    /// <summary>The environment of the current episode (the first one before any reset).</summary>
    public IEnv Current => _parts[_current];

    /// <inheritdoc />
    public int ActiveTasks
    {
        get => _active;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, _parts.Length);
            _active = value;
        }
    }

    /// <inheritdoc />
    public ResetResult Reset(long? seed = null)
    {
        int count = _active;
        if (seed is long s)
        {
            _random.Reseed(unchecked((ulong)s));
            count = _parts.Length;
        }
        _current = Draw(count);
        _episodeSeed = unchecked((long)_random.NextUInt64());
        return Start();
    }

    /// <inheritdoc />
    public StepResult Step(int action)
    {
        if (!_everReset) throw new InvalidOperationException($"{Id}: Step was called before Reset; call Reset first.");
        return Labelled(_parts[_current].Step(action));
    }

    /// <inheritdoc />
    public StepResult Step(EnvAction action)
    {
        if (!_everReset) throw new InvalidOperationException($"{Id}: Step was called before Reset; call Reset first.");
        return Labelled(_parts[_current].Step(action));
    }

    /// <inheritdoc />
    public string CaptureStartState() => JsonSerializer.Serialize(new StartState(_tasks[_current], _episodeSeed));

    /// <inheritdoc />
    public Observation RestoreStartState(string startState)
    {
        StartState? state;
        try
        {
            state = JsonSerializer.Deserialize<StartState>(startState);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{Id}: start state '{startState}' is not a mixture start state: {e.Message}", e);
        }
        int task = state?.Task is { } name ? Array.IndexOf(_tasks, name) : -1;
        if (task < 0) throw new InvalidDataException($"{Id}: start state names task '{state?.Task}', which is not one of {string.Join(", ", _tasks)}.");
        _current = task;
        _episodeSeed = state!.Seed;
        return Start().Observation;
    }

    /// <inheritdoc />
    public T? Capability<T>() where T : class
    {
        object? offered = null;
        if (typeof(T) == typeof(IRenderFrame) && _parts.All(p => p.Find<IRenderFrame>() is not null)) offered = new FrameOfCurrent(this);
        else if (typeof(T) == typeof(IRenderText) && _parts.All(p => p.Find<IRenderText>() is not null)) offered = new TextOfCurrent(this);
        else if (typeof(T) == typeof(IActionNames)) offered = _parts[0].Find<IActionNames>();
        else if (typeof(T) == typeof(ITextVocabulary) && _parts.All(p => p.Find<ITextVocabulary>() is not null))
            offered = new Vocabulary([.. _parts.SelectMany(p => p.Find<ITextVocabulary>()!.TextVocabulary).Distinct(StringComparer.Ordinal)]);
        else if (typeof(T) == typeof(IExpertEnv) && _parts.All(p => p.Find<IExpertEnv>() is not null)) offered = new ExpertOfCurrent(this);
        return offered as T;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var p in _parts) p.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() => $"{Id}[{string.Join(", ", _tasks)}]";

    /// <summary>
    /// Short task labels: the ids without their version and without the dash-separated prefix they all
    /// share (<c>BabyAI-GoToLocal-v0</c> and <c>BabyAI-PickupLoc-v0</c> give <c>GoToLocal</c> and <c>PickupLoc</c>).
    /// </summary>
    public static string[] TaskLabels(IReadOnlyList<string> ids)
    {
        var names = ids.Select(i => EnvId.Parse(i).Name).ToArray();
        int prefix = 0;
        if (names.Length > 1)
        {
            // The longest common prefix that ends with a dash and leaves every name non-empty.
            for (int dash = names[0].IndexOf('-'); dash >= 0; dash = names[0].IndexOf('-', dash + 1))
            {
                string candidate = names[0][..(dash + 1)];
                if (names.All(n => n.StartsWith(candidate, StringComparison.Ordinal) && n.Length > candidate.Length)) prefix = dash + 1;
                else break;
            }
        }
        var labels = names.Select(n => n[prefix..]).ToArray();
        // Versions of one name mixed together keep their version.
        var repeated = labels.GroupBy(l => l, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        return [.. labels.Select((l, i) => repeated.Contains(l) ? ids[i][prefix..] : l)];
    }

    private static IEnv MakePart(EnvRegistry registry, string id, JsonElement? envOptions, int index)
    {
        EnvRegistration registration;
        try
        {
            registration = registry.Resolve(id);
        }
        catch (KeyNotFoundException e)
        {
            throw new ConfigurationException($"env.options.ids[{index}]", e.Message);
        }
        object? options = envOptions is { ValueKind: not JsonValueKind.Null } json ? OptionsBinder.Bind(json, registration.OptionsType, "env.options.envOptions") : null;
        IEnv env = registration.CreateUnwrapped(options);
        return registration.MaxEpisodeSteps is int limit ? new TimeLimit(env, limit) : env;
    }

    /// <summary>
    /// Whether two parts act alike: equal discrete ranges, or (any other space) the same kind, shape
    /// and bounds as the space's textual form states them.
    /// </summary>
    private static bool SameActions(Space a, Space b) =>
        a is DiscreteSpace da && b is DiscreteSpace db ? da.N == db.N && da.Start == db.Start : a.ToString() == b.ToString();

    private StepResult Labelled(StepResult result) => result with { Info = result.Info with { Task = _tasks[_current] } };

    private int Draw(int count)
    {
        double total = 0;
        for (int i = 0; i < count; i++) total += _weights[i];
        double u = _random.NextDouble() * total;
        for (int i = 0; i < count - 1; i++)
        {
            u -= _weights[i];
            if (u < 0) return i;
        }
        return count - 1;
    }

    private ResetResult Start()
    {
        var result = _parts[_current].Reset(_episodeSeed);
        _everReset = true;
        return result with { Info = result.Info with { Task = _tasks[_current] } };
    }

    private sealed record StartState(string Task, long Seed);

    private sealed class FrameOfCurrent(MixtureEnv mixture) : IRenderFrame
    {
        public RgbFrame RenderFrame() => mixture.Current.Find<IRenderFrame>()!.RenderFrame();
    }

    private sealed class TextOfCurrent(MixtureEnv mixture) : IRenderText
    {
        public string RenderText() => mixture.Current.Find<IRenderText>()!.RenderText();
    }

    private sealed class Vocabulary(IReadOnlyList<string> words) : ITextVocabulary
    {
        public IReadOnlyList<string> TextVocabulary => words;
    }

    private sealed class ExpertOfCurrent(MixtureEnv mixture) : IExpertEnv
    {
        public IExpert CreateExpert() => new Expert(mixture);
    }

    /// <summary>Each part's own expert, created on first use; acting for the current episode's part.</summary>
    private sealed class Expert(MixtureEnv mixture) : IExpert
    {
        private readonly IExpert?[] _experts = new IExpert?[mixture._parts.Length];

        public int Act(int? actionTaken = null) =>
            (_experts[mixture._current] ??= Experts.For(mixture._parts[mixture._current])).Act(actionTaken);
    }
}
