namespace RLAgents.Environments;

/// <summary>How a modality's values are stored in an <see cref="Observation"/>.</summary>
public enum ModalityStorage
{
    /// <summary>float32 elements (a float32 <see cref="BoxSpace"/>): vectors, normalised images.</summary>
    Float32,
    /// <summary>uint8 elements (a uint8 <see cref="BoxSpace"/>): symbolic or pixel images.</summary>
    UInt8,
    /// <summary>One integer (a <see cref="DiscreteSpace"/>): e.g. a direction.</summary>
    Int32,
    /// <summary>A string (a <see cref="TextSpace"/>): a mission or a description.</summary>
    Text,
}

/// <summary>One named part of a multimodal observation and the space of its values.</summary>
public sealed class Modality
{
    /// <summary>Creates a modality; the storage is derived from the space.</summary>
    public Modality(string name, Space space)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Space = space;
        Storage = space switch
        {
            BoxSpace { DType: DType.Float32 } => ModalityStorage.Float32,
            BoxSpace { DType: DType.UInt8 } => ModalityStorage.UInt8,
            DiscreteSpace => ModalityStorage.Int32,
            TextSpace => ModalityStorage.Text,
            _ => throw new ArgumentException($"Modality '{name}': {space} cannot be an observation modality (Box, Discrete or Text)."),
        };
        Size = space is BoxSpace b ? b.Size : 1;
    }

    /// <summary>Name, e.g. <c>image</c>, <c>mission</c>, <c>direction</c>, <c>state</c>.</summary>
    public string Name { get; }

    /// <summary>The values this modality can take.</summary>
    public Space Space { get; }

    /// <summary>How the values are stored.</summary>
    public ModalityStorage Storage { get; }

    /// <summary>Elements per observation (box size; 1 for discrete and text).</summary>
    public int Size { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {Space}";
}

/// <summary>
/// The composite space of a multimodal observation: named modalities in a fixed order. Every
/// environment's observation space is one of these (a single-modality env has one entry, e.g.
/// CartPole's <c>state</c>), so agents build one encoder per modality in this order.
/// </summary>
public sealed class ObservationSpace : Space
{
    private readonly Modality[] _modalities;
    private readonly Dictionary<string, int> _index;

    /// <summary>Creates the space from modalities in their fixed order.</summary>
    public ObservationSpace(params Modality[] modalities)
    {
        if (modalities.Length == 0) throw new ArgumentException("An observation needs at least one modality.");
        _modalities = (Modality[])modalities.Clone();
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _modalities.Length; i++)
            if (!_index.TryAdd(_modalities[i].Name, i))
                throw new ArgumentException($"Duplicate modality name '{_modalities[i].Name}'.");
    }

    /// <summary>A single float32 vector modality named <paramref name="name"/>.</summary>
    public static ObservationSpace Single(string name, Space space) => new(new Modality(name, space));

    /// <summary>The modalities in their fixed order.</summary>
    public IReadOnlyList<Modality> Modalities => _modalities;

    /// <summary>Number of modalities.</summary>
    public int Count => _modalities.Length;

    /// <summary>The modality at <paramref name="index"/>.</summary>
    public Modality this[int index] => _modalities[index];

    /// <summary>The modality named <paramref name="name"/>.</summary>
    public Modality this[string name] => _modalities[IndexOf(name)];

    /// <summary>Index of the modality named <paramref name="name"/>; throws naming the known ones when absent.</summary>
    public int IndexOf(string name) => _index.TryGetValue(name, out int i)
        ? i
        : throw new KeyNotFoundException($"No modality '{name}'; this observation has: {string.Join(", ", _index.Keys)}.");

    /// <summary>True when a modality of that name exists.</summary>
    public bool TryGetIndex(string name, out int index) => _index.TryGetValue(name, out index);

    /// <summary>True when <paramref name="observation"/> has this layout and every value lies in its space.</summary>
    public bool Contains(Observation observation) => Violation(observation) is null;

    /// <summary>
    /// Describes the first thing wrong with <paramref name="observation"/>, or null when it has this layout and
    /// every value lies in its space: a modality of another name, storage or shape, or the first value
    /// outside its bounds (NaN and infinities included), e.g. <c>modality 'position'[0] = NaN is outside Box(…)</c>.
    /// </summary>
    public string? Violation(Observation observation)
    {
        if (!ReferenceEquals(observation.Space, this) && LayoutDifference(observation.Space) is { } layout) return layout;
        for (int m = 0; m < _modalities.Length; m++)
        {
            var mod = _modalities[m];
            string? problem = mod.Storage switch
            {
                ModalityStorage.Float32 => BoxViolation(mod, observation.Floats(m)),
                ModalityStorage.UInt8 => BoxViolation(mod, observation.Bytes(m)),
                ModalityStorage.Int32 => DiscreteViolation(mod, observation.GetInt(m)),
                _ => TextViolation(mod, observation.GetText(m)),
            };
            if (problem is not null) return problem;
        }
        return null;
    }

    /// <summary>As <see cref="Violation(Observation)"/>, for slot <paramref name="slot"/> of a batch of this space's observations.</summary>
    public string? Violation(ObservationBatch batch, int slot)
    {
        for (int m = 0; m < _modalities.Length; m++)
        {
            var mod = _modalities[m];
            int size = mod.Size;
            string? problem = mod.Storage switch
            {
                ModalityStorage.Float32 => BoxViolation(mod, batch.Floats(m).AsSpan(slot * size, size)),
                ModalityStorage.UInt8 => BoxViolation(mod, batch.Bytes(m).AsSpan(slot * size, size)),
                ModalityStorage.Int32 => DiscreteViolation(mod, batch.Ints(m)[slot]),
                _ => TextViolation(mod, batch.Texts(m)[slot]),
            };
            if (problem is not null) return problem;
        }
        return null;
    }

    /// <summary>How <paramref name="other"/>'s layout differs from this one (modality count, names, storages, shapes), or null when it does not.</summary>
    public string? LayoutDifference(ObservationSpace other)
    {
        if (other.Count != Count)
            return $"the observation has {other.Count} modalities ({string.Join(", ", other._modalities.Select(m => m.Name))}); the space declares {Count} ({string.Join(", ", _modalities.Select(m => m.Name))})";
        for (int i = 0; i < Count; i++)
        {
            var (a, b) = (_modalities[i], other._modalities[i]);
            if (a.Name != b.Name) return $"modality {i} is '{b.Name}'; the space declares '{a.Name}'";
            if (a.Storage != b.Storage) return $"modality '{a.Name}' holds {b.Storage}; the space declares {a.Storage}";
            if (a.Space is BoxSpace ba && b.Space is BoxSpace bb && !ba.Shape.SequenceEqual(bb.Shape))
                return $"modality '{a.Name}' has shape [{string.Join(", ", bb.ShapeArray())}]; the space declares [{string.Join(", ", ba.ShapeArray())}]";
            if (a.Size != b.Size) return $"modality '{a.Name}' has {b.Size} elements; the space declares {a.Size}";
        }
        return null;
    }

    private static string? BoxViolation(Modality mod, ReadOnlySpan<float> data)
    {
        var box = (BoxSpace)mod.Space;
        if (box.Contains(data)) return null;
        if (data.Length != box.Size) return $"modality '{mod.Name}' has {data.Length} elements; {box} has {box.Size}";
        int i = 0;
        while (data[i] >= box.Low[i] && data[i] <= box.High[i]) i++;
        return $"modality '{mod.Name}'[{i}] = {data[i].ToString("R", System.Globalization.CultureInfo.InvariantCulture)} is outside {box}";
    }

    private static string? BoxViolation(Modality mod, ReadOnlySpan<byte> data)
    {
        var box = (BoxSpace)mod.Space;
        if (box.Contains(data)) return null;
        if (data.Length != box.Size) return $"modality '{mod.Name}' has {data.Length} elements; {box} has {box.Size}";
        int i = 0;
        while (data[i] >= box.Low[i] && data[i] <= box.High[i]) i++;
        return $"modality '{mod.Name}'[{i}] = {data[i]} is outside {box}";
    }

    private static string? DiscreteViolation(Modality mod, int value) =>
        ((DiscreteSpace)mod.Space).Contains(value) ? null : $"modality '{mod.Name}' = {value} is outside {mod.Space}";

    private static string? TextViolation(Modality mod, string? text) =>
        ((TextSpace)mod.Space).Contains(text) ? null
        : text is null ? $"modality '{mod.Name}' is null" : $"modality '{mod.Name}' = \"{(text.Length > 40 ? text[..40] + "…" : text)}\" is outside {mod.Space}";

    /// <summary>True when both spaces have the same modality names, storages and shapes in the same order.</summary>
    public bool SameLayout(ObservationSpace other) => ReferenceEquals(other, this) || LayoutDifference(other) is null;

    /// <inheritdoc />
    public override string ToString() => "{" + string.Join(", ", _modalities.Select(m => m.ToString())) + "}";
}
