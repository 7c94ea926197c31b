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

    /// <summary>Describes the first modality whose value lies outside its space, or null when all fit.</summary>
    public string? Violation(Observation observation)
    {
        if (!ReferenceEquals(observation.Space, this) && !observation.Space.SameLayout(this))
            return "the observation's modalities differ from the space's";
        for (int m = 0; m < _modalities.Length; m++)
        {
            var mod = _modalities[m];
            bool ok = mod.Storage switch
            {
                ModalityStorage.Float32 => ((BoxSpace)mod.Space).Contains(observation.Floats(m)),
                ModalityStorage.UInt8 => ((BoxSpace)mod.Space).Contains(observation.Bytes(m)),
                ModalityStorage.Int32 => ((DiscreteSpace)mod.Space).Contains(observation.GetInt(m)),
                _ => ((TextSpace)mod.Space).Contains(observation.GetText(m)),
            };
            if (!ok) return $"modality '{mod.Name}' is outside {mod.Space}";
        }
        return null;
    }

    /// <summary>True when both spaces have the same modality names, storages and sizes in the same order.</summary>
    public bool SameLayout(ObservationSpace other)
    {
        if (other.Count != Count) return false;
        for (int i = 0; i < Count; i++)
        {
            var a = _modalities[i];
            var b = other._modalities[i];
            if (a.Name != b.Name || a.Storage != b.Storage || a.Size != b.Size) return false;
        }
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => "{" + string.Join(", ", _modalities.Select(m => m.ToString())) + "}";
}
