namespace RLAgents.Environments.GridWorld.Levels;

/// <summary>
/// The registered BabyAI levels (ids <c>BabyAI-&lt;Name&gt;-v0</c> as Minigrid's). Each takes
/// <see cref="GridWorldOptions"/>. The environments truncate themselves at the level's step
/// budget (room_size² × rooms × navigations, as BabyAI: the success reward decays over it), and
/// the registrations declare the same budget, so a time-limit wrapper agrees with the env.
/// </summary>
public static class BabyAILevels
{
    /// <summary>Every level, by registered id.</summary>
    public static IReadOnlyDictionary<string, BabyAILevel> All { get; } = Create();

    private static Dictionary<string, BabyAILevel> Create()
    {
        BabyAILevel[] levels =
        [
            new GoToRedBallGreyLevel(),
            new GoToRedBallLevel(),
            new GoToRedBallLevel(numDistractors: 0),
            new GoToObjLevel(),
            new GoToLocalLevel(),
            new GoToLevel(),
            new GoToLevel(doorsOpen: true),
            new GoToRedBlueBallLevel(),
            new GoToDoorLevel(),
            new PickupLocLevel(),
            new PickupDistLevel(),
            new PickupLevel(),
            new PutNextLocalLevel(),
            new OpenLevel(),
            new OpenRedDoorLevel(),
            new UnlockLocalLevel(),
            new UnlockLocalLevel(distractors: true),
        ];
        return levels.ToDictionary(l => $"BabyAI-{l.Name}-v0", StringComparer.Ordinal);
    }

    /// <summary>The level registered as <paramref name="id"/>; the error lists the known ids.</summary>
    public static BabyAILevel Get(string id) => All.TryGetValue(id, out var level)
        ? level
        : throw new KeyNotFoundException($"No BabyAI level '{id}'. Known: {string.Join(", ", All.Keys.Order(StringComparer.Ordinal))}.");

    /// <summary>A new environment for the level registered as <paramref name="id"/>.</summary>
    public static GridWorldEnv Make(string id, GridWorldOptions? options = null)
    {
        var level = Get(id);
        var opts = options ?? new GridWorldOptions();
        Func<Rng, GridWorldEpisode> source = rng => level.Generate(rng, opts.UseDoneActions);
        return new GridWorldEnv(EnvId.Parse(id), HeldOutMissions.From(opts)?.Filter(source, id) ?? source, opts);
    }

    /// <summary>Registers every level into <paramref name="registry"/>.</summary>
    public static void Register(EnvRegistry registry)
    {
        foreach (var (id, level) in All)
        {
            string where = level.NumRows * level.NumCols == 1 ? "one room" : $"{level.NumCols}x{level.NumRows} rooms";
            registry.Register(new EnvRegistration(EnvId.Parse(id), typeof(GridWorldOptions),
                o => Make(id, (GridWorldOptions)o), level.MaxSteps,
                $"BabyAI {level.Name} ({where} of {level.RoomSize}x{level.RoomSize}); image, direction, mission, description"));
        }
    }
}
