using RLAgents.Environments.Mixtures;

namespace RLAgents.Environments.GridWorld.Levels;

/// <summary>
/// Every BabyAI level Minigrid 3.1 registers (96 ids <c>BabyAI-&lt;Name&gt;-v0</c>, except
/// <c>BabyAI-GoToObjS6-v1</c>), with Minigrid's room layouts, object and door distributions and
/// step budgets. Each takes <see cref="GridWorldOptions"/>. The environments truncate themselves at
/// the episode's step budget (room_size² × rooms × navigations the mission needs, as BabyAI: the
/// success reward decays over it, or the level's fixed budget); the registrations declare the
/// largest budget a mission of the level can get, so a time-limit wrapper never cuts earlier.
/// </summary>
public static class BabyAILevels
{
    /// <summary>Every level, by registered id.</summary>
    public static IReadOnlyDictionary<string, BabyAILevel> All { get; } = Create();

    private static Dictionary<string, BabyAILevel> Create()
    {
        const InstructionKind GoTo = InstructionKind.GoTo, Pickup = InstructionKind.Pickup;
        BabyAILevel[] levels =
        [
            // GoTo (Minigrid's goto.py)
            new GoToRedBallGreyLevel(),
            new GoToRedBallLevel(),
            new GoToRedBallLevel("GoToRedBallNoDists", numDistractors: 0),
            new GoToObjLevel(),
            new GoToObjLevel("GoToObjS4", roomSize: 4),
            new GoToObjLevel("GoToObjS6", roomSize: 6, version: 1),
            new GoToLocalLevel(),
            new GoToLocalLevel("GoToLocalS5N2", 5, 2),
            new GoToLocalLevel("GoToLocalS6N2", 6, 2),
            new GoToLocalLevel("GoToLocalS6N3", 6, 3),
            new GoToLocalLevel("GoToLocalS6N4", 6, 4),
            new GoToLocalLevel("GoToLocalS7N4", 7, 4),
            new GoToLocalLevel("GoToLocalS7N5", 7, 5),
            new GoToLocalLevel("GoToLocalS8N2", 8, 2),
            new GoToLocalLevel("GoToLocalS8N3", 8, 3),
            new GoToLocalLevel("GoToLocalS8N4", 8, 4),
            new GoToLocalLevel("GoToLocalS8N5", 8, 5),
            new GoToLocalLevel("GoToLocalS8N6", 8, 6),
            new GoToLocalLevel("GoToLocalS8N7", 8, 7),
            new GoToLevel(),
            new GoToLevel("GoToOpen", doorsOpen: true),
            new GoToLevel("GoToObjMaze", numDistractors: 1),
            new GoToLevel("GoToObjMazeOpen", numDistractors: 1, doorsOpen: true),
            new GoToLevel("GoToObjMazeS4R2", roomSize: 4, numRows: 2, numCols: 2, numDistractors: 1),
            new GoToLevel("GoToObjMazeS4", roomSize: 4, numDistractors: 1),
            new GoToLevel("GoToObjMazeS5", roomSize: 5, numDistractors: 1),
            new GoToLevel("GoToObjMazeS6", roomSize: 6, numDistractors: 1),
            new GoToLevel("GoToObjMazeS7", roomSize: 7, numDistractors: 1),
            new GoToImpUnlockLevel(),
            new LevelGenLevel("GoToSeq", lockedRoomProbability: 0, locations: false, unblocking: false, actions: [GoTo]),
            new LevelGenLevel("GoToSeqS5R2", roomSize: 5, numRows: 2, numCols: 2, numDistractors: 4, lockedRoomProbability: 0,
                locations: false, unblocking: false, actions: [GoTo]),
            new GoToRedBlueBallLevel(),
            new GoToDoorLevel(),
            new GoToObjDoorLevel(),
            // Open (open.py)
            new OpenLevel(),
            new OpenRedDoorLevel(),
            new OpenDoorLevel(),
            new OpenDoorLevel("OpenDoorDebug", strict: true),
            new OpenDoorLevel("OpenDoorColor", DoorSelection.Color),
            new OpenDoorLevel("OpenDoorLoc", DoorSelection.Location),
            new OpenTwoDoorsLevel(),
            new OpenTwoDoorsLevel("OpenRedBlueDoors", GridColor.Red, GridColor.Blue),
            new OpenTwoDoorsLevel("OpenRedBlueDoorsDebug", GridColor.Red, GridColor.Blue, strict: true),
            new OpenDoorsOrderLevel("OpenDoorsOrderN2", 2),
            new OpenDoorsOrderLevel("OpenDoorsOrderN4", 4),
            new OpenDoorsOrderLevel("OpenDoorsOrderN2Debug", 2, strict: true),
            new OpenDoorsOrderLevel("OpenDoorsOrderN4Debug", 4, strict: true),
            // Pickup (pickup.py)
            new PickupLevel(),
            new UnblockPickupLevel(),
            new LevelGenLevel("PickupLoc", numRows: 1, numCols: 1, numDistractors: 8, lockedRoomProbability: 0, locations: true,
                unblocking: false, actions: [Pickup], forms: [InstructionForm.Action]),
            new PickupDistLevel(),
            new PickupDistLevel("PickupDistDebug", strict: true),
            new PickupAboveLevel(),
            // PutNext (putnext.py)
            new PutNextLocalLevel(),
            new PutNextLocalLevel("PutNextLocalS5N3", 5, 3),
            new PutNextLocalLevel("PutNextLocalS6N4", 6, 4),
            new PutNextLevel("PutNextS4N1", 4, 1),
            new PutNextLevel("PutNextS5N2", 5, 2),
            new PutNextLevel("PutNextS5N1", 5, 1),
            new PutNextLevel("PutNextS6N3", 6, 3),
            new PutNextLevel("PutNextS7N4", 7, 4),
            new PutNextLevel("PutNextS5N2Carrying", 5, 2, startCarrying: true),
            new PutNextLevel("PutNextS6N3Carrying", 6, 3, startCarrying: true),
            new PutNextLevel("PutNextS7N4Carrying", 7, 4, startCarrying: true),
            // Unlock (unlock.py)
            new UnlockLevel(),
            new UnlockLocalLevel(),
            new UnlockLocalLevel("UnlockLocalDist", distractors: true),
            new KeyInBoxLevel(),
            new UnlockPickupLevel(),
            new UnlockPickupLevel("UnlockPickupDist", distractors: true),
            new BlockedUnlockPickupLevel(),
            new UnlockToUnlockLevel(),
            // Other (other.py)
            new ActionObjDoorLevel(),
            new FindObjLevel("FindObjS5", 5),
            new FindObjLevel("FindObjS6", 6),
            new FindObjLevel("FindObjS7", 7),
            new KeyCorridorLevel("KeyCorridor", 6, 3),
            new KeyCorridorLevel("KeyCorridorS3R1", 3, 1),
            new KeyCorridorLevel("KeyCorridorS3R2", 3, 2),
            new KeyCorridorLevel("KeyCorridorS3R3", 3, 3),
            new KeyCorridorLevel("KeyCorridorS4R3", 4, 3),
            new KeyCorridorLevel("KeyCorridorS5R3", 5, 3),
            new KeyCorridorLevel("KeyCorridorS6R3", 6, 3),
            new OneRoomLevel("OneRoomS8", 8),
            new OneRoomLevel("OneRoomS12", 12),
            new OneRoomLevel("OneRoomS16", 16),
            new OneRoomLevel("OneRoomS20", 20),
            new MoveTwoAcrossLevel("MoveTwoAcrossS5N2", 5, 2),
            new MoveTwoAcrossLevel("MoveTwoAcrossS8N9", 8, 9),
            // Synth (synth.py): LevelGen configurations. Minigrid registers SynthS5R2 as Synth with
            // room_size 5 and 2 rows (3 columns, 18 distractors), not as its SynthS5R2 class.
            new LevelGenLevel("Synth", forms: [InstructionForm.Action], locations: false, implicitUnlock: false),
            new LevelGenLevel("SynthS5R2", roomSize: 5, numRows: 2, forms: [InstructionForm.Action], locations: false, implicitUnlock: false),
            new LevelGenLevel("SynthLoc", forms: [InstructionForm.Action], implicitUnlock: false),
            new LevelGenLevel("SynthSeq", implicitUnlock: false),
            new LevelGenLevel("MiniBossLevel", roomSize: 5, numRows: 2, numCols: 2, numDistractors: 7, lockedRoomProbability: 0.25),
            new LevelGenLevel("BossLevel"),
            new LevelGenLevel("BossLevelNoUnlock", lockedRoomProbability: 0, implicitUnlock: false),
        ];
        return levels.ToDictionary(l => l.Id, StringComparer.Ordinal);
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
        return new GridWorldEnv(EnvId.Parse(id), HeldOutMissions.From(opts)?.Filter(source, id) ?? source, opts)
        {
            CanCaptureStartState = !level.StartsCarrying,
        };
    }

    /// <summary>Registers every level into <paramref name="registry"/>.</summary>
    public static void Register(EnvRegistry registry)
    {
        foreach (var (id, level) in All)
        {
            string where = level.NumRows * level.NumCols == 1 ? "one room" : $"{level.NumCols}x{level.NumRows} rooms";
            string budget = level.FixedMaxSteps is null ? "at most " : "";
            registry.Register(new EnvRegistration(EnvId.Parse(id), typeof(GridWorldOptions),
                o => Make(id, (GridWorldOptions)o), level.MaxSteps,
                $"BabyAI {level.Name} ({where} of {level.RoomSize}x{level.RoomSize}, {budget}{level.MaxSteps} steps); image, direction, mission, description"));
        }
        registry.Register(MixtureEnv.Registration(registry, MixtureId, DefaultMixture,
            $"BabyAI levels mixed, one drawn per episode (env.options.ids; default {string.Join(", ", DefaultMixture)}); step infos name the level"));
    }

    /// <summary>The id of the BabyAI level mixture: one language-conditioned agent for many levels (<see cref="MixtureEnv"/>).</summary>
    public static readonly EnvId MixtureId = new("BabyAI-Mixture", 0);

    /// <summary>The levels <see cref="MixtureId"/> mixes when its options name none: BabyAI's single-room benchmark levels.</summary>
    public static IReadOnlyList<string> DefaultMixture { get; } = ["BabyAI-GoToLocal-v0", "BabyAI-PickupLoc-v0", "BabyAI-PutNextLocal-v0"];
}
