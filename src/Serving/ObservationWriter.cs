using System.Globalization;
using System.Text.Json;
using RLAgents.Environments;

namespace RLAgents.Serving;

/// <summary>
/// What a client sends: one slot of an <see cref="ObservationBatch"/> as the JSON object the HTTP API reads
/// (boxes nested in their shape, discrete values as integers, text as strings) or as the gRPC
/// <see cref="Grpc.Observation"/> message — the inverse of <see cref="ObservationReader"/>.
/// </summary>
public static class ObservationWriter
{
    /// <summary>Slot <paramref name="i"/> of <paramref name="batch"/> as a JSON object of modality → value.</summary>
    public static string ToJson(ObservationBatch batch, int i)
    {
        var space = batch.Space;
        var parts = new List<string>(space.Count);
        for (int m = 0; m < space.Count; m++)
        {
            var modality = space[m];
            string value = modality.Space switch
            {
                // "R" round-trips every float32 exactly.
                BoxSpace { DType: DType.Float32 } box => Nested(batch.Floats(m).AsSpan(i * box.Size, box.Size).ToArray().Select(f => f.ToString("R", CultureInfo.InvariantCulture)).ToArray(), box.ShapeArray()),
                BoxSpace box => Nested(batch.Bytes(m).AsSpan(i * box.Size, box.Size).ToArray().Select(b => b.ToString(CultureInfo.InvariantCulture)).ToArray(), box.ShapeArray()),
                DiscreteSpace => batch.Ints(m)[i].ToString(CultureInfo.InvariantCulture),
                _ => JsonSerializer.Serialize(batch.Texts(m)[i]),
            };
            parts.Add($"{JsonSerializer.Serialize(modality.Name)}: {value}");
        }
        return "{" + string.Join(", ", parts) + "}";
    }

    /// <summary>Slot <paramref name="i"/> of <paramref name="batch"/> as a gRPC observation (boxes flat, in row-major order).</summary>
    public static Grpc.Observation ToProto(ObservationBatch batch, int i)
    {
        var space = batch.Space;
        var o = new Grpc.Observation();
        for (int m = 0; m < space.Count; m++)
        {
            var modality = space[m];
            o.Modalities[modality.Name] = modality.Space switch
            {
                BoxSpace { DType: DType.Float32 } box => new Grpc.ModalityValue { Floats = new Grpc.FloatValues { Values = { batch.Floats(m).AsSpan(i * box.Size, box.Size).ToArray() } } },
                BoxSpace box => new Grpc.ModalityValue { Uint8 = Google.Protobuf.ByteString.CopyFrom(batch.Bytes(m), i * box.Size, box.Size) },
                DiscreteSpace => new Grpc.ModalityValue { Discrete = batch.Ints(m)[i] },
                _ => new Grpc.ModalityValue { Text = batch.Texts(m)[i] },
            };
        }
        return o;
    }

    // A flat row-major array as nested JSON arrays of the given shape ([] shape: the one value).
    private static string Nested(string[] flat, int[] shape)
    {
        int offset = 0;
        string Level(int d) => d == shape.Length ? flat[offset++] : "[" + string.Join(",", Enumerable.Range(0, shape[d]).Select(_ => Level(d + 1))) + "]";
        return Level(0);
    }
}
