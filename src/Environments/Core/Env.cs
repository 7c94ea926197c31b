namespace RLAgents.Environments;

/// <summary>
/// Typed per-step information. Gymnasium's free-form <c>info</c> dictionary becomes named,
/// optional fields; environment-specific state is read from the environment's own properties.
/// </summary>
/// <param name="IsSuccess">For goal-reaching environments: whether the goal was reached on this step.</param>
/// <param name="Episode">Set by the episode-statistics wrapper on the step that ends an episode.</param>
public readonly record struct StepInfo(bool? IsSuccess = null, EpisodeStatistics? Episode = null);

/// <summary>Return, length and wall-clock time of a finished episode.</summary>
public readonly record struct EpisodeStatistics(double Return, int Length, double Seconds);

/// <summary>What <see cref="IEnv.Reset"/> returns.</summary>
/// <param name="Observation">The first observation (owned by the environment: valid until its next call).</param>
/// <param name="Info">Typed information.</param>
public readonly record struct ResetResult(Observation Observation, StepInfo Info);

/// <summary>What <see cref="IEnv.Step"/> returns, with Gymnasium's semantics.</summary>
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
/// the first <see cref="Step"/> and after an episode ends; stepping otherwise throws
/// <see cref="InvalidOperationException"/>. An action outside <see cref="ActionSpace"/> throws
/// <see cref="InvalidActionException"/>. Actions are integers of a <see cref="DiscreteSpace"/>.
/// </summary>
public interface IEnv : IDisposable
{
    /// <summary>Registry identity of the environment (id and version); may be ad hoc for plug-ins.</summary>
    EnvId Id { get; }

    /// <summary>The layout and bounds of every observation.</summary>
    ObservationSpace ObservationSpace { get; }

    /// <summary>The actions <see cref="Step"/> accepts.</summary>
    DiscreteSpace ActionSpace { get; }

    /// <summary>
    /// Starts an episode. A seed reseeds the environment's generator (same seed ⇒ same episode);
    /// no seed continues the current stream.
    /// </summary>
    ResetResult Reset(long? seed = null);

    /// <summary>Applies <paramref name="action"/> and advances one step.</summary>
    StepResult Step(int action);
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

/// <summary>An action outside the environment's action space.</summary>
public sealed class InvalidActionException : ArgumentException
{
    /// <summary>Creates the error naming the action and the space.</summary>
    public InvalidActionException(string envId, int action, Space space)
        : base($"Action {action} is not in the action space {space} of {envId}.", "action")
    {
        Action = action;
        ActionSpace = space;
    }

    /// <summary>The rejected action.</summary>
    public int Action { get; }

    /// <summary>The space it is not in.</summary>
    public Space ActionSpace { get; }
}

/// <summary>
/// Base class for environments: enforces the reset/step bookkeeping and action validation once,
/// so implementations only write <see cref="ResetCore"/> and <see cref="StepCore"/>.
/// </summary>
public abstract class Env : IEnv
{
    private bool _needsReset = true;
    private bool _everReset;
    private DiscreteSpace? _actionSpace; // cached on first Step (spaces are fixed for an env's lifetime): validation makes no virtual call

    /// <summary>Creates the environment with its generator seeded from entropy until the first seeded reset.</summary>
    protected Env() => Random = new Rng(unchecked((ulong)System.Diagnostics.Stopwatch.GetTimestamp() ^ (ulong)Environment.TickCount64 * 0x9E3779B97F4A7C15UL));

    /// <inheritdoc />
    public abstract EnvId Id { get; }

    /// <inheritdoc />
    public abstract ObservationSpace ObservationSpace { get; }

    /// <inheritdoc />
    public abstract DiscreteSpace ActionSpace { get; }

    /// <summary>The environment's generator; reseeded by <see cref="Reset"/> with a seed.</summary>
    protected Rng Random { get; }

    /// <summary>The generator's state: vector envs capture it before an unseeded reset so a checkpoint can replay the episode.</summary>
    internal RngState RandomState
    {
        get => Random.GetState();
        set => Random.SetState(value);
    }

    /// <summary>True between a reset and the end of the episode.</summary>
    public bool InEpisode => !_needsReset;

    /// <inheritdoc />
    public ResetResult Reset(long? seed = null)
    {
        if (seed is long s) Random.Reseed(unchecked((ulong)s));
        var result = ResetCore();
        _needsReset = false;
        _everReset = true;
        return result;
    }

    /// <inheritdoc />
    public StepResult Step(int action)
    {
        if (_needsReset)
            throw new InvalidOperationException(_everReset
                ? $"{Id}: Step was called after the episode ended; call Reset first."
                : $"{Id}: Step was called before Reset; call Reset first.");
        var space = _actionSpace ??= ActionSpace;
        if (!space.Contains(action)) throw new InvalidActionException(Id.ToString(), action, space);
        var result = StepCore(action);
        if (result.Terminated || result.Truncated) _needsReset = true;
        return result;
    }

    /// <summary>Starts an episode using <see cref="Random"/>; writes into the env's observation.</summary>
    protected abstract ResetResult ResetCore();

    /// <summary>Applies a valid action during an episode.</summary>
    protected abstract StepResult StepCore(int action);

    /// <inheritdoc />
    public virtual void Dispose() => GC.SuppressFinalize(this);
}
