using System.Collections.Concurrent;
using System.Reflection;

namespace RLAgents.Environments;

/// <summary>
/// Typed per-step information. Gymnasium's free-form <c>info</c> dictionary becomes named,
/// optional fields; environment-specific state is read from the environment's own properties.
/// </summary>
/// <param name="IsSuccess">For goal-reaching environments: whether the goal was reached on this step.</param>
/// <param name="Episode">Set by the episode-statistics wrapper on the step that ends an episode.</param>
/// <param name="Task">For environments that mix tasks (<see cref="ITaskMixture"/>): the task of this episode, on every step.</param>
public readonly record struct StepInfo(bool? IsSuccess = null, EpisodeStatistics? Episode = null, string? Task = null);

/// <summary>Return, length and wall-clock time of a finished episode.</summary>
public readonly record struct EpisodeStatistics(double Return, int Length, double Seconds);

/// <summary>What <see cref="IEnv.Reset"/> returns.</summary>
/// <param name="Observation">The first observation (owned by the environment: valid until its next call).</param>
/// <param name="Info">Typed information.</param>
public readonly record struct ResetResult(Observation Observation, StepInfo Info);

/// <summary>What <see cref="IEnv.Step(EnvAction)"/> returns, with Gymnasium's semantics.</summary>
/// <param name="Observation">The observation after the action (owned by the environment: valid until its next call).</param>
/// <param name="Reward">The reward for the transition.</param>
/// <param name="Terminated">The episode reached a terminal state of the MDP: do not bootstrap.</param>
/// <param name="Truncated">The episode was cut short (time limit): bootstrap from <paramref name="Observation"/>.</param>
/// <param name="Info">Typed information.</param>
public readonly record struct StepResult(Observation Observation, double Reward, bool Terminated, bool Truncated, StepInfo Info)
{
    /// <summary>True when the episode ended, by termination or truncation.</summary>
    public bool Done => Terminated || Truncated;
}

/// <summary>
/// The environment contract (Gymnasium semantics). <see cref="Reset"/> must be called before
/// the first <see cref="Step(EnvAction)"/> and after an episode ends; stepping otherwise throws
/// <see cref="InvalidOperationException"/>. Actions follow <see cref="ActionSpace"/>'s
/// <see cref="Space.ActionLayout"/>: a discrete element outside its range, a NaN or infinite
/// continuous element, or a wrong element count throws <see cref="InvalidActionException"/>;
/// finite continuous values outside the Box bounds are passed to the environment, which clips
/// them as Gymnasium's do (or a <see cref="Wrappers.ClipAction"/> wrapper does).
/// </summary>
public interface IEnv : IDisposable
{
    /// <summary>Registry identity of the environment (id and version); may be ad hoc for plug-ins.</summary>
    EnvId Id { get; }

    /// <summary>The layout and bounds of every observation.</summary>
    ObservationSpace ObservationSpace { get; }

    /// <summary>
    /// The actions <see cref="Step(EnvAction)"/> accepts: a <see cref="DiscreteSpace"/>,
    /// <see cref="MultiDiscreteSpace"/>, float32 <see cref="BoxSpace"/> or <see cref="DictSpace"/>.
    /// Code that handles only discrete actions says so with <see cref="Space.AsDiscrete"/>.
    /// </summary>
    Space ActionSpace { get; }

    /// <summary>
    /// Starts an episode. A seed reseeds the environment's generator (same seed ⇒ same episode);
    /// no seed continues the current stream.
    /// </summary>
    ResetResult Reset(long? seed = null);

    /// <summary>Applies <paramref name="action"/> (laid out as <see cref="ActionSpace"/>'s <see cref="Space.ActionLayout"/>) and advances one step.</summary>
    StepResult Step(EnvAction action);

    /// <summary>Applies the action of a <see cref="DiscreteSpace"/> and advances one step.</summary>
    StepResult Step(int action) => Step(new EnvAction(in action));
}

/// <summary>A versioned environment identity such as <c>CartPole-v1</c>.</summary>
public readonly record struct EnvId(string Name, int Version)
{
    /// <summary>Parses <c>Name-vN</c>; throws <see cref="FormatException"/> with the text on failure.</summary>
    public static EnvId Parse(string id)
    {
        int dash = id.LastIndexOf("-v", StringComparison.Ordinal);
        if (dash <= 0 || !int.TryParse(id.AsSpan(dash + 2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int v))
            throw new FormatException($"'{id}' is not a versioned environment id like 'CartPole-v1'.");
        return new EnvId(id[..dash], v);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}-v{Version}";
}

/// <summary>An action outside the environment's action space, or with a NaN or infinite continuous element.</summary>
public sealed class InvalidActionException : ArgumentException
{
    /// <summary>Creates the error for a discrete <paramref name="action"/> outside <paramref name="space"/>.</summary>
    public InvalidActionException(string envId, int action, Space space)
        : this(envId, space, $"action {action} is not in {space}", 0, action)
    {
    }

    /// <summary>Creates the error: <paramref name="subject"/> (env id, or id and env index) rejected an action of <paramref name="space"/> because of <paramref name="problem"/>.</summary>
    /// <param name="subject">The env id, or the id and the env index in a vector env.</param>
    /// <param name="space">The action space.</param>
    /// <param name="problem">What is wrong, naming the element.</param>
    /// <param name="element">Index of the offending element in <see cref="EnvAction.Discrete"/> (when <paramref name="action"/> is set) or <see cref="EnvAction.Continuous"/>, or null when the counts are wrong.</param>
    /// <param name="action">The rejected integer, for a discrete element out of range.</param>
    public InvalidActionException(string subject, Space space, string problem, int? element, int? action)
        : base($"{subject}: {problem}.")
    {
        ActionSpace = space;
        Element = element;
        Action = action;
    }

    /// <summary>The rejected integer of a discrete element, or null when the problem is elsewhere.</summary>
    public int? Action { get; }

    /// <summary>Index of the offending element, or null when the element counts are wrong.</summary>
    public int? Element { get; }

    /// <summary>The space the action is not in.</summary>
    public Space ActionSpace { get; }
}

/// <summary>
/// What <see cref="Env"/> and <see cref="Wrappers.Wrapper"/> share, kept in one place: the
/// reset/step bookkeeping (stepping before the first reset or after the episode ended throws
/// <see cref="InvalidOperationException"/>) and action validation against
/// <see cref="ActionSpace"/>'s layout. Derive from <see cref="Env"/> or <see cref="Wrappers.Wrapper"/>.
/// </summary>
/// <remarks>
/// A class implements one of two step hooks: <see cref="StepCore(int)"/> (a
/// <see cref="DiscreteSpace"/>'s single integer: what classes written before continuous actions
/// override) or <see cref="StepCore(EnvAction)"/> (any action space). Both public step forms reach
/// the hook declared lowest in the class hierarchy, chosen once per type, so a discrete env stepped
/// with an integer makes one virtual call, as before, and a wrapper that overrides
/// <see cref="StepCore(EnvAction)"/> sees integer steps too.
/// </remarks>
public abstract class EnvBase : IEnv
{
    // Per concrete type: which hook each public step form calls.
    private static readonly ConcurrentDictionary<Type, HookRoute> Routes = new();

    private readonly bool _integerToInt, _discreteOnly; // the type's HookRoute
    private bool _needsReset = true;
    private bool _everReset;
    // Cached on first Step (spaces are fixed for an env's lifetime), so validation makes no virtual call;
    // a Discrete space's range is kept in fields: the integer path reads no array.
    private ActionLayout? _layout;
    private bool _isDiscrete;
    private int _discreteStart, _discreteCount;

    private protected EnvBase() => (_integerToInt, _discreteOnly) = Routes.GetOrAdd(GetType(), HookRoute.Of);

    /// <inheritdoc />
    public abstract EnvId Id { get; }

    /// <inheritdoc />
    public abstract ObservationSpace ObservationSpace { get; }

    /// <inheritdoc />
    public abstract Space ActionSpace { get; }

    /// <summary>True between a reset and the end of the episode (as this level of the wrapper chain sees it).</summary>
    public bool InEpisode => !_needsReset;

    /// <summary>The layout of <see cref="ActionSpace"/>, cached.</summary>
    protected ActionLayout ActionLayout => _layout ?? CacheLayout();

    /// <summary>True when this type implements <see cref="StepCore(int)"/> below its <see cref="StepCore(EnvAction)"/>: a discrete-only class.</summary>
    private protected bool HandlesDiscreteOnly => _discreteOnly;

    /// <inheritdoc />
    public ResetResult Reset(long? seed = null)
    {
        var result = ResetEpisode(seed);
        _needsReset = false;
        _everReset = true;
        return result;
    }

    /// <inheritdoc />
    public StepResult Step(int action)
    {
        BeginStep();
        if (!_isDiscrete || (uint)(action - _discreteStart) >= (uint)_discreteCount) throw InvalidInteger(action);
        StepResult result;
        if (_integerToInt) result = StepCore(action);
        else result = StepCore(new EnvAction(in action));
        if (result.Terminated || result.Truncated) _needsReset = true;
        return result;
    }

    /// <inheritdoc />
    public StepResult Step(EnvAction action)
    {
        BeginStep();
        // The common discrete case, checked without the general loop.
        StepResult result;
        if (_isDiscrete && action.Discrete.Length == 1 && action.Continuous.IsEmpty && (uint)(action.Discrete[0] - _discreteStart) < (uint)_discreteCount)
        {
            if (_discreteOnly) result = StepCore(action.Discrete[0]);
            else result = StepCore(action);
        }
        else
        {
            _layout!.Validate(action, Id);
            result = StepCore(action); // valid and not a single Discrete integer: only the EnvAction hook can take it
        }
        if (result.Terminated || result.Truncated) _needsReset = true;
        return result;
    }

    /// <summary>Applies a validated action of any action space during an episode.</summary>
    protected virtual StepResult StepCore(EnvAction action) =>
        throw new NotSupportedException($"{GetType().Name} has the action space {ActionLayout.Space} and must override StepCore(EnvAction).");

    /// <summary>Applies a validated action of a <see cref="DiscreteSpace"/> during an episode (the hook of discrete-only classes).</summary>
    protected virtual StepResult StepCore(int action) =>
        throw new NotSupportedException($"{GetType().Name} overrides neither StepCore(int) nor StepCore(EnvAction).");

    /// <summary>Starts an episode: <see cref="Env"/> reseeds its generator, a wrapper resets its inner env.</summary>
    private protected abstract ResetResult ResetEpisode(long? seed);

    /// <inheritdoc />
    public abstract void Dispose();

    private void BeginStep()
    {
        if (_needsReset)
            throw new InvalidOperationException(_everReset
                ? $"{Id}: Step was called after the episode ended; call Reset first."
                : $"{Id}: Step was called before Reset; call Reset first.");
        if (_layout is null) CacheLayout();
    }

    private ActionLayout CacheLayout()
    {
        var layout = ActionSpace.ActionLayout;
        (_isDiscrete, _discreteStart, _discreteCount) = layout.IsDiscrete ? (true, layout.DiscreteStarts[0], layout.DiscreteSizes[0]) : (false, 0, 0);
        return _layout = layout;
    }

    private InvalidActionException InvalidInteger(int action) => _isDiscrete
        ? new InvalidActionException(Id.ToString(), action, _layout!.Space)
        : new InvalidActionException(Id.ToString(), _layout!.Space, $"Step(int) takes the action of a Discrete space, and the action space is {_layout.Space}", null, action);

    /// <summary>Which hook a type's step forms call, from where each hook is declared.</summary>
    /// <param name="IntegerToInt">Step(int) calls StepCore(int): its declaration is at least as low in the hierarchy as StepCore(EnvAction)'s.</param>
    /// <param name="DiscreteOnly">StepCore(int) is declared strictly below StepCore(EnvAction): Step(EnvAction) on a discrete space calls it.</param>
    private sealed record HookRoute(bool IntegerToInt, bool DiscreteOnly)
    {
        public static HookRoute Of(Type type)
        {
            const BindingFlags flags = BindingFlags.Instance | BindingFlags.NonPublic;
            var byInt = type.GetMethod(nameof(StepCore), flags, [typeof(int)])!.DeclaringType!;
            var byAction = type.GetMethod(nameof(StepCore), flags, [typeof(EnvAction)])!.DeclaringType!;
            bool intBelow = byInt.IsSubclassOf(byAction);
            return new HookRoute(intBelow || byInt == byAction, intBelow);
        }
    }
}

/// <summary>
/// Base class for environments: the reset/step bookkeeping and action validation come from
/// <see cref="EnvBase"/>, so implementations write <see cref="ResetCore"/> and a step hook:
/// <see cref="EnvBase.StepCore(int)"/> for a <see cref="DiscreteSpace"/>, <see cref="EnvBase.StepCore(EnvAction)"/>
/// for any action space. A subclass may declare its <see cref="EnvBase.ActionSpace"/> with the concrete
/// type (<c>public override DiscreteSpace ActionSpace</c>, <c>public override BoxSpace ActionSpace</c>).
/// </summary>
public abstract class Env : EnvBase
{
    /// <summary>Creates the environment with its generator seeded from entropy until the first seeded reset.</summary>
    protected Env() => Random = new Rng(unchecked((ulong)System.Diagnostics.Stopwatch.GetTimestamp() ^ (ulong)Environment.TickCount64 * 0x9E3779B97F4A7C15UL));

    /// <summary>The environment's generator; reseeded by <see cref="EnvBase.Reset"/> with a seed.</summary>
    protected Rng Random { get; }

    /// <summary>The generator's state: vector envs capture it before an unseeded reset so a checkpoint can replay the episode.</summary>
    internal RngState RandomState
    {
        get => Random.GetState();
        set => Random.SetState(value);
    }

    /// <summary>Starts an episode using <see cref="Random"/>; writes into the env's observation.</summary>
    protected abstract ResetResult ResetCore();

    private protected sealed override ResetResult ResetEpisode(long? seed)
    {
        if (seed is long s) Random.Reseed(unchecked((ulong)s));
        return ResetCore();
    }

    /// <inheritdoc />
    public override void Dispose() => GC.SuppressFinalize(this);
}
