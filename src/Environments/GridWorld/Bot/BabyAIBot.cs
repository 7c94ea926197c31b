namespace RLAgents.Environments.GridWorld.Bot;

/// <summary>The bot found no way forward (nothing left to explore, or a box it relied on was opened).</summary>
public sealed class BotFailedException(string message) : ExpertFailedException(message);

/// <summary>
/// An expert planner for BabyAI missions, following the design of BabyAI's bot: the instruction
/// becomes a stack of subgoals (go next to, pick up, drop, open, close, explore); each step the
/// bot marks what the agent sees, replans the top subgoal and returns an action. Paths come from
/// breadth-first search over the cells seen so far, preferring paths without blocking objects and
/// going straight; blocking objects are moved aside, closed doors opened, keys fetched for locked
/// doors, and unseen space explored. Beyond BabyAI's bot it solves every level: a key kept in a box
/// (KeyInBox) is fetched by opening the box, an object to move that is already carried (PutNext…Carrying)
/// is not fetched first, and when the plan runs out before the mission is verified (a drop on the
/// very first step does not count for BabyAI's put-next), the unfinished parts are planned again.
/// </summary>
/// <remarks>
/// Create one bot per episode, right after <see cref="IEnv.Reset"/>, and call <see cref="Act"/>
/// once before every step. The bot reads the environment's true state for cells it has seen, as
/// BabyAI's bot does.
/// </remarks>
public sealed class BabyAIBot
{
    private readonly GridWorldEnv _env;
    private readonly bool[] _seen;
    private readonly List<Subgoal> _stack = [];
    private readonly BreadthFirstSearch _bfs;
    private (int X, int Y) _prevPos;
    private WorldObject? _prevCarrying;
    private WorldObject? _prevFrontCell;
    private bool _frontDoorWasOpen;
    private bool _plannedBoxToggle;

    /// <summary>Creates the bot for the episode the environment has just started.</summary>
    public BabyAIBot(GridWorldEnv env)
    {
        _env = env;
        _seen = new bool[env.Grid.Width * env.Grid.Height];
        _bfs = new BreadthFirstSearch(env, _seen);
        PushRemaining(env.Instruction);
    }

    /// <summary>Number of breadth-first searches run so far (diagnostics).</summary>
    public int SearchCount => _bfs.SearchCount;

    /// <summary>Suggests the next action (the done action when the plan is empty).</summary>
    public int Act() => Replan(null);

    /// <summary>
    /// Updates the plan given the action the agent actually took since the last call (null: the
    /// suggested one, or the first call) and suggests the next action.
    /// </summary>
    public int Replan(int? actionTaken)
    {
        MarkVisible();
        // A box the bot did not mean to open may have vanished with what the mission needed.
        if (actionTaken == (int)GridAction.Toggle && _prevFrontCell is { Type: ObjectType.Box } && !_plannedBoxToggle)
            throw new BotFailedException("A box was opened; the bot cannot tell what it held.");

        if (_stack.Count > 0) AfterAction(_stack[^1], actionTaken);
        while (_stack.Count > 0 && _stack[^1].IsExploratory) _stack.RemoveAt(_stack.Count - 1);

        int? action = NextAction();
        if (action is null)
        {
            // The plan ran out but the episode goes on: plan what the verifier has not seen done yet.
            PushRemaining(_env.Instruction);
            action = NextAction() ?? (int)GridAction.Done;
        }
        _plannedBoxToggle = action == (int)GridAction.Toggle && _stack.Count > 0 && _stack[^1].Kind == SubgoalKind.OpenBox;

        _prevPos = (_env.AgentX, _env.AgentY);
        _prevCarrying = _env.Carrying;
        var front = _env.FrontCell();
        if (front is { Type: ObjectType.Door }) _frontDoorWasOpen = front.IsOpen;
        _prevFrontCell = front;
        return action!.Value;
    }

    private int? NextAction()
    {
        int guard = 0;
        while (_stack.Count > 0)
        {
            if (++guard > 10_000) throw new BotFailedException("The plan did not converge.");
            int? action = BeforeAction(_stack[^1]);
            if (action is not null) return action;
        }
        return null;
    }

    // ---- instruction → plan ----

    /// <summary>
    /// Pushes the subgoals of the parts of <paramref name="instr"/> not yet verified as done, so the
    /// part to do first ends on top: before(A, B) and and(A, B) do A first, after(A, B) does B first.
    /// </summary>
    private void PushRemaining(Instruction instr)
    {
        switch (instr)
        {
            case BeforeInstruction s:
                PushRemaining(s.B);
                if (s.AStatus != VerifyStatus.Success) PushRemaining(s.A);
                break;
            case AfterInstruction s:
                PushRemaining(s.A);
                if (s.BStatus != VerifyStatus.Success) PushRemaining(s.B);
                break;
            case AndInstruction s:
                if (s.BStatus != VerifyStatus.Success) PushRemaining(s.B);
                if (s.AStatus != VerifyStatus.Success) PushRemaining(s.A);
                break;
            default:
                Push(instr);
                break;
        }
    }

    private void Push(Instruction instr)
    {
        switch (instr)
        {
            case GoToInstruction g:
                _stack.Add(Subgoal.GoTo(g.Target));
                break;
            case OpenInstruction o:
                _stack.Add(Subgoal.Simple(SubgoalKind.Open));
                _stack.Add(Subgoal.GoTo(o.Target, SubgoalReason.Open));
                break;
            case PickupInstruction p:
                // Pick up then drop, so that the agent could carry other objects afterwards.
                _stack.Add(Subgoal.Simple(SubgoalKind.Drop));
                _stack.Add(Subgoal.Simple(SubgoalKind.Pickup));
                // A strict pick-up fails on any other pickup, so moving a blocker would fail it.
                _stack.Add(Subgoal.GoTo(p.Target, avoidBlockers: p.Strict));
                break;
            case PutNextInstruction n:
                _stack.Add(Subgoal.Simple(SubgoalKind.Drop));
                _stack.Add(Subgoal.GoTo(n.Fixed, SubgoalReason.PutNext));
                // Already holding the object to move (PutNext…Carrying): no need to fetch it.
                if (Carrying is { } held && n.Move.Objects.Any(o => ReferenceEquals(o, held))) break;
                _stack.Add(Subgoal.Simple(SubgoalKind.Pickup));
                _stack.Add(Subgoal.GoTo(n.Move));
                break;
            default:
                throw new NotSupportedException($"The bot does not handle {instr.GetType().Name}.");
        }
    }

    // ---- world helpers ----

    private (int X, int Y) Pos => (_env.AgentX, _env.AgentY);
    private (int X, int Y) Dir => (GridConstants.DirX[_env.AgentDir], GridConstants.DirY[_env.AgentDir]);
    private (int X, int Y) Right => (-Dir.Y, Dir.X);
    private (int X, int Y) Front => (Pos.X + Dir.X, Pos.Y + Dir.Y);
    private WorldObject? FrontCell => _env.Grid.GetOrNull(Front.X, Front.Y);
    private WorldObject? Carrying => _env.Carrying;

    private WorldObject? CellAt((int X, int Y) p) => _env.Grid.GetOrNull(p.X, p.Y);

    private static int Manhattan((int X, int Y) a, (int X, int Y) b) => Math.Abs(a.X - b.X) + Math.Abs(a.Y - b.Y);

    private void MarkVisible()
    {
        ulong mask = _env.VisibleMask;
        var grid = _env.Grid;
        for (int k = 0; k < GridConstants.ViewSize * GridConstants.ViewSize; k++)
        {
            if ((mask >> k & 1) == 0) continue;
            var (x, y) = _env.ViewCellToWorld(k);
            if (grid.InBounds(x, y)) _seen[y * grid.Width + x] = true;
        }
    }

    private bool Seen((int X, int Y) p) => _env.Grid.InBounds(p.X, p.Y) && _seen[p.Y * _env.Grid.Width + p.X];

    private void Pop() => _stack.RemoveAt(_stack.Count - 1);

    private void Add(Subgoal s) => _stack.Add(s);

    // ---- replanning ----

    private int? BeforeAction(Subgoal s) => s.Kind switch
    {
        SubgoalKind.Close or SubgoalKind.OpenBox => (int)GridAction.Toggle,
        SubgoalKind.Open => OpenBefore(s),
        SubgoalKind.Drop => DropBefore(),
        SubgoalKind.Pickup => PickupBefore(),
        SubgoalKind.GoNextTo => GoNextToBefore(s),
        _ => ExploreBefore(),
    };

    private void AfterAction(Subgoal s, int? taken)
    {
        var a = (GridAction?)taken;
        switch (s.Kind)
        {
            case SubgoalKind.Close:
            case SubgoalKind.OpenBox:
                if (a is null or GridAction.Toggle) Pop();
                else if (a is GridAction.Forward or GridAction.Left or GridAction.Right) PlanUndo(a.Value);
                break;
            case SubgoalKind.Open:
                if (a is null or GridAction.Toggle)
                {
                    Pop();
                    if (s.Reason == SubgoalReason.Unlock)
                    {
                        // The drop cell is chosen only now: chosen earlier, it might be taken by then.
                        var dropKey = _bfs.FindDropPosition(null);
                        Add(Subgoal.Simple(SubgoalKind.Drop));
                        Add(Subgoal.GoTo(dropKey ?? Pos));
                    }
                }
                else PlanUndo(a.Value);
                break;
            case SubgoalKind.Drop:
                if (a is null or GridAction.Drop) Pop();
                else if (a is GridAction.Forward or GridAction.Left or GridAction.Right) PlanUndo(a.Value);
                break;
            case SubgoalKind.Pickup:
                if (a is null or GridAction.Pickup) Pop();
                else if (a is GridAction.Left or GridAction.Right) PlanUndo(a.Value);
                break;
            case SubgoalKind.GoNextTo:
                if (a is GridAction.Pickup or GridAction.Drop or GridAction.Toggle) PlanUndo(a.Value);
                break;
        }
    }

    private void PlanUndo(GridAction taken)
    {
        switch (taken)
        {
            case GridAction.Forward:
                if (_prevPos != Pos) Add(Subgoal.GoTo(Pos));
                break;
            case GridAction.Left:
                Add(Subgoal.GoTo((Pos.X + Right.X, Pos.Y + Right.Y)));
                break;
            case GridAction.Right:
                Add(Subgoal.GoTo((Pos.X - Right.X, Pos.Y - Right.Y)));
                break;
            case GridAction.Drop when !ReferenceEquals(_prevCarrying, Carrying):
                Add(Subgoal.Simple(SubgoalKind.Pickup));
                break;
            case GridAction.Pickup when !ReferenceEquals(_prevCarrying, Carrying):
                Add(Subgoal.Simple(SubgoalKind.Drop));
                break;
            case GridAction.Toggle:
                if (FrontCell is { Type: ObjectType.Door } door && _frontDoorWasOpen != door.IsOpen)
                    Add(Subgoal.Simple(door.IsOpen ? SubgoalKind.Close : SubgoalKind.Open));
                break;
        }
    }

    // BabyAI's bot asserts that the cell in front is free; a drop cell planned earlier can have
    // been filled since (e.g. by a blocker moved while carrying), so find another one.
    private int? DropBefore()
    {
        if (Carrying is null)
        {
            Pop();
            return null;
        }
        if (FrontCell is null && _env.Grid.InBounds(Front.X, Front.Y)) return (int)GridAction.Drop;
        var drop = _bfs.FindDropPosition(null) ?? throw new BotFailedException("No free cell to drop the carried object.");
        Add(Subgoal.GoTo(drop));
        return null;
    }

    // BabyAI's bot asserts that the hands are empty; if they are not (an earlier drop failed),
    // put the carried object down first and come back to face the same cell.
    private int? PickupBefore()
    {
        if (Carrying is null || FrontCell is not { CanPickup: true }) return (int)GridAction.Pickup;
        var drop = _bfs.FindDropPosition(Front) ?? throw new BotFailedException("No free cell to drop the carried object.");
        Add(Subgoal.GoTo(Front));
        Add(Subgoal.Simple(SubgoalKind.Drop));
        Add(Subgoal.GoTo(drop));
        return null;
    }

    private int? OpenBefore(Subgoal s)
    {
        var door = FrontCell;
        if (door is not { Type: ObjectType.Door }) throw new BotFailedException("Open subgoal without a door in front.");
        bool gotKey = Carrying is { Type: ObjectType.Key } k && k.Color == door.Color;
        if (door.IsLocked && !gotKey)
        {
            Pop();
            if (Carrying is not null)
            {
                var dropCur = _bfs.FindDropPosition(null) ?? Pos;
                Add(Subgoal.Simple(SubgoalKind.Pickup));
                Add(Subgoal.GoTo(dropCur));
                Add(Subgoal.Simple(SubgoalKind.Open));
                Add(Subgoal.GoTo(Front));
                PushFetchKey(door.Color);
                Add(Subgoal.Simple(SubgoalKind.Drop));
                Add(Subgoal.GoTo(dropCur));
            }
            else
            {
                Add(Subgoal.Simple(SubgoalKind.Open));
                Add(Subgoal.GoTo(Front));
                PushFetchKey(door.Color);
            }
            return null;
        }
        if (door.IsOpen)
        {
            Add(Subgoal.Simple(SubgoalKind.Close));
            return null;
        }
        if (door.IsLocked && s.Reason == SubgoalReason.None)
        {
            Pop();
            Add(Subgoal.Simple(SubgoalKind.Open, SubgoalReason.Unlock));
            return null;
        }
        return (int)GridAction.Toggle;
    }

    /// <summary>
    /// Plans picking up a key of <paramref name="color"/>: the closest seen one on the grid, or, when
    /// no such key lies on the grid, the one inside a box (go to the box, open it, pick up the key
    /// it leaves in its place). The bot reads box contents from the true state, as it reads the grid.
    /// </summary>
    private void PushFetchKey(GridColor color)
    {
        var keyDesc = new ObjectDescription(ObjectType.Key, color);
        keyDesc.Match(_env.Grid, _env.AgentX, _env.AgentY, _env.AgentDir, null);
        Add(Subgoal.Simple(SubgoalKind.Pickup));
        if (keyDesc.Objects.Count > 0)
        {
            Add(Subgoal.GoTo(keyDesc));
            return;
        }
        var grid = _env.Grid;
        for (int x = 0; x < grid.Width; x++)
            for (int y = 0; y < grid.Height; y++)
                if (grid.Get(x, y) is { Type: ObjectType.Box, Contains: { Type: ObjectType.Key } key } box && key.Color == color)
                {
                    Add(Subgoal.Simple(SubgoalKind.OpenBox));
                    Add(Subgoal.GoTo(box));
                    return;
                }
        throw new BotFailedException($"No {color.Name()} key anywhere, not even in a box.");
    }

    private int? GoNextToBefore(Subgoal s)
    {
        WorldObject? targetObj = null;
        (int X, int Y) target;
        if (s.Description is { } desc)
        {
            var found = (s.AvoidBlockers ? FindObject(desc, s.Reason == SubgoalReason.PutNext, unblockedOnly: true) : null)
                        ?? FindObject(desc, s.Reason == SubgoalReason.PutNext);
            if (found is null)
            {
                Add(Subgoal.Simple(SubgoalKind.Explore));
                return null;
            }
            (targetObj, target) = found.Value;
        }
        else if (s.Object is { } obj)
        {
            targetObj = obj;
            target = obj.Position;
        }
        else target = s.Position;

        // Heading for a locked door without carrying anything: fetch its key first.
        if (s.Reason == SubgoalReason.Open && targetObj is { Type: ObjectType.Door, IsLocked: true } && Carrying is null)
        {
            Pop();
            Add(Subgoal.GoTo(targetObj, SubgoalReason.Open));
            PushFetchKey(targetObj.Color);
            return null;
        }

        // Standing on the cell to go next to (or next to it, for PutNext): step away first.
        if (Manhattan(target, Pos) == (s.Reason == SubgoalReason.PutNext ? 1 : 0))
        {
            // BabyAI steps away and comes back facing a free cell next to the target. When the target
            // sits by a doorway that is the only way in, coming back lands next to it again, forever;
            // from the third time on (BabyAI's own choices stay untouched before that), head straight
            // for a free cell next to any object the description tracks instead.
            if (s.Reason == SubgoalReason.PutNext && ++s.StepAways > 2 && FreeCellNextTo(s.Description?.Positions ?? [target]) is { } free)
            {
                Add(Subgoal.GoTo(free));
                return null;
            }
            static bool Steppable(WorldObject? c) => c is null || c is { Type: ObjectType.Door, IsOpen: true };
            if (Steppable(FrontCell)) return (int)GridAction.Forward;
            if (Steppable(CellAt((Pos.X + Right.X, Pos.Y + Right.Y)))) return (int)GridAction.Right;
            if (Steppable(CellAt((Pos.X - Right.X, Pos.Y - Right.Y)))) return (int)GridAction.Left;
            return (int)GridAction.Left;
        }

        if (s.Reason == SubgoalReason.PutNext)
        {
            if (Manhattan(target, Front) == 1)
            {
                if (FrontCell is null)
                {
                    Pop();
                    return null;
                }
                if (FrontCell is { Type: ObjectType.Door, IsOpen: true })
                {
                    // An object cannot be dropped in a doorway: go face the cell beyond it instead.
                    Add(Subgoal.GoTo((Front.X + Dir.X, Front.Y + Dir.Y)));
                    return null;
                }
            }
        }
        else if (target == Front)
        {
            Pop();
            return null;
        }

        // An empty path (the target is the agent's own cell) counts as no path, as in BabyAI.
        var path = _bfs.ShortestPath(p => p == target, tryWithBlockers: false).Path;
        if (path is not { Count: > 0 }) path = _bfs.ShortestPath(p => p == target, tryWithBlockers: true).Path;
        if (path is not { Count: > 0 })
        {
            Add(Subgoal.Simple(SubgoalKind.Explore));
            return null;
        }

        var next = path[0];
        if (next == Front)
        {
            var front = FrontCell;
            if (front is null) return (int)GridAction.Forward;
            if (front.Type == ObjectType.Door)
            {
                if (!front.IsOpen)
                {
                    Add(Subgoal.Simple(SubgoalKind.Open));
                    return null;
                }
                return (int)GridAction.Forward;
            }
            // A blocking object: move it out of the way.
            if (Carrying is not null)
            {
                var dropCur = _bfs.FindDropPosition(null) ?? Pos;
                var dropBlock = _bfs.FindDropPosition(dropCur) ?? Pos;
                Add(Subgoal.Simple(SubgoalKind.Pickup));
                Add(Subgoal.GoTo(dropCur));
                Add(Subgoal.Simple(SubgoalKind.Drop));
                Add(Subgoal.GoTo(dropBlock));
                Add(Subgoal.Simple(SubgoalKind.Pickup));
                Add(Subgoal.GoTo(Front));
                Add(Subgoal.Simple(SubgoalKind.Drop));
                Add(Subgoal.GoTo(dropCur));
            }
            else
            {
                var drop = _bfs.FindDropPosition(null) ?? Pos;
                Add(Subgoal.Simple(SubgoalKind.Drop));
                Add(Subgoal.GoTo(drop));
                Add(Subgoal.Simple(SubgoalKind.Pickup));
            }
            return null;
        }

        var step = (next.X - Pos.X, next.Y - Pos.Y);
        if (step == Right) return (int)GridAction.Right;
        if (step == (-Right.X, -Right.Y)) return (int)GridAction.Left;

        // The next cell is behind: turn towards the side whose nearest wall or door is farther.
        int distRight = ClosestWallOrDoor(Right);
        int distLeft = ClosestWallOrDoor((-Right.X, -Right.Y));
        return distLeft > distRight ? (int)GridAction.Left : (int)GridAction.Right;
    }

    private int? ExploreBefore()
    {
        var unseen = _bfs.ShortestPath(p => !Seen(p), tryWithBlockers: true).Finish;
        if (unseen is { } u)
        {
            Add(Subgoal.GoTo(u, SubgoalReason.Explore));
            return null;
        }
        // Prefer an unlocked closed door: opening a locked one for exploration could loop. Among
        // locked doors, prefer one whose key is in hand or in sight: going for a door whose key
        // has not been seen would explore for the key, pick that door again, and never act
        // (BabyAI's bot loops forever there, e.g. in UnlockToUnlock).
        var doorPos = _bfs.ShortestPath(p => CellAt(p) is { Type: ObjectType.Door, IsLocked: false, IsOpen: false }, tryWithBlockers: true).Finish
                      ?? _bfs.ShortestPath(p => CellAt(p) is { Type: ObjectType.Door, IsOpen: false } d && KeyKnown(d.Color), tryWithBlockers: true).Finish
                      ?? _bfs.ShortestPath(p => CellAt(p) is { Type: ObjectType.Door, IsOpen: false }, tryWithBlockers: true).Finish;
        if (doorPos is { } dp)
        {
            var door = CellAt(dp)!;
            bool gotKey = Carrying is { Type: ObjectType.Key } k && k.Color == door.Color;
            Pop();
            Add(Subgoal.Simple(SubgoalKind.Open, door.IsLocked && gotKey ? SubgoalReason.KeepKey : SubgoalReason.None));
            Add(Subgoal.GoTo(door, SubgoalReason.Open));
            return null;
        }
        throw new BotFailedException("Nothing left to explore.");
    }

    /// <summary>
    /// The closest seen, empty cell (not the agent's) 4-adjacent to one of <paramref name="targets"/>
    /// (any object the description tracks counts for put-next), preferring paths without blockers.
    /// </summary>
    private (int X, int Y)? FreeCellNextTo(IReadOnlyList<(int X, int Y)> targets)
    {
        bool Accept((int X, int Y) p)
        {
            if (p == Pos || !Seen(p) || CellAt(p) is not null) return false;
            foreach (var t in targets)
                if (Manhattan(p, t) == 1) return true;
            return false;
        }
        return _bfs.ShortestPath(Accept, tryWithBlockers: false).Finish ?? _bfs.ShortestPath(Accept, tryWithBlockers: true).Finish;
    }

    /// <summary>Whether a key of <paramref name="color"/> is carried or lies (perhaps in a box) on a cell seen so far.</summary>
    private bool KeyKnown(GridColor color)
    {
        if (Carrying is { Type: ObjectType.Key } k && k.Color == color) return true;
        var grid = _env.Grid;
        for (int x = 0; x < grid.Width; x++)
            for (int y = 0; y < grid.Height; y++)
            {
                var cell = grid.Get(x, y);
                var key = cell?.Type == ObjectType.Box ? cell.Contains : cell;
                if (key is { Type: ObjectType.Key } && key.Color == color && _seen[y * grid.Width + x]) return true;
            }
        return false;
    }

    /// <summary>The closest seen object matching <paramref name="desc"/>, by path length (blocked paths cost extra).</summary>
    private (WorldObject Obj, (int X, int Y) Pos)? FindObject(ObjectDescription desc, bool adjacent, bool unblockedOnly = false)
    {
        int best = 999;
        (WorldObject, (int, int))? result = null;
        var objs = desc.Objects;
        var poss = desc.Positions;
        for (int i = 0; i < objs.Count; i++)
        {
            if (objs[i].Type == ObjectType.Wall || ReferenceEquals(objs[i], Carrying)) continue;
            // Positions are re-read after drops and can be fewer than the objects (BabyAI pairs them by index).
            if (i >= poss.Count) continue;
            var p = poss[i];
            if (!Seen(p)) continue;
            var (path, _, withBlockers) = _bfs.ShortestPath(q => q == p, tryWithBlockers: !unblockedOnly);
            if (path is null) continue;
            int dist = path.Count;
            // Lower bound on the cost of moving a blocker: 4 steps empty-handed, 7 when carrying.
            if (withBlockers) dist += Carrying is not null ? 7 : 4;
            if (dist == 0) dist = adjacent ? 3 : 2;
            if (adjacent && dist == 1) dist = 3;
            if (dist < best)
            {
                best = dist;
                result = (objs[i], p);
            }
        }
        return result;
    }

    private int ClosestWallOrDoor((int X, int Y) direction)
    {
        for (int distance = 1; ; distance++)
        {
            var p = (X: Pos.X + distance * direction.X, Y: Pos.Y + distance * direction.Y);
            if (!InView(p)) return distance - 1;
            if (!_env.Grid.InBounds(p.X, p.Y)) return distance;
            if (CellAt(p) is { Type: ObjectType.Door or ObjectType.Wall }) return distance;
        }
    }

    private bool InView((int X, int Y) p)
    {
        int vx = p.X - Pos.X, vy = p.Y - Pos.Y;
        int ahead = vx * Dir.X + vy * Dir.Y, side = vx * Right.X + vy * Right.Y;
        int half = GridConstants.ViewSize / 2;
        return ahead >= 0 && ahead < GridConstants.ViewSize && side >= -half && side <= half;
    }
}
