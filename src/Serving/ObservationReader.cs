using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using RLAgents.Environments;

namespace RLAgents.Serving;

/// <summary>A request the server rejects: 400 over HTTP, INVALID_ARGUMENT over gRPC. The message names the field and the problem.</summary>
public sealed class BadRequestException(string message) : Exception(message);

/// <summary>
/// Reads observations from requests (JSON objects or protobuf maps of modality → value) into the slots of
/// an <see cref="ObservationBatch"/>, checking each value against its modality's space: every modality
/// present and no other, shapes, element types, bounds, discrete ranges and text lengths. The first
/// problem is reported as <c>observation.&lt;modality&gt;[i][j]: what is wrong</c>.
/// </summary>
public sealed class ObservationReader(ObservationSpace space)
{
    private readonly string _names = string.Join(", ", space.Modalities.Select(m => m.Name));

    /// <summary>The space observations are checked against.</summary>
    public ObservationSpace Space => space;

    /// <summary>Reads a JSON observation object into slot <paramref name="slot"/>; <paramref name="path"/> prefixes messages.</summary>
    public void Read(JsonElement observation, string path, ObservationBatch batch, int slot)
    {
        if (observation.ValueKind != JsonValueKind.Object)
            throw new BadRequestException($"{path}: expected an object of modality → value, got {Kind(observation)}");
        var seen = new bool[space.Count];
        foreach (var property in observation.EnumerateObject())
        {
            if (!space.TryGetIndex(property.Name, out int m))
                throw new BadRequestException($"{path}: unknown modality '{property.Name}' (the policy reads {_names})");
            if (seen[m]) throw new BadRequestException($"{path}.{property.Name}: given twice");
            seen[m] = true;
            ReadModality(property.Value, $"{path}.{property.Name}", m, batch, slot);
        }
        CheckComplete(seen, path);
    }

    /// <summary>Reads a protobuf observation into slot <paramref name="slot"/>.</summary>
    public void Read(Grpc.Observation observation, string path, ObservationBatch batch, int slot)
    {
        var seen = new bool[space.Count];
        foreach (var (name, value) in observation.Modalities)
        {
            if (!space.TryGetIndex(name, out int m))
                throw new BadRequestException($"{path}: unknown modality '{name}' (the policy reads {_names})");
            seen[m] = true;
            ReadModality(value, $"{path}.{name}", m, batch, slot);
        }
        CheckComplete(seen, path);
    }

    private void CheckComplete(bool[] seen, string path)
    {
        for (int m = 0; m < seen.Length; m++)
            if (!seen[m]) throw new BadRequestException($"{path}: modality '{space[m].Name}' is missing (the policy reads {_names})");
    }

    private void ReadModality(JsonElement value, string path, int m, ObservationBatch batch, int slot)
    {
        var modality = space[m];
        switch (modality.Space)
        {
            case BoxSpace box:
            {
                var shape = box.ShapeArray();
                int size = box.Size;
                var read = new BoxReader(box);
                if (value.ValueKind == JsonValueKind.Number && size == 1) read.Element(value, path, 0);
                else if (value.ValueKind == JsonValueKind.Array && shape.Length > 1 && value.GetArrayLength() == size && IsNumber(value[0]))
                {
                    int i = 0; // a flat row-major array is accepted as well as the nested shape
                    foreach (var e in value.EnumerateArray()) { read.Element(e, $"{path}[{i}]", i); i++; }
                }
                else
                {
                    int offset = 0;
                    read.Nested(value, shape, 0, path, ref offset);
                }
                if (box.DType == DType.Float32) read.Floats.CopyTo(batch.Floats(m).AsSpan(slot * size, size));
                else read.Bytes.CopyTo(batch.Bytes(m).AsSpan(slot * size, size));
                break;
            }
            case DiscreteSpace discrete:
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long v))
                    throw new BadRequestException($"{path}: expected an integer in [{discrete.Start}, {discrete.Start + discrete.N - 1}], got {Kind(value)}");
                batch.Ints(m)[slot] = Discrete(v, discrete, path);
                break;
            case TextSpace text:
                if (value.ValueKind != JsonValueKind.String) throw new BadRequestException($"{path}: expected a string, got {Kind(value)}");
                batch.Texts(m)[slot] = Text(value.GetString()!, text, path);
                break;
        }
    }

    private void ReadModality(Grpc.ModalityValue value, string path, int m, ObservationBatch batch, int slot)
    {
        var modality = space[m];
        switch (modality.Space)
        {
            case BoxSpace { DType: DType.Float32 } box:
            {
                if (value.ValueCase != Grpc.ModalityValue.ValueOneofCase.Floats) throw new BadRequestException($"{path}: expected floats (a float32 box), got {value.ValueCase.ToString().ToLowerInvariant()}");
                var values = value.Floats.Values;
                if (values.Count != box.Size) throw new BadRequestException($"{path}: expected {box.Size} floats (shape [{string.Join(", ", box.ShapeArray())}]), got {values.Count}");
                var destination = batch.Floats(m).AsSpan(slot * box.Size, box.Size);
                for (int i = 0; i < values.Count; i++)
                {
                    float f = values[i];
                    if (!(f >= box.Low[i] && f <= box.High[i])) throw new BadRequestException($"{path}[{i}]: {Format(f)} is outside [{Format(box.Low[i])}, {Format(box.High[i])}]");
                    destination[i] = f;
                }
                break;
            }
            case BoxSpace box:
            {
                if (value.ValueCase != Grpc.ModalityValue.ValueOneofCase.Uint8) throw new BadRequestException($"{path}: expected uint8 bytes (a uint8 box), got {value.ValueCase.ToString().ToLowerInvariant()}");
                ByteString bytes = value.Uint8;
                if (bytes.Length != box.Size) throw new BadRequestException($"{path}: expected {box.Size} bytes (shape [{string.Join(", ", box.ShapeArray())}]), got {bytes.Length}");
                var source = bytes.Span;
                for (int i = 0; i < source.Length; i++)
                    if (!(source[i] >= box.Low[i] && source[i] <= box.High[i])) throw new BadRequestException($"{path}[{i}]: {source[i]} is outside [{Format(box.Low[i])}, {Format(box.High[i])}]");
                source.CopyTo(batch.Bytes(m).AsSpan(slot * box.Size, box.Size));
                break;
            }
            case DiscreteSpace discrete:
                if (value.ValueCase != Grpc.ModalityValue.ValueOneofCase.Discrete) throw new BadRequestException($"{path}: expected a discrete value, got {value.ValueCase.ToString().ToLowerInvariant()}");
                batch.Ints(m)[slot] = Discrete(value.Discrete, discrete, path);
                break;
            case TextSpace text:
                if (value.ValueCase != Grpc.ModalityValue.ValueOneofCase.Text) throw new BadRequestException($"{path}: expected text, got {value.ValueCase.ToString().ToLowerInvariant()}");
                batch.Texts(m)[slot] = Text(value.Text, text, path);
                break;
        }
    }

    private static int Discrete(long v, DiscreteSpace space, string path) =>
        v >= space.Start && v < (long)space.Start + space.N
            ? (int)v
            : throw new BadRequestException($"{path}: {v} is outside [{space.Start}, {space.Start + space.N - 1}]");

    private static string Text(string text, TextSpace space, string path)
    {
        if (space.Contains(text)) return text;
        if (space.Vocabulary is { } vocabulary)
        {
            var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length > space.MaxLength) throw new BadRequestException($"{path}: text too long: {words.Length} words, at most {space.MaxLength}");
            string unknown = words.First(w => !vocabulary.Contains(w));
            throw new BadRequestException($"{path}: word '{unknown}' is not in the vocabulary");
        }
        if (text.Length > space.MaxLength) throw new BadRequestException($"{path}: text too long: {text.Length} characters, at most {space.MaxLength}");
        if (text.Length < space.MinLength) throw new BadRequestException($"{path}: text too short: {text.Length} characters, at least {space.MinLength}");
        int bad = text.AsSpan().IndexOfAnyExcept(space.Charset);
        throw new BadRequestException($"{path}: character U+{(int)text[bad]:X4} at {bad} is not allowed");
    }

    /// <summary>One box's values read element by element, checked against its bounds and type.</summary>
    private sealed class BoxReader(BoxSpace box)
    {
        public float[] Floats { get; } = box.DType == DType.Float32 ? new float[box.Size] : [];

        public byte[] Bytes { get; } = box.DType == DType.UInt8 ? new byte[box.Size] : [];

        public void Nested(JsonElement value, int[] shape, int dim, string at, ref int offset)
        {
            if (dim == shape.Length)
            {
                Element(value, at, offset++);
                return;
            }
            if (value.ValueKind != JsonValueKind.Array)
                throw new BadRequestException($"{at}: expected an array of {shape[dim]} (shape [{string.Join(", ", shape)}]), got {Kind(value)}");
            int length = value.GetArrayLength();
            if (length != shape[dim])
                throw new BadRequestException(dim == 0 && shape.Length > 1 && length != box.Size
                    ? $"{at}: expected shape [{string.Join(", ", shape)}] (or {box.Size} values flat), got {length} entries"
                    : $"{at}: expected {shape[dim]} entries (shape [{string.Join(", ", shape)}]), got {length}");
            int i = 0;
            foreach (var e in value.EnumerateArray()) Nested(e, shape, dim + 1, $"{at}[{i++}]", ref offset);
        }

        public void Element(JsonElement value, string at, int index)
        {
            float low = box.Low[index], high = box.High[index];
            if (box.DType == DType.UInt8)
            {
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int b))
                    throw new BadRequestException($"{at}: expected an integer in [{Format(low)}, {Format(high)}] (uint8), got {Kind(value)}");
                if (!(b >= low && b <= high)) throw new BadRequestException($"{at}: {b} is outside [{Format(low)}, {Format(high)}]");
                Bytes[index] = (byte)b;
                return;
            }
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double d))
                throw new BadRequestException($"{at}: expected a number, got {Kind(value)}");
            float f = (float)d;
            if (!(f >= low && f <= high)) throw new BadRequestException($"{at}: {Format(d)} is outside [{Format(low)}, {Format(high)}]");
            Floats[index] = f;
        }
    }

    private static bool IsNumber(JsonElement e) => e.ValueKind == JsonValueKind.Number;

    /// <summary>A JSON value's kind and, for short scalars, the value itself (for messages).</summary>
    internal static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => $"{e.GetRawText()}",
        JsonValueKind.String => $"the string \"{Clip(e.GetString()!)}\"",
        JsonValueKind.Array => $"an array of {e.GetArrayLength()}",
        JsonValueKind.Object => "an object",
        JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
        _ => "null",
    };

    private static string Clip(string s) => s.Length <= 20 ? s : s[..20] + "…";

    private static string Format(double v) => double.IsPositiveInfinity(v) ? "inf" : double.IsNegativeInfinity(v) ? "-inf" : v.ToString("G7", CultureInfo.InvariantCulture);
}
