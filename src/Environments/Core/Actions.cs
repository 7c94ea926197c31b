using System.Globalization;

namespace RLAgents.Environments;

/// <summary>
/// One action, of any action space, without allocation: the integers of its discrete elements and
/// the floats of its continuous elements, laid out as the space's <see cref="ActionLayout"/> says.
/// <list type="bullet">
/// <item><see cref="DiscreteSpace"/>: one integer in <see cref="Discrete"/>, no floats.</item>
/// <item><see cref="MultiDiscreteSpace"/>: K integers, entry i in <c>0 .. Nvec[i]-1</c>.</item>
/// <item>float32 <see cref="BoxSpace"/>: its elements row-major in <see cref="Continuous"/>.</item>
/// <item><see cref="DictSpace"/>: the integers of its discrete parts in <see cref="Discrete"/> and the
/// floats of its Box parts in <see cref="Continuous"/>, each in part order.</item>
/// </list>
/// The spans belong to the caller and are read during the step only.
/// </summary>
public readonly ref struct EnvAction
{
    /// <summary>An action with <paramref name="discrete"/> integers and <paramref name="continuous"/> floats.</summary>
    public EnvAction(ReadOnlySpan<int> discrete, ReadOnlySpan<float> continuous)
    {
        Discrete = discrete;
        Continuous = continuous;
    }

    /// <summary>The action of a <see cref="DiscreteSpace"/>: one integer, read in place.</summary>
    public EnvAction(ref readonly int discrete)
    {
        Discrete = new ReadOnlySpan<int>(in discrete);
        Continuous = default;
    }

    /// <summary>Values of the discrete elements.</summary>
    public ReadOnlySpan<int> Discrete { get; }

    /// <summary>Values of the continuous elements.</summary>
    public ReadOnlySpan<float> Continuous { get; }

    /// <summary>E.g. <c>[2]</c>, <c>[0.5, -1]</c> or <c>[1, 0] [0.25]</c> for a Dict action.</summary>
    public override string ToString()
    {
        string d = "[" + string.Join(", ", Discrete.ToArray()) + "]";
        string c = "[" + string.Join(", ", Continuous.ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";
        return Continuous.IsEmpty ? d : Discrete.IsEmpty ? c : d + " " + c;
    }
}

/// <summary>One named part of an action space: where its elements sit in an <see cref="EnvAction"/>.</summary>
/// <param name="Name">The part's name in a <see cref="DictSpace"/>; <c>""</c> for the single part of any other space.</param>
/// <param name="Space">The part's space: Discrete, MultiDiscrete or a float32 Box.</param>
/// <param name="DiscreteOffset">Index of the part's first integer in <see cref="EnvAction.Discrete"/>.</param>
/// <param name="DiscreteCount">Integers of the part (1 for Discrete, K for MultiDiscrete, 0 for Box).</param>
/// <param name="ContinuousOffset">Index of the part's first float in <see cref="EnvAction.Continuous"/>.</param>
/// <param name="ContinuousCount">Floats of the part (the Box's size; 0 for discrete parts).</param>
public sealed record ActionPart(string Name, Space Space, int DiscreteOffset, int DiscreteCount, int ContinuousOffset, int ContinuousCount);

/// <summary>
/// How the actions of a space are laid out: <see cref="DiscreteCount"/> integers, each with its
/// own range, and <see cref="ContinuousCount"/> floats, each with its own bounds. Obtain it from
/// <see cref="Space.ActionLayout"/>; policies size their heads from it, and environments, wrappers
/// and vector environments validate every action against it.
/// </summary>
/// <remarks>
/// Validation: every discrete element must lie in its range (else <see cref="InvalidActionException"/>);
/// every continuous element must be finite (NaN and ±∞ throw <see cref="InvalidActionException"/>
/// naming the element). Finite continuous values outside the bounds are passed through: as in
/// Gymnasium, environments clip them themselves (Pendulum) or a <see cref="Wrappers.ClipAction"/>
/// wrapper does.
/// </remarks>
public sealed class ActionLayout
{
    private readonly ActionPart[] _parts;
    private readonly int[] _starts;
    private readonly int[] _sizes;
    private readonly float[] _low;
    private readonly float[] _high;
    private readonly int[] _partOfDiscrete;
    private readonly int[] _partOfContinuous;

    internal ActionLayout(Space space)
    {
        Space = space;
        var parts = new List<ActionPart>();
        var starts = new List<int>();
        var sizes = new List<int>();
        var low = new List<float>();
        var high = new List<float>();
        if (space is DictSpace dict)
        {
            for (int i = 0; i < dict.Count; i++) AddPart(dict.NameAt(i), dict[i]);
        }
        else AddPart("", space);
        _parts = [.. parts];
        _starts = [.. starts];
        _sizes = [.. sizes];
        _low = [.. low];
        _high = [.. high];
        _partOfDiscrete = new int[_starts.Length];
        _partOfContinuous = new int[_low.Length];
        for (int p = 0; p < _parts.Length; p++)
        {
            _partOfDiscrete.AsSpan(_parts[p].DiscreteOffset, _parts[p].DiscreteCount).Fill(p);
            _partOfContinuous.AsSpan(_parts[p].ContinuousOffset, _parts[p].ContinuousCount).Fill(p);
        }
        IsDiscrete = space is DiscreteSpace;

        void AddPart(string name, Space part)
        {
            int d = starts.Count, c = low.Count;
            switch (part)
            {
                case DiscreteSpace s:
                    starts.Add(s.Start);
                    sizes.Add(s.N);
                    break;
                case MultiDiscreteSpace s:
                    foreach (int n in s.Nvec) { starts.Add(0); sizes.Add(n); }
                    break;
                case BoxSpace { DType: DType.Float32 } s:
                    low.AddRange(s.Low.ToArray());
                    high.AddRange(s.High.ToArray());
                    break;
                default:
                    string where = name.Length == 0 ? "" : $"part '{name}': ";
                    throw new NotSupportedException($"{where}{part} cannot be an action space: actions are Discrete, MultiDiscrete, float32 Box, or a Dict of those.");
            }
            parts.Add(new ActionPart(name, part, d, starts.Count - d, c, low.Count - c));
        }
    }

    /// <summary>The space this layout describes.</summary>
    public Space Space { get; }

    /// <summary>The parts in order: one for a plain space, one per entry of a <see cref="DictSpace"/>.</summary>
    public IReadOnlyList<ActionPart> Parts => _parts;

    /// <summary>True for a <see cref="DiscreteSpace"/>: one integer, the form <see cref="IEnv.Step(int)"/> takes.</summary>
    public bool IsDiscrete { get; }

    /// <summary>Integers per action (Kd).</summary>
    public int DiscreteCount => _starts.Length;

    /// <summary>Floats per action (Kc).</summary>
    public int ContinuousCount => _low.Length;

    /// <summary>Smallest value of each discrete element, [Kd].</summary>
    public ReadOnlySpan<int> DiscreteStarts => _starts;

    /// <summary>Number of values of each discrete element, [Kd].</summary>
    public ReadOnlySpan<int> DiscreteSizes => _sizes;

    /// <summary>Lower bound of each continuous element, [Kc] (may be −∞).</summary>
    public ReadOnlySpan<float> Low => _low;

    /// <summary>Upper bound of each continuous element, [Kc] (may be +∞).</summary>
    public ReadOnlySpan<float> High => _high;

    /// <summary>True when both layouts have the same element counts, ranges and bounds.</summary>
    public bool SameAs(ActionLayout other) =>
        ReferenceEquals(this, other) || IsDiscrete == other.IsDiscrete
            && _starts.AsSpan().SequenceEqual(other._starts) && _sizes.AsSpan().SequenceEqual(other._sizes)
            && _low.AsSpan().SequenceEqual(other._low) && _high.AsSpan().SequenceEqual(other._high);

    /// <summary>True when discrete element <paramref name="index"/> accepts <paramref name="value"/>.</summary>
    public bool ContainsDiscrete(int index, int value) => (uint)(value - _starts[index]) < (uint)_sizes[index];

    /// <summary>
    /// Draws a uniformly random action into the two spans (<see cref="DiscreteCount"/> and
    /// <see cref="ContinuousCount"/> long): parts in order, each with its space's own sampler
    /// (Box: uniform where bounded, Gymnasium's conventions where not).
    /// </summary>
    public void Sample(Rng rng, Span<int> discrete, Span<float> continuous)
    {
        if (discrete.Length != DiscreteCount || continuous.Length != ContinuousCount)
            throw new ArgumentException($"A {Space} action has {DiscreteCount} integers and {ContinuousCount} floats; got spans of {discrete.Length} and {continuous.Length}.");
        foreach (var p in _parts) // the array, not the interface: sampling allocates nothing
        {
            switch (p.Space)
            {
                case DiscreteSpace s: discrete[p.DiscreteOffset] = s.Sample(rng); break;
                case MultiDiscreteSpace s: s.Sample(rng, discrete.Slice(p.DiscreteOffset, p.DiscreteCount)); break;
                case BoxSpace s: s.Sample(rng, continuous.Slice(p.ContinuousOffset, p.ContinuousCount)); break;
            }
        }
    }

    /// <summary>Describes the first reason <paramref name="action"/> is not a valid action, or null when it is.</summary>
    public string? Violation(EnvAction action) => Check(action, out _, out _);

    /// <summary>
    /// Throws <see cref="InvalidActionException"/> naming <paramref name="env"/> (and the env index
    /// <paramref name="index"/> in a vector env) when <paramref name="action"/> is invalid; allocates nothing otherwise.
    /// </summary>
    public void Validate(EnvAction action, EnvId env, int? index = null)
    {
        if (Check(action, out int? element, out int? value) is not { } problem) return;
        throw new InvalidActionException(index is int i ? $"{env} (env {i})" : env.ToString(), Space, problem, element, value);
    }

    private string? Check(EnvAction action, out int? element, out int? value)
    {
        element = null;
        value = null;
        var d = action.Discrete;
        var c = action.Continuous;
        if (d.Length != _starts.Length || c.Length != _low.Length)
            return $"the action has {d.Length} integers and {c.Length} floats; {Space} takes {_starts.Length} and {_low.Length}";
        for (int i = 0; i < d.Length; i++)
        {
            if ((uint)(d[i] - _starts[i]) < (uint)_sizes[i]) continue;
            (element, value) = (i, d[i]);
            if (IsDiscrete) return $"action {d[i]} is not in {Space}";
            var part = _parts[_partOfDiscrete[i]];
            return $"action element {i}{PartName(part, i - part.DiscreteOffset)} is {d[i]}, outside [{_starts[i]}, {_starts[i] + _sizes[i] - 1}] of {Space}";
        }
        for (int i = 0; i < c.Length; i++)
        {
            if (float.IsFinite(c[i])) continue;
            element = i;
            var part = _parts[_partOfContinuous[i]];
            return $"continuous action element {i}{PartName(part, i - part.ContinuousOffset)} is {Format(c[i])}; continuous actions must be finite ({Space})";
        }
        return null;
    }

    private static string PartName(ActionPart part, int within) => part.Name.Length == 0 ? "" : $" (part '{part.Name}'[{within}])";

    private static string Format(float v) => float.IsNaN(v) ? "NaN" : v > 0 ? "+infinity" : "-infinity";
}

/// <summary>
/// A batch of actions for a vector environment, one contiguous array per element kind, env-major
/// (mirrors <see cref="ObservationBatch"/>): env i's integers occupy <c>Discrete[i*Kd, (i+1)*Kd)</c>
/// and its floats <c>Continuous[i*Kc, (i+1)*Kc)</c>, with Kd and Kc from <see cref="Layout"/>.
/// Allocate once and rewrite in place every step.
/// </summary>
public sealed class ActionBatch
{
    /// <summary>Allocates zeroed actions of <paramref name="space"/> for <paramref name="count"/> environments.</summary>
    public ActionBatch(Space space, int count)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Space = space;
        Layout = space.ActionLayout;
        Count = count;
        Discrete = new int[checked(count * Layout.DiscreteCount)];
        Continuous = new float[checked(count * Layout.ContinuousCount)];
    }

    /// <summary>The action space of one environment.</summary>
    public Space Space { get; }

    /// <summary>The layout of one environment's action.</summary>
    public ActionLayout Layout { get; }

    /// <summary>Number of environments.</summary>
    public int Count { get; }

    /// <summary>Every integer, [Count × Kd].</summary>
    public int[] Discrete { get; }

    /// <summary>Every float, [Count × Kc].</summary>
    public float[] Continuous { get; }

    /// <summary>Environment <paramref name="index"/>'s action (views into the arrays).</summary>
    public EnvAction this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            int kd = Layout.DiscreteCount, kc = Layout.ContinuousCount;
            return new EnvAction(Discrete.AsSpan(index * kd, kd), Continuous.AsSpan(index * kc, kc));
        }
    }

    /// <summary>Copies <paramref name="action"/> into slot <paramref name="index"/> (lengths must match the layout).</summary>
    public void Set(int index, EnvAction action)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
        int kd = Layout.DiscreteCount, kc = Layout.ContinuousCount;
        if (action.Discrete.Length != kd || action.Continuous.Length != kc)
            throw new ArgumentException($"A {Space} action has {kd} integers and {kc} floats, not {action.Discrete.Length} and {action.Continuous.Length}.", nameof(action));
        action.Discrete.CopyTo(Discrete.AsSpan(index * kd, kd));
        action.Continuous.CopyTo(Continuous.AsSpan(index * kc, kc));
    }

    /// <summary>Fills every slot with a random action (<see cref="ActionLayout.Sample"/>, env 0 first).</summary>
    public void Sample(Rng rng)
    {
        int kd = Layout.DiscreteCount, kc = Layout.ContinuousCount;
        for (int i = 0; i < Count; i++) Layout.Sample(rng, Discrete.AsSpan(i * kd, kd), Continuous.AsSpan(i * kc, kc));
    }
}

/// <summary>
/// Code that handles only some kinds of action space met an environment with another kind (e.g. a
/// categorical policy and a Box action space). A user-fixable mismatch: hosts print the one-line
/// message and exit with code 2.
/// </summary>
public sealed class UnsupportedActionSpaceException : NotSupportedException
{
    /// <summary>Creates the error: <paramref name="context"/> (who needs what) cannot use <paramref name="space"/>.</summary>
    public UnsupportedActionSpaceException(string context, string needs, Space space)
        : base($"{context} needs {needs} action space; the environment's is {space}.")
    {
        Context = context;
        Space = space;
    }

    /// <summary>The code that rejected the space, as its caller named it.</summary>
    public string Context { get; }

    /// <summary>The rejected space.</summary>
    public Space Space { get; }
}
