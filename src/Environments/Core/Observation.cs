namespace RLAgents.Environments;

/// <summary>
/// One multimodal observation: a buffer per modality of an <see cref="ObservationSpace"/>.
/// An environment owns one instance and rewrites it in place on every reset and step, so hot
/// paths allocate nothing; the instance a step returns is valid until the next call on that
/// environment. Call <see cref="Clone"/> or <see cref="CopyTo"/> to keep it.
/// </summary>
public sealed class Observation
{
    private readonly float[]?[] _floats;
    private readonly byte[]?[] _bytes;
    private readonly int[] _ints;
    private readonly string?[] _texts;

    /// <summary>Allocates zeroed buffers for every modality of <paramref name="space"/>.</summary>
    public Observation(ObservationSpace space)
    {
        Space = space;
        int n = space.Count;
        _floats = new float[]?[n];
        _bytes = new byte[]?[n];
        _ints = new int[n];
        _texts = new string?[n];
        for (int m = 0; m < n; m++)
        {
            var mod = space[m];
            switch (mod.Storage)
            {
                case ModalityStorage.Float32: _floats[m] = new float[mod.Size]; break;
                case ModalityStorage.UInt8: _bytes[m] = new byte[mod.Size]; break;
                case ModalityStorage.Text: _texts[m] = ""; break;
            }
        }
    }

    /// <summary>The layout of this observation.</summary>
    public ObservationSpace Space { get; }

    /// <summary>The float32 elements of modality <paramref name="m"/> (row-major), writable.</summary>
    public Span<float> Floats(int m) => _floats[m] ?? throw WrongStorage(m, ModalityStorage.Float32);

    /// <summary>The backing array of float32 modality <paramref name="m"/>, for in-assembly hot paths that write it every step.</summary>
    internal float[] FloatArray(int m) => _floats[m] ?? throw WrongStorage(m, ModalityStorage.Float32);

    /// <summary>The float32 elements of the modality named <paramref name="name"/>.</summary>
    public Span<float> Floats(string name) => Floats(Space.IndexOf(name));

    /// <summary>The uint8 elements of modality <paramref name="m"/> (row-major), writable.</summary>
    public Span<byte> Bytes(int m) => _bytes[m] ?? throw WrongStorage(m, ModalityStorage.UInt8);

    /// <summary>The uint8 elements of the modality named <paramref name="name"/>.</summary>
    public Span<byte> Bytes(string name) => Bytes(Space.IndexOf(name));

    /// <summary>The integer of discrete modality <paramref name="m"/>.</summary>
    public int GetInt(int m) => Space[m].Storage == ModalityStorage.Int32 ? _ints[m] : throw WrongStorage(m, ModalityStorage.Int32);

    /// <summary>The integer of the discrete modality named <paramref name="name"/>.</summary>
    public int GetInt(string name) => GetInt(Space.IndexOf(name));

    /// <summary>Sets the integer of discrete modality <paramref name="m"/>.</summary>
    public void SetInt(int m, int value) => _ints[m] = Space[m].Storage == ModalityStorage.Int32 ? value : throw WrongStorage(m, ModalityStorage.Int32);

    /// <summary>The string of text modality <paramref name="m"/>.</summary>
    public string GetText(int m) => _texts[m] ?? throw WrongStorage(m, ModalityStorage.Text);

    /// <summary>The string of the text modality named <paramref name="name"/>.</summary>
    public string GetText(string name) => GetText(Space.IndexOf(name));

    /// <summary>Sets the string of text modality <paramref name="m"/>.</summary>
    public void SetText(int m, string value)
    {
        if (Space[m].Storage != ModalityStorage.Text) throw WrongStorage(m, ModalityStorage.Text);
        _texts[m] = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>Copies every modality into <paramref name="destination"/>, which must share the layout.</summary>
    public void CopyTo(Observation destination)
    {
        if (!ReferenceEquals(destination.Space, Space) && !destination.Space.SameLayout(Space))
            throw new ArgumentException("Observations have different layouts.", nameof(destination));
        for (int m = 0; m < _ints.Length; m++)
        {
            _floats[m]?.AsSpan().CopyTo(destination._floats[m]);
            _bytes[m]?.AsSpan().CopyTo(destination._bytes[m]);
            destination._ints[m] = _ints[m];
            destination._texts[m] = _texts[m];
        }
    }

    /// <summary>A deep copy that later steps will not change.</summary>
    public Observation Clone()
    {
        var copy = new Observation(Space);
        CopyTo(copy);
        return copy;
    }

    /// <summary>True when every modality holds the same values (floats compared bit for bit).</summary>
    public bool ContentEquals(Observation other)
    {
        if (!other.Space.SameLayout(Space)) return false;
        for (int m = 0; m < _ints.Length; m++)
        {
            if (_floats[m] is { } f && !System.Runtime.InteropServices.MemoryMarshal.AsBytes(f.AsSpan())
                    .SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(other._floats[m].AsSpan()))) return false;
            if (_bytes[m] is { } b && !b.AsSpan().SequenceEqual(other._bytes[m])) return false;
            if (_ints[m] != other._ints[m] || !string.Equals(_texts[m], other._texts[m], StringComparison.Ordinal)) return false;
        }
        return true;
    }

    private InvalidOperationException WrongStorage(int m, ModalityStorage asked) =>
        new($"Modality '{Space[m].Name}' is stored as {Space[m].Storage}, not {asked}.");
}
