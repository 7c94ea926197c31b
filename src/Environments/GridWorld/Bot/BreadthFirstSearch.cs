namespace RLAgents.Environments.GridWorld.Bot;

/// <summary>
/// The bot's path finding over the cells seen so far: breadth-first from the agent, trying the
/// current heading first so straight paths win ties; walls and closed doors stop expansion,
/// unseen cells are reached but not expanded, and objects block unless blockers are allowed.
/// </summary>
internal sealed class BreadthFirstSearch
{
    private readonly GridWorldEnv _env;
    private readonly bool[] _seen;
    private readonly int[] _prev;       // previous cell index, -1 for a start, -2 unvisited
    private readonly List<int> _order = [];
    private readonly int[] _prev2;
    private readonly List<(int Cell, int Dx, int Dy, int From)> _queue = [];

    public BreadthFirstSearch(GridWorldEnv env, bool[] seen)
    {
        _env = env;
        _seen = seen;
        _prev = new int[seen.Length];
        _prev2 = new int[seen.Length];
    }

    public int SearchCount { get; private set; }

    private int W => _env.Grid.Width;

    /// <summary>
    /// Shortest path (excluding the agent's cell) to a cell accepted by <paramref name="accept"/>;
    /// with <paramref name="tryWithBlockers"/>, when no path avoids objects, searches again from
    /// every cell reached so far letting objects be crossed.
    /// </summary>
    public (List<(int X, int Y)>? Path, (int X, int Y)? Finish, bool WithBlockers) ShortestPath(Func<(int X, int Y), bool> accept, bool tryWithBlockers)
    {
        int start = _env.AgentY * W + _env.AgentX;
        int found = Search(_prev, [(start, GridConstants.DirX[_env.AgentDir], GridConstants.DirY[_env.AgentDir])], accept, ignoreBlockers: false, recordOrder: true);
        List<(int, int)>? path = null;
        bool withBlockers = false;
        if (found >= 0) path = Trace(_prev, found);
        else if (tryWithBlockers)
        {
            withBlockers = true;
            var starts = new List<(int, int, int)>(_order.Count);
            foreach (int c in _order) starts.Add((c, 1, 0));
            found = Search(_prev2, starts, accept, ignoreBlockers: true, recordOrder: false);
            if (found >= 0)
            {
                path = Trace(_prev2, found);
                // Continue from the cell the second search started at, back to the agent.
                var (lx, ly) = path[^1];
                var rest = Trace(_prev, ly * W + lx);
                path.AddRange(rest.Skip(1));
            }
        }
        if (path is null) return (null, null, withBlockers);
        var finish = path[0];
        path.Reverse();
        path.RemoveAt(0);
        return (path, finish, withBlockers);
    }

    private List<(int, int)> Trace(int[] prev, int cell)
    {
        var path = new List<(int, int)>();
        while (cell >= 0)
        {
            path.Add((cell % W, cell / W));
            cell = prev[cell];
        }
        return path;
    }

    private int Search(int[] prev, List<(int Cell, int Dx, int Dy)> starts, Func<(int X, int Y), bool> accept, bool ignoreBlockers, bool recordOrder)
    {
        SearchCount++;
        Array.Fill(prev, -2);
        if (recordOrder) _order.Clear();
        _queue.Clear();
        foreach (var (c, dx, dy) in starts) _queue.Add((c, dx, dy, -1));
        var grid = _env.Grid;
        int w = W, h = grid.Height;
        for (int head = 0; head < _queue.Count; head++)
        {
            var (cell, di, dj, from) = _queue[head];
            if (prev[cell] != -2) continue;
            prev[cell] = from;
            if (recordOrder) _order.Add(cell);
            int x = cell % w, y = cell / w;
            if (accept((x, y))) return cell;
            if (!_seen[cell]) continue;
            var obj = grid.Get(x, y);
            if (obj is not null)
            {
                if (obj.Type == ObjectType.Wall) continue;
                if (obj.Type == ObjectType.Door) { if (!obj.IsOpen) continue; }
                else if (!ignoreBlockers) continue;
            }
            // Straight ahead first, then the other three headings in BabyAI's order.
            Enqueue(x + di, y + dj, di, dj, cell, w, h);
            Enqueue(x + dj, y + di, dj, di, cell, w, h);
            Enqueue(x - dj, y - di, -dj, -di, cell, w, h);
            Enqueue(x - di, y - dj, -di, -dj, cell, w, h);
        }
        return -1;
    }

    private void Enqueue(int x, int y, int dx, int dy, int from, int w, int h)
    {
        if ((uint)x < (uint)w && (uint)y < (uint)h) _queue.Add((y * w + x, dx, dy, from));
    }

    /// <summary>
    /// A seen, empty cell to drop an object on, preferring cells whose drop keeps the
    /// surrounding free cells connected and every neighbouring object reachable.
    /// </summary>
    public (int X, int Y)? FindDropPosition((int X, int Y)? except)
    {
        var grid = _env.Grid;
        var agent = (_env.AgentX, _env.AgentY);
        bool SeenAt((int X, int Y) p) => grid.InBounds(p.X, p.Y) && _seen[p.Y * W + p.X];

        bool MatchEmpty((int X, int Y) p) =>
            p != agent && p != except && SeenAt(p) && grid.Get(p.X, p.Y) is null;

        bool MatchUnblock((int X, int Y) p)
        {
            if (!MatchEmpty(p)) return false;
            // Classes of the 8 neighbours, clockwise from the top-left: 0 free, 1 wall, 2 object or unknown.
            Span<int> cls = stackalloc int[8];
            ReadOnlySpan<int> ox = [-1, 0, 1, 1, 1, 0, -1, -1];
            ReadOnlySpan<int> oy = [-1, -1, -1, 0, 1, 1, 1, 0];
            for (int k = 0; k < 8; k++)
            {
                var nb = (X: p.X + ox[k], Y: p.Y + oy[k]);
                var cell = grid.GetOrNull(nb.X, nb.Y);
                bool seen = SeenAt(nb);
                if (seen && cell is { Type: ObjectType.Wall }) cls[k] = 1;
                else if (seen && (cell is null || cell is { Type: ObjectType.Door, IsOpen: true } || nb == agent) && nb != except) cls[k] = 0;
                else cls[k] = 2;
            }
            int changes = 0;
            for (int k = 0; k < 8; k++)
                if ((cls[(k + 1) % 8] != 0) != (cls[k] != 0)) changes++;
            for (int k = 0; k < 8; k++)
                if (cls[k] == 2 && cls[(k + 7) % 8] != 0 && cls[(k + 1) % 8] != 0) return false;
            return changes <= 2;
        }

        return ShortestPath(MatchUnblock, false).Finish
               ?? ShortestPath(MatchEmpty, false).Finish
               ?? ShortestPath(MatchUnblock, true).Finish
               ?? ShortestPath(MatchEmpty, true).Finish;
    }
}
