namespace RLAgents.Environments.GridWorld;

/// <summary>Where an object lies relative to the agent's starting pose (BabyAI's <c>LOC_NAMES</c>).</summary>
public enum ObjectLocation
{
    /// <summary>To the agent's left.</summary>
    Left,
    /// <summary>To the agent's right.</summary>
    Right,
    /// <summary>In front of the agent.</summary>
    Front,
    /// <summary>Behind the agent.</summary>
    Behind,
}

/// <summary>A rectangle of cells (a room including its walls).</summary>
public readonly record struct RoomRect(int X, int Y, int Width, int Height)
{
    /// <summary>True when (x, y) lies inside the rectangle.</summary>
    public bool Contains(int x, int y) => x >= X && y >= Y && x < X + Width && y < Y + Height;
}

/// <summary>
/// A description of a set of objects ("the red ball", "a key on your left"), as BabyAI's
/// <c>ObjDesc</c>: optional type, colour and location, plus the objects that matched it when the
/// mission was generated (<see cref="Objects"/>) and their current positions
/// (<see cref="Positions"/>, refreshed when an object is dropped).
/// </summary>
public sealed class ObjectDescription
{
    private readonly List<WorldObject> _objects = [];
    private readonly List<(int X, int Y)> _positions = [];

    /// <summary>Creates a description; null parts match anything.</summary>
    public ObjectDescription(ObjectType? type, GridColor? color = null, ObjectLocation? location = null)
    {
        if (type is not (null or ObjectType.Box or ObjectType.Ball or ObjectType.Key or ObjectType.Door))
            throw new ArgumentException($"Instructions describe boxes, balls, keys or doors, not '{type.Value.Name()}'.", nameof(type));
        Type = type;
        Color = color;
        Location = location;
    }

    /// <summary>Type, or null for "object".</summary>
    public ObjectType? Type { get; }

    /// <summary>Colour, or null for any.</summary>
    public GridColor? Color { get; }

    /// <summary>Location relative to the agent at generation time, or null.</summary>
    public ObjectLocation? Location { get; }

    /// <summary>The objects this description designates (identity, fixed after matching).</summary>
    public IReadOnlyList<WorldObject> Objects => _objects;

    /// <summary>Positions of the tracked objects still on the grid, in x-major scan order.</summary>
    public IReadOnlyList<(int X, int Y)> Positions => _positions;

    /// <summary>A copy without matched objects.</summary>
    public ObjectDescription CloneUnbound() => new(Type, Color, Location);

    /// <summary>
    /// BabyAI's <c>find_matching_objs</c> with locations: every object (scanned x-major) of the
    /// type and colour; a location keeps only objects in <paramref name="agentRoom"/> on that side
    /// of the agent's pose.
    /// </summary>
    public void Match(Grid grid, int agentX, int agentY, int agentDir, RoomRect? agentRoom)
    {
        _objects.Clear();
        _positions.Clear();
        int d1x = GridConstants.DirX[agentDir], d1y = GridConstants.DirY[agentDir];
        int d2x = -d1y, d2y = d1x;
        // Level generators match many candidate descriptions per level: filter on the packed
        // (type | colour << 8) encodings before touching objects. Walls stay candidates: as in
        // BabyAI, a description without a type ("a grey object") matches grey walls too.
        var packed = grid.Packed;
        uint mask = (Type is null ? 0u : 0xFFu) | (Color is null ? 0u : 0xFF00u);
        uint want = (Type is ObjectType t ? (uint)t : 0u) | (Color is GridColor c ? (uint)c << 8 : 0u);
        for (int x = 0; x < grid.Width; x++)
            for (int y = 0; y < grid.Height; y++)
            {
                uint p = packed[grid.PackedIndex(x, y)];
                if ((p & mask) != want || (byte)p == (byte)ObjectType.Empty) continue;
                var cell = grid.GetOrNull(x, y);
                if (cell is null || !Matches(cell)) continue;
                if (Location is ObjectLocation loc)
                {
                    if (agentRoom is not RoomRect room)
                        throw new InvalidOperationException("Matching a location needs the agent's room.");
                    if (!room.Contains(x, y)) continue;
                    int vx = x - agentX, vy = y - agentY;
                    int side = vx * d2x + vy * d2y, ahead = vx * d1x + vy * d1y;
                    bool ok = loc switch
                    {
                        ObjectLocation.Left => side < 0,
                        ObjectLocation.Right => side > 0,
                        ObjectLocation.Front => ahead > 0,
                        _ => ahead < 0,
                    };
                    if (!ok) continue;
                }
                _objects.Add(cell);
                _positions.Add((x, y));
            }
    }

    /// <summary>Binds the description to the objects at explicit positions (for layouts and replays).</summary>
    public void Bind(Grid grid, IEnumerable<(int X, int Y)> positions)
    {
        _objects.Clear();
        _positions.Clear();
        foreach (var (x, y) in positions)
        {
            var cell = grid.InBounds(x, y) ? grid.Get(x, y) : null;
            if (cell is null) throw new ArgumentException($"No object at ({x}, {y}) for the description '{Noun()}'.");
            if (!Matches(cell)) throw new ArgumentException($"The {cell} at ({x}, {y}) does not match the description '{Noun()}'.");
            _objects.Add(cell);
            _positions.Add((x, y));
        }
    }

    /// <summary>
    /// BabyAI's <c>find_matching_objs(use_location=False)</c>: keeps the tracked objects and
    /// re-reads the positions of those still on the grid (a carried object has none).
    /// </summary>
    public void UpdatePositions(Grid grid)
    {
        _positions.Clear();
        bool walls = false;
        foreach (var o in _objects) walls |= o.Type == ObjectType.Wall;
        if (walls)
        {
            // A description without a type matches walls too (PickupDist's "a grey object"), and
            // generated walls share one object: scan the grid for every cell holding a tracked one.
            for (int x = 0; x < grid.Width; x++)
                for (int y = 0; y < grid.Height; y++)
                    if (grid.GetOrNull(x, y) is { } cell && _objects.Contains(cell)) _positions.Add((x, y));
            return;
        }
        // Each tracked object knows where it lies; it counts if it is still that cell's object
        // (not carried, not a box that was opened). Sorted x-major, as Minigrid's grid scan lists them.
        foreach (var o in _objects)
        {
            var (x, y) = o.Position;
            if (grid.InBounds(x, y) && ReferenceEquals(grid.GetOrNull(x, y), o)) _positions.Add((x, y));
        }
        for (int i = 1; i < _positions.Count; i++)
            for (int j = i; j > 0 && Before(_positions[j], _positions[j - 1]); j--)
                (_positions[j], _positions[j - 1]) = (_positions[j - 1], _positions[j]);
    }

    private static bool Before((int X, int Y) a, (int X, int Y) b) => a.X < b.X || (a.X == b.X && a.Y < b.Y);

    /// <summary>True when the object's type and colour fit (location aside).</summary>
    public bool Matches(WorldObject obj) => (Type is null || obj.Type == Type) && (Color is null || obj.Color == Color);

    /// <summary>"the red ball" / "a key on your left": the article depends on how many objects matched.</summary>
    public string Surface()
    {
        if (_objects.Count == 0) throw new InvalidOperationException($"No object matches '{Noun()}'.");
        return (_objects.Count > 1 ? "a " : "the ") + Noun();
    }

    private string Noun()
    {
        string s = Type is ObjectType t ? t.Name() : "object";
        if (Color is GridColor c) s = c.Name() + " " + s;
        return Location switch
        {
            ObjectLocation.Front => s + " in front of you",
            ObjectLocation.Behind => s + " behind you",
            ObjectLocation.Left => s + " on your left",
            ObjectLocation.Right => s + " on your right",
            _ => s,
        };
    }

    /// <inheritdoc />
    public override string ToString() => Noun();
}
