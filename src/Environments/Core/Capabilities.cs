namespace RLAgents.Environments;

// Optional abilities an environment family offers to generic code: episode logs and their
// viewer, supervised fine-tuning, policies and the command line ask for them with
// `env.Find<ICapability>()` (which looks through wrappers) and never name an env type. A new env
// family implements the ones it can, in its own folder, and every generic tool works with it.

/// <summary>Draws the environment's current state as a picture (viewer, GIF and PNG renderers, <c>rlagents play</c>).</summary>
public interface IRenderFrame
{
    /// <summary>The current state as uint8 RGB [Height, Width, 3]; call after a reset or step.</summary>
    RgbFrame RenderFrame();
}

/// <summary>Draws the environment's current state as text (terminal players, the viewer's text pane).</summary>
public interface IRenderText
{
    /// <summary>The current state as lines of text; call after a reset or step.</summary>
    string RenderText();
}

/// <summary>Human-readable names of a discrete action space's actions.</summary>
public interface IActionNames
{
    /// <summary>One name per action, indexed by the action minus the space's start.</summary>
    IReadOnlyList<string> ActionNames { get; }
}

/// <summary>
/// The closed vocabulary of the environment's text modalities (e.g. the BabyAI instruction
/// grammar), so policies can tokenize by word. Environments whose text is open-ended leave it out
/// and policies fall back to byte-level tokens.
/// </summary>
public interface ITextVocabulary
{
    /// <summary>Every word and punctuation token the text modalities can contain.</summary>
    IReadOnlyList<string> TextVocabulary { get; }
}

/// <summary>An environment with an expert policy, for demonstrations and supervised fine-tuning.</summary>
public interface IExpertEnv
{
    /// <summary>An expert that acts in this environment's current state (one per environment instance).</summary>
    IExpert CreateExpert();
}

/// <summary>An expert policy bound to one environment instance.</summary>
public interface IExpert
{
    /// <summary>
    /// The expert's action for the environment's current state. <paramref name="actionTaken"/> is the
    /// action actually applied since the previous call, when it differed from the expert's own
    /// suggestion (null: the suggestion was followed, or the episode is new). The expert notices
    /// new episodes by itself.
    /// </summary>
    int Act(int? actionTaken = null);
}

/// <summary>
/// An environment that can describe the state right after a reset and start an episode from such a
/// description, so that episodes begun without a seed can still be re-simulated.
/// </summary>
public interface IStartStateEnv
{
    /// <summary>The current start state as JSON (call right after <see cref="IEnv.Reset"/>).</summary>
    string CaptureStartState();

    /// <summary>Puts the environment, already reset, into <paramref name="startState"/> and returns its observation.</summary>
    Observation RestoreStartState(string startState);

    /// <summary>
    /// False when this instance's episodes start in states its description cannot express (e.g. a BabyAI level whose
    /// agent starts carrying the object to move): recorders then give its unseeded resets seeds instead.
    /// </summary>
    bool CanCaptureStartState => true;
}

/// <summary>
/// An environment family that can show its observations as pictures. Generic code (experiment
/// configs' <c>env.pixels</c>, <see cref="Wrappers.ImagePipeline"/>) finds it with <c>env.Find&lt;IPixelObservationEnv&gt;()</c>
/// and never names the family's wrapper type.
/// </summary>
public interface IPixelObservationEnv
{
    /// <summary>
    /// Wraps <paramref name="env"/> (a wrapper stack over this environment) so that its observations
    /// carry a uint8 [H, W, 3] picture with bounds 0..255 as <see cref="Wrappers.PixelObservationOptions"/> asks.
    /// The wrapper owns <paramref name="env"/>. Options the family cannot honour throw
    /// <see cref="Configuration.ConfigurationException"/> naming <paramref name="path"/>.
    /// </summary>
    IEnv AddPixelObservation(IEnv env, Wrappers.PixelObservationOptions options, string path);
}

/// <summary>
/// An environment made of other environments (e.g. <see cref="Mixtures.MixtureEnv"/>) that offers
/// the capabilities of its parts: <see cref="EnvExtensions.Find{T}"/> asks it for the ones it does
/// not implement itself, so generic code finds them the same way as on a single environment.
/// </summary>
public interface ICapabilitySource
{
    /// <summary>The capability <typeparamref name="T"/> when the parts offer it, else null.</summary>
    T? Capability<T>() where T : class;
}

/// <summary>
/// An environment whose episodes each belong to one of several named tasks (a mixture of levels).
/// Every step's <see cref="StepInfo.Task"/> names the episode's task, so evaluation and training can
/// report per task; a curriculum narrows which tasks new episodes draw from.
/// </summary>
public interface ITaskMixture
{
    /// <summary>The task labels, in curriculum order (short, unique; metrics keys derive from them).</summary>
    IReadOnlyList<string> Tasks { get; }

    /// <summary>The task of the current episode.</summary>
    string CurrentTask { get; }

    /// <summary>
    /// How many of <see cref="Tasks"/> (the first ones) unseeded resets draw from; every task by
    /// default. A seeded reset always draws from all of them, so the same seed gives the same episode.
    /// </summary>
    int ActiveTasks { get; set; }
}
