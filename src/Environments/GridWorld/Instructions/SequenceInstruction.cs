namespace RLAgents.Environments.GridWorld;

/// <summary>
/// Two instructions joined in time (BabyAI's <c>SeqInstr</c>): "A, then B", "A after you B" or
/// "A and B". Each node keeps the status its parts returned when they were last verified
/// (<see cref="AStatus"/>, <see cref="BStatus"/>; null = not verified yet), and a part is only
/// verified while it is active, so its own memory (e.g. what a pick-up saw carried) only moves then.
/// </summary>
public abstract class SequenceInstruction : Instruction
{
    /// <summary>Joins two parts; see each node for which parts it accepts.</summary>
    protected SequenceInstruction(Instruction a, Instruction b, bool strict)
    {
        A = a ?? throw new ArgumentNullException(nameof(a));
        B = b ?? throw new ArgumentNullException(nameof(b));
        Strict = strict;
    }

    /// <summary>The first part as written in the mission.</summary>
    public Instruction A { get; }

    /// <summary>The second part as written in the mission.</summary>
    public Instruction B { get; }

    /// <summary>BabyAI's strict flag: completing the later part first fails (before/after only; no level sets it).</summary>
    public bool Strict { get; }

    /// <summary>What <see cref="A"/> returned when it was last verified; null before that.</summary>
    public VerifyStatus? AStatus { get; protected set; }

    /// <summary>What <see cref="B"/> returned when it was last verified; null before that.</summary>
    public VerifyStatus? BStatus { get; protected set; }

    /// <summary>The connective between the two surfaces: ", then ", " after you " or " and ".</summary>
    protected abstract string Connective { get; }

    /// <inheritdoc />
    public override string Surface() => A.Surface() + Connective + B.Surface();

    /// <summary>Both parts' navigations (BabyAI's <c>num_navs_needed</c> of a sequence).</summary>
    public override int NavigationsNeeded => A.NavigationsNeeded + B.NavigationsNeeded;

    /// <inheritdoc />
    public override IReadOnlyList<ObjectDescription> Descriptions => [.. A.Descriptions, .. B.Descriptions];

    /// <inheritdoc />
    public override IEnumerable<ActionInstruction> Leaves => A.Leaves.Concat(B.Leaves);

    /// <inheritdoc />
    public override bool UseDoneActions
    {
        get => A.UseDoneActions;
        set
        {
            A.UseDoneActions = value;
            B.UseDoneActions = value;
        }
    }

    /// <inheritdoc />
    public override void Reset(IGridWorldState world)
    {
        base.Reset(world);
        A.Reset(world);
        B.Reset(world);
        AStatus = BStatus = null;
    }

    /// <summary>Refreshes the tracked positions of every leaf, active or not (as BabyAI does after a drop).</summary>
    public override void UpdateObjectPositions()
    {
        A.UpdateObjectPositions();
        B.UpdateObjectPositions();
    }

    /// <summary>Checks that a part of a before/after is an action or an "and" (BabyAI's grammar).</summary>
    protected static Instruction Part(Instruction part, string name) =>
        part is ActionInstruction or AndInstruction ? part : throw new ArgumentException($"A sequence part must be an action or an 'and', not {part.GetType().Name}.", name);
}

/// <summary>
/// A sequence whose parts must be done in an order: the later part is verified for the first time
/// on the very step on which the earlier one succeeds, with the same action, so one action can
/// complete both (BabyAI's <c>BeforeInstr</c> / <c>AfterInstr</c>).
/// </summary>
public abstract class OrderedSequenceInstruction : SequenceInstruction
{
    private readonly bool _bFirst;

    /// <summary>Joins two parts; <paramref name="bFirst"/> for "A after you B".</summary>
    private protected OrderedSequenceInstruction(Instruction a, Instruction b, bool strict, bool bFirst)
        : base(Part(a, nameof(a)), Part(b, nameof(b)), strict) => _bFirst = bFirst;

    /// <inheritdoc />
    public override VerifyStatus Verify(GridAction action)
    {
        var (first, second) = _bFirst ? (B, A) : (A, B);
        if (Status(!_bFirst) == VerifyStatus.Success)
        {
            var s = second.Verify(action);
            SetStatus(_bFirst, s);
            return s;
        }
        var f = first.Verify(action);
        SetStatus(!_bFirst, f);
        if (f == VerifyStatus.Failure) return VerifyStatus.Failure;
        if (f == VerifyStatus.Success) return Verify(action);
        if (Strict && second.Verify(action) == VerifyStatus.Success) return VerifyStatus.Failure;
        return VerifyStatus.Continue;
    }

    private VerifyStatus? Status(bool a) => a ? AStatus : BStatus;

    private void SetStatus(bool a, VerifyStatus status)
    {
        if (a) AStatus = status;
        else BStatus = status;
    }
}

/// <summary>"A, then B" (BabyAI's <c>BeforeInstr</c>): A first, then B.</summary>
public sealed class BeforeInstruction(Instruction a, Instruction b, bool strict = false) : OrderedSequenceInstruction(a, b, strict, bFirst: false)
{
    /// <inheritdoc />
    protected override string Connective => ", then ";
}

/// <summary>"A after you B" (BabyAI's <c>AfterInstr</c>): B first, then A.</summary>
public sealed class AfterInstruction(Instruction a, Instruction b, bool strict = false) : OrderedSequenceInstruction(a, b, strict, bFirst: true)
{
    /// <inheritdoc />
    protected override string Connective => " after you ";
}

/// <summary>
/// "A and B" (BabyAI's <c>AndInstr</c>), both actions in any order. A part that has succeeded is
/// never verified again (success is sticky), so the node succeeds on the step that completes the
/// second of the two, whatever happened in between.
/// </summary>
public sealed class AndInstruction : SequenceInstruction
{
    /// <summary>Joins two action instructions.</summary>
    public AndInstruction(Instruction a, Instruction b, bool strict = false)
        : base(a is ActionInstruction ? a : throw new ArgumentException("Both parts of an 'and' are actions.", nameof(a)),
               b is ActionInstruction ? b : throw new ArgumentException("Both parts of an 'and' are actions.", nameof(b)), strict)
    {
    }

    /// <inheritdoc />
    protected override string Connective => " and ";

    /// <inheritdoc />
    public override VerifyStatus Verify(GridAction action)
    {
        if (AStatus != VerifyStatus.Success) AStatus = A.Verify(action);
        if (BStatus != VerifyStatus.Success) BStatus = B.Verify(action);
        // With done actions, a done that confirms neither part fails the conjunction.
        if (UseDoneActions && action == GridAction.Done && AStatus == VerifyStatus.Failure && BStatus == VerifyStatus.Failure)
            return VerifyStatus.Failure;
        return AStatus == VerifyStatus.Success && BStatus == VerifyStatus.Success ? VerifyStatus.Success : VerifyStatus.Continue;
    }
}
