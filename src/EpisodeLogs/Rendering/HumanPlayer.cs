using System.Globalization;
using System.Text;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs.Rendering;

/// <summary>How <see cref="HumanPlayer"/> draws the environment.</summary>
public enum PlayView
{
    /// <summary>The env's text picture (<see cref="IRenderText"/>) where it has one, else its frame.</summary>
    Auto,
    /// <summary>The env's text picture (<see cref="IRenderText"/>).</summary>
    Text,
    /// <summary>The env's RGB frame (<see cref="IRenderFrame"/>) as ANSI-coloured half blocks.</summary>
    Frame,
}

/// <summary>One key of a <see cref="HumanPlayer"/>: what to press, what it shows as, and the action it takes.</summary>
/// <param name="Char">The character that takes the action (a digit or a letter), or '\0' for none.</param>
/// <param name="Key">A special key that also takes it (an arrow), or null.</param>
/// <param name="Label">How the legend shows the keys, e.g. <c>←/l</c>.</param>
/// <param name="Action">The action (zero-based within the action space).</param>
/// <param name="Name">The action's name.</param>
public sealed record PlayKey(char Char, ConsoleKey? Key, string Label, int Action, string Name);

/// <summary>What a play session did.</summary>
/// <param name="Episodes">Episodes played to their end.</param>
/// <param name="Successes">Of those, episodes whose last step reported success.</param>
/// <param name="Steps">Steps taken in ended episodes.</param>
/// <param name="Quit">The player quit before the last episode ended (an unfinished episode is not recorded).</param>
public sealed record PlaySession(int Episodes, int Successes, long Steps, bool Quit);

/// <summary>
/// A person plays an environment in a terminal: every step shows the picture (the env's text
/// rendering, or its RGB frame as coloured half blocks), the text modalities of the observation
/// (e.g. the BabyAI mission) and the keys; each key press takes one action. Episodes go through
/// whatever wraps the env, so an <see cref="EpisodeRecorder"/> around it writes them to an episode log
/// like any other (<c>rlagents episodes to-sft</c> turns them into demonstrations). Generic: it reads
/// the env's capabilities only (<see cref="IActionNames"/>, <see cref="IRenderText"/>, <see cref="IRenderFrame"/>).
/// </summary>
public sealed class HumanPlayer
{
    private readonly IEnv _env;
    private readonly DiscreteSpace _actions;
    private readonly IReadOnlyList<PlayKey> _keys;
    private readonly IRenderText? _text;
    private readonly IRenderFrame? _frame;
    private readonly int _maxColumns;

    /// <summary>A player for <paramref name="env"/> (typically an <see cref="EpisodeRecorder"/> around the environment).</summary>
    /// <param name="env">The environment to play.</param>
    /// <param name="view">How to draw it.</param>
    /// <param name="maxColumns">Width limit of frame pictures, in characters.</param>
    /// <exception cref="NotSupportedException">The env cannot be drawn the way <paramref name="view"/> asks, or its actions are not discrete (no key per action).</exception>
    public HumanPlayer(IEnv env, PlayView view = PlayView.Auto, int maxColumns = 64)
    {
        _env = env;
        _maxColumns = maxColumns;
        // A key per action: only a discrete action space can be played from the keyboard.
        _actions = env.ActionSpace.AsDiscrete("rlagents play");
        var names = EpisodeRenderer.ActionNames(env, _actions.N);
        _keys = KeysFor(names);
        _text = view is PlayView.Auto or PlayView.Text ? env.Find<IRenderText>() : null;
        _frame = view == PlayView.Frame || (view == PlayView.Auto && _text is null) ? env.Find<IRenderFrame>() : null;
        if (view == PlayView.Text && _text is null) throw new NotSupportedException($"{env.Id} has no text rendering ({nameof(IRenderText)}); use the frame view.");
        if (view == PlayView.Frame && _frame is null) throw new NotSupportedException($"{env.Id} has no frame rendering ({nameof(IRenderFrame)}); use the text view.");
    }

    /// <summary>The keys of the actions, in action order.</summary>
    public IReadOnlyList<PlayKey> Keys => _keys;

    /// <summary>The reset seed of episode <paramref name="episode"/> of a session seeded <paramref name="seed"/>.</summary>
    public static long EpisodeSeed(long seed, int episode) => unchecked((long)Rng.DeriveSeed(unchecked((ulong)seed), "play-episode", episode));

    /// <summary>
    /// Keys for actions named <paramref name="names"/>: the digit of the action's number (1–9) for the first nine;
    /// the first letter of its name not yet taken (never <c>q</c>, which quits); and an arrow for names that say
    /// left, right, forward/up or down/back.
    /// </summary>
    public static IReadOnlyList<PlayKey> KeysFor(IReadOnlyList<string> names)
    {
        var taken = new HashSet<char> { 'q' };
        var arrows = new HashSet<ConsoleKey>();
        var keys = new List<PlayKey>();
        for (int a = 0; a < names.Count; a++)
        {
            string name = names[a];
            string lower = name.ToLowerInvariant();
            char letter = lower.FirstOrDefault(c => char.IsAsciiLetterLower(c) && !taken.Contains(c));
            if (letter != '\0') taken.Add(letter);
            var words = lower.Split([' ', '-', '_'], StringSplitOptions.RemoveEmptyEntries);
            ConsoleKey? arrow = words.Contains("left") ? ConsoleKey.LeftArrow
                : words.Contains("right") ? ConsoleKey.RightArrow
                : words.Contains("forward") || words.Contains("up") ? ConsoleKey.UpArrow
                : words.Contains("down") || words.Contains("back") || words.Contains("backward") ? ConsoleKey.DownArrow
                : null;
            if (arrow is { } k && !arrows.Add(k)) arrow = null;
            var label = new List<string>();
            if (arrow is { } shown) label.Add(shown switch { ConsoleKey.LeftArrow => "←", ConsoleKey.RightArrow => "→", ConsoleKey.UpArrow => "↑", _ => "↓" });
            if (letter != '\0') label.Add(letter.ToString());
            if (a < 9) label.Add((a + 1).ToString(CultureInfo.InvariantCulture));
            keys.Add(new PlayKey(letter, arrow, string.Join("/", label), a, name));
        }
        return keys;
    }

    /// <summary>The action a key press takes, or null (not an action key).</summary>
    public int? ActionOf(ConsoleKeyInfo key)
    {
        foreach (var k in _keys)
            if ((k.Key is { } special && key.Key == special) || (k.Char != '\0' && char.ToLowerInvariant(key.KeyChar) == k.Char)) return k.Action;
        if (key.KeyChar is >= '1' and <= '9' && key.KeyChar - '1' < _keys.Count) return key.KeyChar - '1';
        return null;
    }

    /// <summary>
    /// Plays <paramref name="episodes"/> episodes, episode e reset with <see cref="EpisodeSeed"/>(seed, e). Each step
    /// is drawn to <paramref name="output"/> (after a clear-screen sequence when <paramref name="clearScreen"/>), then one
    /// key is read; <c>q</c> or Escape quits. After an episode ends its last picture stays until a key is pressed
    /// (<c>q</c> quits), except after the last episode.
    /// </summary>
    public PlaySession Play(int episodes, long seed, Func<ConsoleKeyInfo> readKey, TextWriter output, bool clearScreen = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(episodes, 1);
        int done = 0, successes = 0;
        long steps = 0;
        for (int e = 0; e < episodes; e++)
        {
            var observation = _env.Reset(EpisodeSeed(seed, e)).Observation;
            double ret = 0;
            string? last = null;
            for (int t = 0; ; t++)
            {
                Draw(output, clearScreen, e, episodes, t, ret, observation, last);
                var key = readKey();
                if (key.Key == ConsoleKey.Escape || char.ToLowerInvariant(key.KeyChar) == 'q') return new PlaySession(done, successes, steps, Quit: true);
                if (ActionOf(key) is not int action)
                {
                    last = $"key '{Describe(key)}' takes no action";
                    t--;
                    continue;
                }
                var step = _env.Step(action + _actions.Start);
                ret += step.Reward;
                observation = step.Observation;
                last = $"{_keys[action].Name}: reward {step.Reward.ToString("0.###", CultureInfo.InvariantCulture)}";
                if (!step.Done) continue;
                done++;
                steps += t + 1;
                if (step.Info.IsSuccess == true) successes++;
                string outcome = step.Info.IsSuccess is bool s ? (s ? "success" : "failure") : step.Terminated ? "terminated" : "truncated";
                string end = string.Create(CultureInfo.InvariantCulture, $"episode {e + 1} ended after {t + 1} steps: {outcome}, return {ret:0.###}");
                Draw(output, clearScreen, e, episodes, t + 1, ret, observation, last, end);
                if (e + 1 == episodes) return new PlaySession(done, successes, steps, Quit: false);
                output.Write("[any key: next episode  q: quit]\n");
                output.Flush();
                var next = readKey();
                if (next.Key == ConsoleKey.Escape || char.ToLowerInvariant(next.KeyChar) == 'q') return new PlaySession(done, successes, steps, Quit: true);
                break;
            }
        }
        return new PlaySession(done, successes, steps, Quit: false);
    }

    private void Draw(TextWriter output, bool clearScreen, int episode, int episodes, int step, double ret, Observation observation, string? last, string? end = null)
    {
        var sb = new StringBuilder();
        if (clearScreen) sb.Append("\u001b[2J\u001b[H");
        sb.Append(CultureInfo.InvariantCulture, $"{_env.Id}  episode {episode + 1}/{episodes}  step {step}  return {ret:0.###}");
        if (last is not null) sb.Append("  (").Append(last).Append(')');
        sb.Append('\n');
        string picture = _text?.RenderText() ?? (_frame is not null ? AnsiFrame.Render(_frame.RenderFrame(), _maxColumns) : "");
        sb.Append(picture);
        if (picture.Length > 0 && picture[^1] != '\n') sb.Append('\n');
        var space = observation.Space;
        for (int m = 0; m < space.Count; m++)
            if (space[m].Storage == ModalityStorage.Text) sb.Append(space[m].Name).Append(": ").Append(observation.GetText(m)).Append('\n');
        if (end is not null) sb.Append(end).Append('\n');
        else sb.Append('[').AppendJoin("  ", _keys.Select(k => $"{k.Label} {k.Name}")).Append("  q quit]\n");
        output.Write(sb.ToString());
        output.Flush();
    }

    private static string Describe(ConsoleKeyInfo key) => key.KeyChar is >= ' ' and <= '~' ? key.KeyChar.ToString() : key.Key.ToString();
}
