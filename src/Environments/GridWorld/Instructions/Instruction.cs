namespace RLAgents.Environments.GridWorld;

/// <summary>What a verifier says after an action.</summary>
public enum VerifyStatus
{
    /// <summary>Not finished.</summary>
    Continue,
    /// <summary>The instruction was carried out: the episode terminates with reward.</summary>
    Success,
    /// <summary>The instruction can no longer be carried out (strict modes, wrong done): terminates without reward.</summary>
    Failure,
}

/// <summary>
/// A BabyAI instruction and its verifier (<c>verifier.py</c>): a surface form for the mission
/// and a per-step check of the action just taken against the world after it.
/// </summary>
public abstract class Instruction
{
    /// <summary>The world being verified; set by <see cref="Reset"/>.</summary>
    protected IGridWorldState World { get; private set; } = null!;

    /// <summary>The mission sentence, e.g. "go to the red ball".</summary>
    public abstract string Surface();

    /// <summary>Number of navigations the level's step budget allows for (BabyAI's <c>num_navs_needed</c>).</summary>
    public abstract int NavigationsNeeded { get; }

    /// <summary>Starts an episode; descriptions must already be matched or bound.</summary>
    public virtual void Reset(IGridWorldState world) => World = world;

    /// <summary>Checks the action just applied.</summary>
    public abstract VerifyStatus Verify(GridAction action);

    /// <summary>Refreshes tracked object positions (called after every drop action).</summary>
    public abstract void UpdateObjectPositions();

    /// <summary>Every object description of the instruction (for binding and planning).</summary>
    public abstract IReadOnlyList<ObjectDescription> Descriptions { get; }

    /// <summary>
    /// BabyAI's <c>BABYAI_DONE_ACTIONS</c> mode for every action instruction of the tree (see
    /// <see cref="ActionInstruction"/>).
    /// </summary>
    public abstract bool UseDoneActions { get; set; }

    /// <summary>The action instructions (leaves) of the tree, left to right.</summary>
    public abstract IEnumerable<ActionInstruction> Leaves { get; }

    /// <summary>The sequencing nodes of the tree in pre-order (node, then its A subtree, then its B subtree).</summary>
    public IEnumerable<SequenceInstruction> SequencesPreOrder()
    {
        if (this is not SequenceInstruction seq) yield break;
        yield return seq;
        foreach (var s in seq.A.SequencesPreOrder()) yield return s;
        foreach (var s in seq.B.SequencesPreOrder()) yield return s;
    }
}

/// <summary>
/// A single-action instruction. With done actions enabled (BabyAI's <c>BABYAI_DONE_ACTIONS</c>),
/// completion is only granted by a <see cref="GridAction.Done"/> right after the step that
/// completed the task, and a done at any other time fails.
/// </summary>
public abstract class ActionInstruction : Instruction
{
    private bool _lastStepMatch;

    /// <summary>Whether success must be confirmed with the done action.</summary>
    public override bool UseDoneActions { get; set; }

    /// <inheritdoc />
    public override IEnumerable<ActionInstruction> Leaves => [this];

    /// <inheritdoc />
    public override void Reset(IGridWorldState world)
    {
        base.Reset(world);
        _lastStepMatch = false;
    }

    /// <inheritdoc />
    public override VerifyStatus Verify(GridAction action)
    {
        if (!UseDoneActions) return VerifyAction(action);
        if (action == GridAction.Done) return _lastStepMatch ? VerifyStatus.Success : VerifyStatus.Failure;
        _lastStepMatch = VerifyAction(action) == VerifyStatus.Success;
        return VerifyStatus.Continue;
    }

    /// <summary>The instruction's own check.</summary>
    protected abstract VerifyStatus VerifyAction(GridAction action);

    /// <inheritdoc />
    public override void UpdateObjectPositions()
    {
        var descriptions = Descriptions;
        for (int i = 0; i < descriptions.Count; i++) descriptions[i].UpdatePositions(World.Grid);
    }
}

/// <summary>"go to X": succeeds when the cell in front of the agent holds a tracked position of X.</summary>
public sealed class GoToInstruction(ObjectDescription target) : ActionInstruction
{
    private readonly ObjectDescription[] _descriptions = [target];

    /// <summary>What to go to.</summary>
    public ObjectDescription Target { get; } = target;

    /// <inheritdoc />
    public override int NavigationsNeeded => 1;

    /// <inheritdoc />
    public override IReadOnlyList<ObjectDescription> Descriptions => _descriptions;

    /// <inheritdoc />
    public override string Surface() => "go to " + Target.Surface();

    /// <inheritdoc />
    protected override VerifyStatus VerifyAction(GridAction action)
    {
        var front = World.FrontPos();
        var positions = Target.Positions;
        for (int i = 0; i < positions.Count; i++)
            if (positions[i] == front) return VerifyStatus.Success;
        return VerifyStatus.Continue;
    }
}

/// <summary>"open X" (a door): succeeds on a toggle that leaves a tracked door in front open.</summary>
public sealed class OpenInstruction(ObjectDescription target, bool strict = false) : ActionInstruction
{
    private readonly ObjectDescription[] _descriptions = [target];

    /// <summary>The door to open.</summary>
    public ObjectDescription Target { get; } = target.Type == ObjectType.Door ? target : throw new ArgumentException("Open instructions describe doors.", nameof(target));

    /// <summary>When set, toggling any other door fails.</summary>
    public bool Strict { get; } = strict;

    /// <inheritdoc />
    public override int NavigationsNeeded => 1;

    /// <inheritdoc />
    public override IReadOnlyList<ObjectDescription> Descriptions => _descriptions;

    /// <inheritdoc />
    public override string Surface() => "open " + Target.Surface();

    /// <inheritdoc />
    protected override VerifyStatus VerifyAction(GridAction action)
    {
        if (action != GridAction.Toggle) return VerifyStatus.Continue;
        var front = World.FrontCell();
        var doors = Target.Objects;
        for (int i = 0; i < doors.Count; i++)
            if (front is not null && ReferenceEquals(front, doors[i]) && doors[i].IsOpen) return VerifyStatus.Success;
        if (Strict && front is { Type: ObjectType.Door }) return VerifyStatus.Failure;
        return VerifyStatus.Continue;
    }
}

/// <summary>"pick up X": succeeds on a pickup that leaves a tracked object carried when nothing was carried before.</summary>
public sealed class PickupInstruction(ObjectDescription target, bool strict = false) : ActionInstruction
{
    private readonly ObjectDescription[] _descriptions = [target];

    private WorldObject? _preCarrying;

    /// <summary>What to pick up.</summary>
    public ObjectDescription Target { get; } = target.Type != ObjectType.Door ? target : throw new ArgumentException("Doors cannot be picked up.", nameof(target));

    /// <summary>When set, picking up anything else fails.</summary>
    public bool Strict { get; } = strict;

    /// <inheritdoc />
    public override int NavigationsNeeded => 1;

    /// <inheritdoc />
    public override IReadOnlyList<ObjectDescription> Descriptions => _descriptions;

    /// <inheritdoc />
    public override string Surface() => "pick up " + Target.Surface();

    /// <inheritdoc />
    public override void Reset(IGridWorldState world)
    {
        base.Reset(world);
        _preCarrying = null;
    }

    /// <inheritdoc />
    protected override VerifyStatus VerifyAction(GridAction action)
    {
        var pre = _preCarrying;
        _preCarrying = World.Carrying;
        if (action != GridAction.Pickup) return VerifyStatus.Continue;
        var targets = Target.Objects;
        for (int i = 0; i < targets.Count; i++)
            if (pre is null && ReferenceEquals(World.Carrying, targets[i])) return VerifyStatus.Success;
        if (Strict && World.Carrying is not null) return VerifyStatus.Failure;
        return VerifyStatus.Continue;
    }
}

/// <summary>
/// "put X next to Y": succeeds on a drop of a tracked X (carried before the drop) onto a cell
/// 4-adjacent to a tracked position of Y.
/// </summary>
public sealed class PutNextInstruction(ObjectDescription move, ObjectDescription fixedTarget, bool strict = false) : ActionInstruction
{
    private readonly ObjectDescription[] _descriptions = [move, fixedTarget];

    private WorldObject? _preCarrying;

    /// <summary>The object to move.</summary>
    public ObjectDescription Move { get; } = move.Type != ObjectType.Door ? move : throw new ArgumentException("Doors cannot be moved.", nameof(move));

    /// <summary>The object to put it next to.</summary>
    public ObjectDescription Fixed { get; } = fixedTarget;

    /// <summary>When set, any pickup while carrying fails (BabyAI's strict mode, taken literally).</summary>
    public bool Strict { get; } = strict;

    /// <inheritdoc />
    public override int NavigationsNeeded => 2;

    /// <inheritdoc />
    public override IReadOnlyList<ObjectDescription> Descriptions => _descriptions;

    /// <inheritdoc />
    public override string Surface() => "put " + Move.Surface() + " next to " + Fixed.Surface();

    /// <inheritdoc />
    public override void Reset(IGridWorldState world)
    {
        base.Reset(world);
        _preCarrying = null;
    }

    /// <summary>True when some tracked X already lies next to some tracked Y (used to reject levels).</summary>
    public bool ObjectsNext()
    {
        foreach (var a in Move.Objects)
            foreach (var b in Fixed.Positions)
                if (Adjacent(a.Position, b)) return true;
        return false;
    }

    /// <inheritdoc />
    protected override VerifyStatus VerifyAction(GridAction action)
    {
        var pre = _preCarrying;
        _preCarrying = World.Carrying;
        if (Strict && action == GridAction.Pickup && World.Carrying is not null) return VerifyStatus.Failure;
        if (action != GridAction.Drop) return VerifyStatus.Continue;
        var moved = Move.Objects;
        var fixedPositions = Fixed.Positions;
        for (int i = 0; i < moved.Count; i++)
        {
            if (!ReferenceEquals(pre, moved[i])) continue;
            for (int j = 0; j < fixedPositions.Count; j++)
                if (Adjacent(moved[i].Position, fixedPositions[j])) return VerifyStatus.Success;
        }
        return VerifyStatus.Continue;
    }

    private static bool Adjacent((int X, int Y) a, (int X, int Y) b) => Math.Abs(a.X - b.X) + Math.Abs(a.Y - b.Y) == 1;
}
