namespace RLAgents.Environments.GridWorld.Levels;

/// <summary>A generated level was rejected (BabyAI's <c>RejectSampling</c>); generation starts over.</summary>
public sealed class LevelRejectedException(string message) : Exception(message);

/// <summary>
/// Builds one BabyAI episode on a grid of rooms, as Minigrid's <c>RoomGrid</c> and
/// <c>RoomGridLevel</c> do: rooms with walls and random door positions, objects placed by
/// rejection sampling, doors, connectivity, distractors, reachability checks. Every random
/// choice goes through the level's <see cref="Rng"/> with the same structure of draws as Minigrid
/// (uniform integers, elements, booleans), so the distribution of levels is Minigrid's; the exact
/// random stream is this library's own.
/// </summary>
public sealed class LevelBuilder : IGridWorldState
{
    private readonly Room[,] _rooms; // [row j, column i]

    /// <summary>Creates the walls and door positions of a fresh room grid (Minigrid's <c>RoomGrid._gen_grid</c>).</summary>
    public LevelBuilder(Rng rng, int roomSize, int numRows, int numCols)
    {
        if (roomSize < 3 || numRows < 1 || numCols < 1 || numRows * numCols > 64)
            throw new ArgumentOutOfRangeException(nameof(roomSize), "Need roomSize >= 3 and between 1 and 64 rooms.");
        Rng = rng;
        RoomSize = roomSize;
        NumRows = numRows;
        NumCols = numCols;
        Grid = new Grid((roomSize - 1) * numCols + 1, (roomSize - 1) * numRows + 1);
        _rooms = new Room[numRows, numCols];
        for (int j = 0; j < numRows; j++)
            for (int i = 0; i < numCols; i++)
            {
                var room = new Room(i, j, i * (roomSize - 1), j * (roomSize - 1), roomSize);
                _rooms[j, i] = room;
                Grid.WallRect(room.Rect.X, room.Rect.Y, roomSize, roomSize);
            }
        for (int j = 0; j < numRows; j++)
            for (int i = 0; i < numCols; i++)
            {
                var room = _rooms[j, i];
                int xl = room.Rect.X + 1, yl = room.Rect.Y + 1;
                int xm = room.Rect.X + roomSize - 1, ym = room.Rect.Y + roomSize - 1;
                if (i < numCols - 1)
                {
                    room.Neighbors[0] = _rooms[j, i + 1];
                    room.DoorPositions[0] = (xm, RandInt(yl, ym));
                }
                if (j < numRows - 1)
                {
                    room.Neighbors[1] = _rooms[j + 1, i];
                    room.DoorPositions[1] = (RandInt(xl, xm), ym);
                }
                if (i > 0)
                {
                    room.Neighbors[2] = _rooms[j, i - 1];
                    room.DoorPositions[2] = room.Neighbors[2]!.DoorPositions[0];
                }
                if (j > 0)
                {
                    room.Neighbors[3] = _rooms[j - 1, i];
                    room.DoorPositions[3] = room.Neighbors[3]!.DoorPositions[1];
                }
            }
        // The agent starts in the middle room's centre facing right until a level places it.
        AgentX = (numCols / 2) * (roomSize - 1) + roomSize / 2;
        AgentY = (numRows / 2) * (roomSize - 1) + roomSize / 2;
        AgentDir = 0;
    }

    /// <summary>The level's generator.</summary>
    public Rng Rng { get; }

    /// <summary>Side of a room, walls included.</summary>
    public int RoomSize { get; }

    /// <summary>Rows of rooms.</summary>
    public int NumRows { get; }

    /// <summary>Columns of rooms.</summary>
    public int NumCols { get; }

    /// <inheritdoc />
    public Grid Grid { get; }

    /// <inheritdoc />
    public int AgentX { get; private set; }

    /// <inheritdoc />
    public int AgentY { get; private set; }

    /// <inheritdoc />
    public int AgentDir { get; private set; }

    /// <inheritdoc />
    public WorldObject? Carrying { get; internal set; }

    /// <summary>The room at column <paramref name="i"/>, row <paramref name="j"/>.</summary>
    public Room GetRoom(int i, int j) => _rooms[j, i];

    /// <summary>The room containing (x, y).</summary>
    public Room RoomFromPos(int x, int y) => _rooms[y / (RoomSize - 1), x / (RoomSize - 1)];

    /// <summary>Every room, row by row.</summary>
    public IEnumerable<Room> Rooms
    {
        get
        {
            for (int j = 0; j < NumRows; j++)
                for (int i = 0; i < NumCols; i++) yield return _rooms[j, i];
        }
    }

    // ---- random draws (Minigrid's _rand_* helpers) ----

    /// <summary>Uniform integer in [low, high).</summary>
    public int RandInt(int low, int high) => Rng.NextInt(low, high);

    /// <summary>Fair coin (Minigrid: <c>integers(0, 2) == 0</c>).</summary>
    public bool RandBool() => Rng.NextInt(2) == 0;

    /// <summary>Uniform float in [low, high).</summary>
    public double RandFloat(double low, double high) => Rng.Uniform(low, high);

    /// <summary>A uniformly chosen element.</summary>
    public T RandElem<T>(IReadOnlyList<T> items) => items[Rng.NextInt(items.Count)];

    /// <summary>A random colour from Minigrid's sorted colour names.</summary>
    public GridColor RandColor() => RandElem(GridConstants.SortedColors);

    /// <summary>Distinct random elements, drawn one by one as Minigrid's <c>_rand_subset</c>.</summary>
    public List<T> RandSubset<T>(IEnumerable<T> items, int count)
    {
        var pool = items.ToList();
        if (count > pool.Count) throw new ArgumentOutOfRangeException(nameof(count));
        var result = new List<T>(count);
        while (result.Count < count)
        {
            int k = Rng.NextInt(pool.Count);
            result.Add(pool[k]);
            pool.RemoveAt(k);
        }
        return result;
    }

    // ---- placement ----

    /// <summary>
    /// Places <paramref name="obj"/> (null: finds a free cell for the agent) at a random empty
    /// cell of the rectangle, not on the agent and not rejected by <paramref name="reject"/>;
    /// more than <paramref name="maxTries"/> attempts throws <see cref="LevelRejectedException"/>.
    /// </summary>
    public (int X, int Y) PlaceObject(WorldObject? obj, int topX, int topY, int sizeX, int sizeY, Func<int, int, bool>? reject = null, int maxTries = int.MaxValue)
    {
        topX = Math.Max(topX, 0);
        topY = Math.Max(topY, 0);
        int tries = 0;
        while (true)
        {
            if (tries > maxTries) throw new LevelRejectedException("rejection sampling failed in place_obj");
            tries++;
            int x = RandInt(topX, Math.Min(topX + sizeX, Grid.Width));
            int y = RandInt(topY, Math.Min(topY + sizeY, Grid.Height));
            if (Grid.Get(x, y) is not null) continue;
            if (x == AgentX && y == AgentY) continue;
            if (reject is not null && reject(x, y)) continue;
            if (obj is not null)
            {
                Grid.Set(x, y, obj);
                obj.Position = obj.InitialPosition = (x, y);
            }
            return (x, y);
        }
    }

    /// <summary>Puts an object at a given cell.</summary>
    public void PutObject(WorldObject obj, int x, int y)
    {
        Grid.Set(x, y, obj);
        obj.Position = obj.InitialPosition = (x, y);
    }

    /// <summary>
    /// Places the agent in room (i, j) (random room when null) at a random free cell, facing a
    /// random direction when <paramref name="randomDirection"/>, until the cell in front is empty or a
    /// wall; 1,000 failed draws reject the layout.
    /// </summary>
    public (int X, int Y) PlaceAgent(int? i = null, int? j = null, bool randomDirection = true)
    {
        int ri = i ?? RandInt(0, NumCols);
        int rj = j ?? RandInt(0, NumRows);
        var room = _rooms[rj, ri];
        // Minigrid retries forever; a crowded room where every free cell faces an object would
        // never end, so after many draws the layout is rejected instead.
        for (int tries = 0; ; tries++)
        {
            if (tries >= 1000) throw new LevelRejectedException("no free cell facing an empty cell or a wall");
            AgentX = AgentY = -1;
            var (x, y) = PlaceObject(null, room.Rect.X, room.Rect.Y, room.Rect.Width, room.Rect.Height, maxTries: 1000);
            AgentX = x;
            AgentY = y;
            if (randomDirection) AgentDir = RandInt(0, 4);
            var front = Grid.Get(x + GridConstants.DirX[AgentDir], y + GridConstants.DirY[AgentDir]);
            if (front is null || front.Type == ObjectType.Wall) break;
        }
        return (AgentX, AgentY);
    }

    /// <summary>Places an existing object in room (i, j), not next to the agent's current position.</summary>
    public (WorldObject Obj, (int X, int Y) Pos) PlaceInRoom(int i, int j, WorldObject obj)
    {
        var room = _rooms[j, i];
        var pos = PlaceObject(obj, room.Rect.X, room.Rect.Y, room.Rect.Width, room.Rect.Height,
            (x, y) => Math.Abs(AgentX - x) + Math.Abs(AgentY - y) < 2, maxTries: 1000);
        room.Objects.Add(obj);
        return (obj, pos);
    }

    private static readonly ObjectType[] s_kinds = [ObjectType.Key, ObjectType.Ball, ObjectType.Box];

    /// <summary>Adds a new key, ball or box (random kind and colour when null) to room (i, j).</summary>
    public (WorldObject Obj, (int X, int Y) Pos) AddObject(int i, int j, ObjectType? kind = null, GridColor? color = null)
    {
        var k = kind ?? RandElem(s_kinds);
        var c = color ?? RandColor();
        if (k is not (ObjectType.Key or ObjectType.Ball or ObjectType.Box)) throw new ArgumentException($"{k} cannot be added as an object.");
        return PlaceInRoom(i, j, new WorldObject(k, c));
    }

    /// <summary>
    /// Adds a door on side <paramref name="doorIndex"/> of room (i, j) (random free side with a
    /// neighbour when null), of a random colour and lock state when not given.
    /// </summary>
    public (WorldObject Door, (int X, int Y) Pos) AddDoor(int i, int j, int? doorIndex = null, GridColor? color = null, bool? locked = null)
    {
        var room = _rooms[j, i];
        int k;
        if (doorIndex is int given) k = given;
        else
        {
            while (true)
            {
                k = RandInt(0, 4);
                if (room.Neighbors[k] is not null && room.Doors[k] is null) break;
            }
        }
        var c = color ?? RandColor();
        bool isLocked = locked ?? RandBool();
        if (room.Doors[k] is not null) throw new InvalidOperationException("door already exists");
        room.Locked = isLocked;
        var door = new WorldObject(ObjectType.Door, c, isLocked ? DoorState.Locked : DoorState.Closed);
        var pos = room.DoorPositions[k] ?? throw new InvalidOperationException($"Room ({i}, {j}) has no neighbour on side {k}.");
        Grid.Set(pos.X, pos.Y, door);
        door.Position = door.InitialPosition = pos;
        room.Doors[k] = door;
        room.Neighbors[k]!.Doors[(k + 2) % 4] = door;
        return (door, pos);
    }

    /// <summary>Removes the wall on side <paramref name="wallIndex"/> of room (i, j).</summary>
    public void RemoveWall(int i, int j, int wallIndex)
    {
        var room = _rooms[j, i];
        var neighbor = room.Neighbors[wallIndex] ?? throw new InvalidOperationException("invalid wall");
        if (room.Doors[wallIndex] is not null) throw new InvalidOperationException("door exists on this wall");
        int tx = room.Rect.X, ty = room.Rect.Y, w = room.Rect.Width, h = room.Rect.Height;
        switch (wallIndex)
        {
            case 0: for (int k = 1; k < h - 1; k++) Grid.Set(tx + w - 1, ty + k, null); break;
            case 1: for (int k = 1; k < w - 1; k++) Grid.Set(tx + k, ty + h - 1, null); break;
            case 2: for (int k = 1; k < h - 1; k++) Grid.Set(tx, ty + k, null); break;
            default: for (int k = 1; k < w - 1; k++) Grid.Set(tx + k, ty, null); break;
        }
        room.WallRemoved[wallIndex] = true;
        neighbor.WallRemoved[(wallIndex + 2) % 4] = true;
    }

    /// <summary>Adds unlocked doors at random until every room is reachable from the agent's room.</summary>
    public List<WorldObject> ConnectAll(IReadOnlyList<GridColor>? doorColors = null, int maxIterations = 5000)
    {
        doorColors ??= GridConstants.SortedColors;
        var start = RoomFromPos(AgentX, AgentY);
        var added = new List<WorldObject>();
        int iterations = 0;
        while (true)
        {
            if (iterations > maxIterations) throw new LevelRejectedException("connect_all failed");
            iterations++;
            if (Reachable(start) == NumRows * NumCols) break;
            int i = RandInt(0, NumCols), j = RandInt(0, NumRows), k = RandInt(0, 4);
            var room = _rooms[j, i];
            if (room.DoorPositions[k] is null || room.IsConnected(k)) continue;
            if (room.Locked || room.Neighbors[k]!.Locked) continue;
            var color = RandElem(doorColors);
            added.Add(AddDoor(i, j, k, color, false).Door);
        }
        return added;
    }

    // Rooms reachable from start through doors and removed walls; at most 64 rooms here (a bitmask).
    private int Reachable(Room start)
    {
        ulong seen = 0;
        Span<int> stack = stackalloc int[4 * NumRows * NumCols + 1];
        int top = 0;
        stack[top++] = start.J * NumCols + start.I;
        int count = 0;
        while (top > 0)
        {
            int k = stack[--top];
            if ((seen >> k & 1) != 0) continue;
            seen |= 1UL << k;
            count++;
            var room = _rooms[k / NumCols, k % NumCols];
            for (int side = 0; side < 4; side++)
                if (room.IsConnected(side))
                {
                    var n = room.Neighbors[side]!;
                    stack[top++] = n.J * NumCols + n.I;
                }
        }
        return count;
    }

    /// <summary>
    /// Adds <paramref name="count"/> random keys, balls and boxes (to room (i, j), or random rooms
    /// when null); with <paramref name="allUnique"/>, no two objects share type and colour.
    /// </summary>
    public List<WorldObject> AddDistractors(int? i = null, int? j = null, int count = 10, bool allUnique = true)
    {
        var existing = new List<(ObjectType, GridColor)>();
        foreach (var room in Rooms)
            foreach (var o in room.Objects) existing.Add((o.Type, o.Color));
        var dists = new List<WorldObject>();
        while (dists.Count < count)
        {
            var color = RandElem(GridConstants.SortedColors);
            var type = RandElem(s_kinds);
            if (allUnique && existing.Contains((type, color))) continue;
            int ri = i ?? RandInt(0, NumCols);
            int rj = j ?? RandInt(0, NumRows);
            var (dist, _) = AddObject(ri, rj, type, color);
            existing.Add((type, color));
            dists.Add(dist);
        }
        return dists;
    }

    /// <summary>
    /// True when every non-wall object is reachable from the agent without moving anything
    /// (doors, open or not, count as passable); otherwise rejects the level or returns false.
    /// </summary>
    public bool CheckObjectsReachable(bool throwOnFailure = true)
    {
        var reachable = new bool[Grid.Width * Grid.Height];
        var stack = new Stack<(int X, int Y)>();
        stack.Push((AgentX, AgentY));
        while (stack.Count > 0)
        {
            var (x, y) = stack.Pop();
            if (!Grid.InBounds(x, y) || reachable[y * Grid.Width + x]) continue;
            reachable[y * Grid.Width + x] = true;
            var cell = Grid.Get(x, y);
            if (cell is not null && cell.Type != ObjectType.Door) continue;
            stack.Push((x + 1, y));
            stack.Push((x - 1, y));
            stack.Push((x, y + 1));
            stack.Push((x, y - 1));
        }
        for (int x = 0; x < Grid.Width; x++)
            for (int y = 0; y < Grid.Height; y++)
            {
                var cell = Grid.Get(x, y);
                if (cell is null || cell.Type == ObjectType.Wall) continue;
                if (!reachable[y * Grid.Width + x])
                {
                    if (!throwOnFailure) return false;
                    throw new LevelRejectedException($"unreachable object at ({x}, {y})");
                }
            }
        return true;
    }

    /// <summary>Opens every door of the maze.</summary>
    public void OpenAllDoors()
    {
        foreach (var room in Rooms)
            foreach (var door in room.Doors)
                if (door is not null)
                {
                    door.State = DoorState.Open;
                    Grid.Refresh(door.Position.X, door.Position.Y);
                }
    }

    /// <summary>Every door of the maze, room by room (column-major as Minigrid lists them), side order right, down, left, up.</summary>
    public List<WorldObject> AllDoorsColumnMajor()
    {
        var doors = new List<WorldObject>();
        for (int i = 0; i < NumCols; i++)
            for (int j = 0; j < NumRows; j++)
                foreach (var d in _rooms[j, i].Doors)
                    if (d is not null) doors.Add(d);
        return doors;
    }

    /// <summary>Matches a description against the current world (agent pose and room).</summary>
    public void Match(ObjectDescription desc) => desc.Match(Grid, AgentX, AgentY, AgentDir, RoomFromPos(AgentX, AgentY).Rect);
}
