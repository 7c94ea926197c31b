namespace RLAgents.Environments.GridWorld;

/// <summary>Which episodes <see cref="GridWorldOptions.HeldOut"/> lets through.</summary>
public enum HeldOutMode
{
    /// <summary>Episodes whose instruction describes a held-out pair are generated again: training episodes and the bot's demonstrations never see them.</summary>
    Exclude,
    /// <summary>Only episodes whose instruction describes a held-out pair are kept: an evaluation on exactly the held-out compositions.</summary>
    Only,
}

/// <summary>
/// Colour–object compositions held out of (or, for evaluation, the only ones in) a level's episodes:
/// an episode is held out when one of its instruction's object descriptions names exactly such a colour
/// and type ("go to the red ball" for the pair red ball; "pick up a ball" names no colour, so no pair).
/// Applied by rejection in the episode source: the level generates again, from the same generator, until
/// the episode qualifies, so the result is still a function of the env's seed.
/// </summary>
public sealed class HeldOutMissions
{
    /// <summary>Generations tried before giving up on a level that never (or always) describes a held-out pair.</summary>
    public const int MaxAttempts = 10_000;

    private readonly HashSet<(GridColor Color, ObjectType Type)> _pairs;

    /// <summary>Parses <paramref name="pairs"/> ("red ball", "grey key"); a malformed entry throws <see cref="FormatException"/> naming it.</summary>
    public HeldOutMissions(IEnumerable<string> pairs, HeldOutMode mode)
    {
        _pairs = [.. pairs.Select(Parse)];
        Mode = mode;
    }

    /// <summary>Which episodes pass.</summary>
    public HeldOutMode Mode { get; }

    /// <summary>The held-out (colour, type) pairs.</summary>
    public IReadOnlyCollection<(GridColor Color, ObjectType Type)> Pairs => _pairs;

    /// <summary>The object types a pair may name (the ones instructions describe).</summary>
    public static IReadOnlyList<ObjectType> DescribableTypes { get; } = [ObjectType.Ball, ObjectType.Box, ObjectType.Key, ObjectType.Door];

    /// <summary>One pair: a colour name and an object type name separated by a space, e.g. "red ball".</summary>
    public static (GridColor Color, ObjectType Type) Parse(string pair)
    {
        var words = pair.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length != 2)
            throw new FormatException($"'{pair}' is not a colour–object pair such as \"red ball\".");
        var color = GridConstants.ParseColor(words[0]);
        int type = Array.IndexOf(GridConstants.TypeNames, words[1]);
        if (type < 0 || !DescribableTypes.Contains((ObjectType)type))
            throw new FormatException($"'{words[1]}' in '{pair}' is not an object an instruction describes; expected one of {string.Join(", ", DescribableTypes.Select(t => t.Name()))}.");
        return (color, (ObjectType)type);
    }

    /// <summary>True when one of <paramref name="instruction"/>'s descriptions names a held-out pair.</summary>
    public bool IsHeldOut(Instruction instruction) =>
        instruction.Descriptions.Any(d => d is { Color: GridColor c, Type: ObjectType t } && _pairs.Contains((c, t)));

    /// <summary>True when an episode with <paramref name="instruction"/> passes under <see cref="Mode"/>.</summary>
    public bool Accepts(Instruction instruction) => IsHeldOut(instruction) == (Mode == HeldOutMode.Only);

    /// <summary>
    /// <paramref name="source"/> with rejection: episodes that do not pass are generated again from the same
    /// generator. <paramref name="level"/> names the level in the error thrown after <see cref="MaxAttempts"/> rejections.
    /// </summary>
    public Func<Rng, GridWorldEpisode> Filter(Func<Rng, GridWorldEpisode> source, string level) => rng =>
    {
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var episode = source(rng);
            if (Accepts(episode.Instruction)) return episode;
        }
        string which = Mode == HeldOutMode.Only ? "describes" : "avoids";
        throw new InvalidOperationException(
            $"{level}: no episode in {MaxAttempts} {which} the held-out pairs {string.Join(", ", _pairs.Select(p => $"{p.Color.Name()} {p.Type.Name()}"))} (env.options.heldOut).");
    };

    /// <summary>The filter <paramref name="options"/> configure, or null when nothing is held out.</summary>
    public static HeldOutMissions? From(GridWorldOptions options) =>
        options.HeldOut is { Length: > 0 } pairs ? new HeldOutMissions(pairs, options.HeldOutMode) : null;
}
