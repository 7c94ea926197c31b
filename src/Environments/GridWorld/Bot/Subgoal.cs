namespace RLAgents.Environments.GridWorld.Bot;

/// <summary>Kinds of steps in the bot's plan.</summary>
internal enum SubgoalKind
{
    Close,
    Open,
    Drop,
    Pickup,
    GoNextTo,
    Explore,
    /// <summary>Toggle the box in front so that it leaves what it holds in its place.</summary>
    OpenBox,
}

/// <summary>Why a subgoal exists; changes how it completes.</summary>
internal enum SubgoalReason
{
    None,
    /// <summary>Open: the door is locked and the key must be dropped afterwards.</summary>
    Unlock,
    /// <summary>Open: keep the key after unlocking.</summary>
    KeepKey,
    /// <summary>GoNextTo: face an empty cell next to the target.</summary>
    PutNext,
    /// <summary>GoNextTo: exploratory (dropped from the stack when exploration is no longer needed).</summary>
    Explore,
    /// <summary>GoNextTo: going to a door to open it.</summary>
    Open,
}

/// <summary>
/// One entry of the plan stack. The target of a GoNextTo is a description (closest visible
/// match), a specific object (its current position) or a position.
/// </summary>
internal sealed class Subgoal
{
    private Subgoal(SubgoalKind kind, SubgoalReason reason)
    {
        Kind = kind;
        Reason = reason;
    }

    public SubgoalKind Kind { get; }

    public SubgoalReason Reason { get; }

    public ObjectDescription? Description { get; private init; }

    public WorldObject? Object { get; private init; }

    public (int X, int Y) Position { get; private init; }

    /// <summary>How often a put-next approach stepped away from its target (see the bot's doorway fallback).</summary>
    public int StepAways { get; set; }

    public bool IsExploratory => Kind == SubgoalKind.Explore || (Kind == SubgoalKind.GoNextTo && Reason == SubgoalReason.Explore);

    public static Subgoal Simple(SubgoalKind kind, SubgoalReason reason = SubgoalReason.None) => new(kind, reason);

    public static Subgoal GoTo(ObjectDescription desc, SubgoalReason reason = SubgoalReason.None, bool avoidBlockers = false) =>
        new(SubgoalKind.GoNextTo, reason) { Description = desc, AvoidBlockers = avoidBlockers };

    /// <summary>Prefer a matching object reachable without moving anything (for strict instructions).</summary>
    public bool AvoidBlockers { get; private init; }

    public static Subgoal GoTo(WorldObject obj, SubgoalReason reason = SubgoalReason.None) => new(SubgoalKind.GoNextTo, reason) { Object = obj };

    public static Subgoal GoTo((int X, int Y) pos, SubgoalReason reason = SubgoalReason.None) => new(SubgoalKind.GoNextTo, reason) { Position = pos };

    public override string ToString() => Kind == SubgoalKind.GoNextTo
        ? $"GoNextTo({(object?)Description ?? (object?)Object ?? Position}, {Reason})"
        : $"{Kind}({Reason})";
}
