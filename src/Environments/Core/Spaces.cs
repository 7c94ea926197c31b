using System.Globalization;
using System.Text;

namespace RLAgents.Environments;

/// <summary>Element type of a <see cref="BoxSpace"/>.</summary>
public enum DType
{
    /// <summary>32-bit IEEE float.</summary>
    Float32,
    /// <summary>Unsigned byte (symbolic or pixel images).</summary>
    UInt8,
}

/// <summary>
/// A set of values an observation modality or an action can take. Spaces describe data
/// (shape, element type, bounds), never networks: encoder sizes are computed from them.
/// </summary>
public abstract class Space
{
    private ActionLayout? _actionLayout;

    /// <summary>
    /// How an action of this space is laid out in an <see cref="EnvAction"/> (computed once). Action
    /// spaces are <see cref="DiscreteSpace"/>, <see cref="MultiDiscreteSpace"/>, float32
    /// <see cref="BoxSpace"/> and <see cref="DictSpace"/>; any other space throws <see cref="NotSupportedException"/>.
    /// </summary>
    public ActionLayout ActionLayout => _actionLayout ??= new ActionLayout(this);

    /// <summary>
    /// This space as a <see cref="DiscreteSpace"/>, for code that handles only discrete actions;
    /// otherwise throws <see cref="UnsupportedActionSpaceException"/> with one line naming
    /// <paramref name="context"/> (e.g. <c>"DQN"</c>) and this space.
    /// </summary>
    public DiscreteSpace AsDiscrete(string context) =>
        this as DiscreteSpace ?? throw new UnsupportedActionSpaceException(context, "a Discrete", this);

    /// <summary>Short, human-readable form, e.g. <c>Discrete(2)</c> or <c>Box(float32, [4])</c>.</summary>
    public abstract override string ToString();
}

/// <summary>Integers <c>Start .. Start+N-1</c>.</summary>
public sealed class DiscreteSpace : Space
{
    /// <summary>Creates the space of <paramref name="n"/> values starting at <paramref name="start"/>.</summary>
    public DiscreteSpace(int n, int start = 0)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "A Discrete space needs at least one value.");
        N = n;
        Start = start;
    }

    /// <summary>Number of values.</summary>
    public int N { get; }

    /// <summary>Smallest value.</summary>
    public int Start { get; }

    /// <summary>True when <paramref name="value"/> lies in the space.</summary>
    public bool Contains(int value) => (uint)(value - Start) < (uint)N;

    /// <summary>A uniformly drawn value.</summary>
    public int Sample(Rng rng) => Start + rng.NextInt(N);

    /// <inheritdoc />
    public override string ToString() => Start == 0 ? $"Discrete({N})" : $"Discrete({N}, start={Start})";
}

/// <summary>A vector of independent discrete values, entry i in <c>0 .. Nvec[i]-1</c>.</summary>
public sealed class MultiDiscreteSpace : Space
{
    private readonly int[] _nvec;

    /// <summary>Creates the space from the number of values per entry.</summary>
    public MultiDiscreteSpace(params int[] nvec)
    {
        if (nvec.Length == 0 || nvec.Any(n => n <= 0))
            throw new ArgumentException("MultiDiscrete needs at least one entry and every entry at least one value.", nameof(nvec));
        _nvec = (int[])nvec.Clone();
    }

    /// <summary>Number of values of each entry.</summary>
    public ReadOnlySpan<int> Nvec => _nvec;

    /// <summary>True when every entry lies in range.</summary>
    public bool Contains(ReadOnlySpan<int> value)
    {
        if (value.Length != _nvec.Length) return false;
        for (int i = 0; i < value.Length; i++)
            if ((uint)value[i] >= (uint)_nvec[i]) return false;
        return true;
    }

    /// <summary>Fills <paramref name="destination"/> with uniformly drawn entries.</summary>
    public void Sample(Rng rng, Span<int> destination)
    {
        for (int i = 0; i < _nvec.Length; i++) destination[i] = rng.NextInt(_nvec[i]);
    }

    /// <inheritdoc />
    public override string ToString() => $"MultiDiscrete([{string.Join(", ", _nvec)}])";
}

/// <summary>
/// A dense tensor of a fixed shape and element type with per-element bounds. Data is stored
/// row-major (C order), as numpy and torch do.
/// </summary>
public sealed class BoxSpace : Space
{
    private readonly int[] _shape;
    private readonly float[] _low;
    private readonly float[] _high;

    /// <summary>Creates a box with the same bounds for every element.</summary>
    public BoxSpace(float low, float high, int[] shape, DType dtype = DType.Float32)
        : this(Fill(low, Product(shape)), Fill(high, Product(shape)), shape, dtype)
    {
    }

    /// <summary>Creates a box with per-element bounds (row-major, one entry per element).</summary>
    public BoxSpace(float[] low, float[] high, int[] shape, DType dtype = DType.Float32)
    {
        if (shape.Length == 0 || shape.Any(d => d <= 0))
            throw new ArgumentException("A Box shape needs at least one dimension, all positive.", nameof(shape));
        int size = Product(shape);
        if (low.Length != size || high.Length != size)
            throw new ArgumentException($"Bounds must have {size} elements for shape [{string.Join(", ", shape)}].");
        for (int i = 0; i < size; i++)
            if (!(low[i] <= high[i]))
                throw new ArgumentException($"Box bound {i}: low {low[i]} is above high {high[i]}.");
        _shape = (int[])shape.Clone();
        _low = (float[])low.Clone();
        _high = (float[])high.Clone();
        DType = dtype;
        Size = size;
    }

    /// <summary>Dimensions, outermost first.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>Number of elements (product of the shape).</summary>
    public int Size { get; }

    /// <summary>Lower bounds, one per element (may be -∞).</summary>
    public ReadOnlySpan<float> Low => _low;

    /// <summary>Upper bounds, one per element (may be +∞).</summary>
    public ReadOnlySpan<float> High => _high;

    /// <summary>Copy of the shape.</summary>
    public int[] ShapeArray() => (int[])_shape.Clone();

    /// <summary>True when the data has this box's size and every element lies within bounds.</summary>
    public bool Contains(ReadOnlySpan<float> data)
    {
        if (data.Length != Size) return false;
        for (int i = 0; i < data.Length; i++)
            if (!(data[i] >= _low[i] && data[i] <= _high[i])) return false;
        return true;
    }

    /// <summary>True when the data has this box's size and every element lies within bounds.</summary>
    public bool Contains(ReadOnlySpan<byte> data)
    {
        if (data.Length != Size) return false;
        for (int i = 0; i < data.Length; i++)
            if (!(data[i] >= _low[i] && data[i] <= _high[i])) return false;
        return true;
    }

    /// <summary>
    /// Fills <paramref name="destination"/> with a sample: uniform on bounded elements,
    /// normal on unbounded, shifted exponential on half-bounded (Gymnasium's convention).
    /// </summary>
    public void Sample(Rng rng, Span<float> destination)
    {
        for (int i = 0; i < Size; i++)
        {
            float lo = _low[i], hi = _high[i];
            bool bl = float.IsFinite(lo), bh = float.IsFinite(hi);
            double v = (bl, bh) switch
            {
                (true, true) => lo + (hi - (double)lo) * rng.NextDouble(),
                (false, false) => rng.NextNormal(),
                (true, false) => lo + rng.NextExponential(),
                _ => hi - rng.NextExponential(),
            };
            destination[i] = DType == DType.UInt8 ? MathF.Floor((float)v) : (float)v;
        }
    }

    /// <summary>Fills <paramref name="destination"/> with uniform integers within bounds (uint8 boxes).</summary>
    public void Sample(Rng rng, Span<byte> destination)
    {
        for (int i = 0; i < Size; i++)
        {
            int lo = (int)Math.Max(0, _low[i]), hi = (int)Math.Min(255, _high[i]);
            destination[i] = (byte)(lo + rng.NextInt(hi - lo + 1));
        }
    }

    /// <inheritdoc />
    public override string ToString()
    {
        string dt = DType == DType.Float32 ? "float32" : "uint8";
        bool uniform = _low.All(l => l == _low[0]) && _high.All(h => h == _high[0]);
        string bounds = uniform ? $", {Fmt(_low[0])}, {Fmt(_high[0])}" : "";
        return $"Box({dt}, [{string.Join(", ", _shape)}]{bounds})";
    }

    private static string Fmt(float v) => float.IsPositiveInfinity(v) ? "inf" : float.IsNegativeInfinity(v) ? "-inf" : v.ToString("G6", CultureInfo.InvariantCulture);

    private static int Product(int[] shape) => shape.Aggregate(1, (a, b) => checked(a * b));

    private static float[] Fill(float v, int n) => Enumerable.Repeat(v, n).ToArray();
}

/// <summary>
/// A composite action space of named parts, each a <see cref="DiscreteSpace"/>,
/// <see cref="MultiDiscreteSpace"/> or float32 <see cref="BoxSpace"/>, in a fixed order (e.g. a
/// gear and a steering angle). An action holds the integers of its discrete parts in
/// <see cref="EnvAction.Discrete"/> and the floats of its Box parts in <see cref="EnvAction.Continuous"/>,
/// each in part order (<see cref="Space.ActionLayout"/>).
/// Observations use <see cref="ObservationSpace"/>, their own composite.
/// </summary>
public sealed class DictSpace : Space
{
    private readonly string[] _names;
    private readonly Space[] _spaces;

    /// <summary>Creates the space from named parts in their fixed order.</summary>
    public DictSpace(params (string Name, Space Space)[] parts)
    {
        if (parts.Length == 0) throw new ArgumentException("A Dict space needs at least one part.", nameof(parts));
        _names = new string[parts.Length];
        _spaces = new Space[parts.Length];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < parts.Length; i++)
        {
            var (name, space) = parts[i];
            ArgumentException.ThrowIfNullOrWhiteSpace(name);
            if (!seen.Add(name)) throw new ArgumentException($"Duplicate Dict part name '{name}'.", nameof(parts));
            if (space is not (DiscreteSpace or MultiDiscreteSpace or BoxSpace { DType: DType.Float32 }))
                throw new ArgumentException($"Dict part '{name}': {space} is not Discrete, MultiDiscrete or a float32 Box.", nameof(parts));
            (_names[i], _spaces[i]) = (name, space);
        }
    }

    /// <summary>Number of parts.</summary>
    public int Count => _spaces.Length;

    /// <summary>The space of part <paramref name="index"/>.</summary>
    public Space this[int index] => _spaces[index];

    /// <summary>The space of the part named <paramref name="name"/>; throws naming the known parts when absent.</summary>
    public Space this[string name] => _spaces[IndexOf(name)];

    /// <summary>The name of part <paramref name="index"/>.</summary>
    public string NameAt(int index) => _names[index];

    /// <summary>Index of the part named <paramref name="name"/>.</summary>
    public int IndexOf(string name)
    {
        int i = Array.IndexOf(_names, name);
        return i >= 0 ? i : throw new KeyNotFoundException($"No part '{name}'; this Dict has: {string.Join(", ", _names)}.");
    }

    /// <inheritdoc />
    public override string ToString() => "Dict(" + string.Join(", ", _names.Select((n, i) => $"{n}: {_spaces[i]}")) + ")";
}

/// <summary>
/// Strings of at most <see cref="MaxLength"/> units, drawn from a character set or, when
/// <see cref="Vocabulary"/> is given, whitespace-separated words of that vocabulary
/// (then <see cref="MaxLength"/> counts words).
/// </summary>
public sealed class TextSpace : Space
{
    /// <summary>Printable ASCII, the default character set.</summary>
    public const string PrintableAscii = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

    private readonly HashSet<char>? _charset;
    private readonly HashSet<string>? _words;
    private readonly string[]? _wordList;

    /// <summary>Creates a character-level text space.</summary>
    public TextSpace(int maxLength, string charset = PrintableAscii, int minLength = 0)
    {
        if (maxLength <= 0 || minLength < 0 || minLength > maxLength)
            throw new ArgumentOutOfRangeException(nameof(maxLength), "Need 0 <= minLength <= maxLength, maxLength > 0.");
        MaxLength = maxLength;
        MinLength = minLength;
        Charset = charset;
        _charset = new HashSet<char>(charset);
    }

    /// <summary>Creates a word-level text space over a closed vocabulary.</summary>
    public TextSpace(int maxWords, IEnumerable<string> vocabulary)
    {
        if (maxWords <= 0) throw new ArgumentOutOfRangeException(nameof(maxWords));
        MaxLength = maxWords;
        _wordList = vocabulary.Distinct().ToArray();
        if (_wordList.Length == 0) throw new ArgumentException("The vocabulary is empty.", nameof(vocabulary));
        _words = new HashSet<string>(_wordList, StringComparer.Ordinal);
        Charset = "";
    }

    /// <summary>Maximum length in characters (or words, for a vocabulary space).</summary>
    public int MaxLength { get; }

    /// <summary>Minimum length in characters.</summary>
    public int MinLength { get; }

    /// <summary>Allowed characters (empty for a vocabulary space).</summary>
    public string Charset { get; }

    /// <summary>The closed vocabulary, or null for a character-level space.</summary>
    public IReadOnlyList<string>? Vocabulary => _wordList;

    /// <summary>True when <paramref name="text"/> belongs to the space.</summary>
    public bool Contains(string? text)
    {
        if (text is null) return false;
        if (_words is not null)
        {
            var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return words.Length <= MaxLength && words.All(_words.Contains);
        }
        if (text.Length < MinLength || text.Length > MaxLength) return false;
        foreach (char c in text)
            if (!_charset!.Contains(c)) return false;
        return true;
    }

    /// <summary>A random string of the space.</summary>
    public string Sample(Rng rng)
    {
        var sb = new StringBuilder();
        if (_wordList is not null)
        {
            int n = 1 + rng.NextInt(MaxLength);
            for (int i = 0; i < n; i++)
            {
                if (i > 0) sb.Append(' ');
                sb.Append(_wordList[rng.NextInt(_wordList.Length)]);
            }
            return sb.ToString();
        }
        int len = MinLength + rng.NextInt(MaxLength - MinLength + 1);
        for (int i = 0; i < len; i++) sb.Append(Charset[rng.NextInt(Charset.Length)]);
        return sb.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => _wordList is not null
        ? $"Text(max_words={MaxLength}, vocabulary={_wordList.Length})"
        : $"Text(max_length={MaxLength}, charset={Charset.Length} chars)";
}
