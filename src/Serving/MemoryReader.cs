using System.Text.Json;
using Google.Protobuf.Collections;

namespace RLAgents.Serving;

/// <summary>
/// Reads the memory a request carries for a recurrent policy: per observation, the <c>memory</c> the previous answer of its
/// episode returned (H floats), or nothing where an episode begins (zeros). The server keeps no state between requests, so
/// concurrent clients, restarts and batching cannot mix episodes up. Problems are <see cref="BadRequestException"/>s naming
/// the field and index.
/// </summary>
internal static class MemoryReader
{
    /// <summary>
    /// The memory [count·H] of a JSON request: <paramref name="value"/> is its <c>memory</c> (one observation: an array of
    /// H numbers or null) or <c>memories</c> (a batch: an array of count such entries), or null when the request has none.
    /// </summary>
    public static float[]? Read(JsonElement? value, string field, bool batch, int count, int size)
    {
        if (value is not { } v || v.ValueKind == JsonValueKind.Null) return null;
        NotRecurrent(field, size);
        var memory = new float[count * size];
        if (!batch)
        {
            Row(v, field, size, memory.AsSpan(0, size));
            return memory;
        }
        if (v.ValueKind != JsonValueKind.Array) throw new BadRequestException($"{field}: expected an array of {count} memories (one per observation, null where an episode begins), got {ObservationReader.Kind(v)}");
        if (v.GetArrayLength() != count) throw new BadRequestException($"{field}: {v.GetArrayLength()} memories for {count} observations");
        int i = 0;
        foreach (var row in v.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Null) Row(row, $"{field}[{i}]", size, memory.AsSpan(i * size, size));
            i++;
        }
        return memory;
    }

    /// <summary>The memory [count·H] of a gRPC request's <c>memories</c>: none, or one entry per observation (empty where an episode begins).</summary>
    public static float[]? Read(RepeatedField<Grpc.FloatValues> memories, int count, int size)
    {
        if (memories.Count == 0) return null;
        NotRecurrent("memories", size);
        if (memories.Count != count) throw new BadRequestException($"memories: {memories.Count} memories for {count} observations");
        var memory = new float[count * size];
        for (int i = 0; i < count; i++)
        {
            var values = memories[i].Values;
            if (values.Count == 0) continue;
            if (values.Count != size) throw new BadRequestException($"memories[{i}]: {values.Count} values, the policy's memory has {size}");
            for (int j = 0; j < size; j++)
            {
                if (!float.IsFinite(values[j])) throw new BadRequestException($"memories[{i}][{j}]: {values[j]} is not finite");
                memory[i * size + j] = values[j];
            }
        }
        return memory;
    }

    private static void NotRecurrent(string field, int size)
    {
        if (size == 0) throw new BadRequestException($"{field}: this policy is not recurrent and keeps no memory; leave the field out");
    }

    private static void Row(JsonElement row, string path, int size, Span<float> into)
    {
        if (row.ValueKind != JsonValueKind.Array) throw new BadRequestException($"{path}: expected an array of {size} numbers (the previous answer's memory), got {ObservationReader.Kind(row)}");
        if (row.GetArrayLength() != size) throw new BadRequestException($"{path}: {row.GetArrayLength()} values, the policy's memory has {size}");
        int j = 0;
        foreach (var e in row.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out double x)) throw new BadRequestException($"{path}[{j}]: expected a number, got {ObservationReader.Kind(e)}");
            float f = (float)x;
            if (!float.IsFinite(f)) throw new BadRequestException($"{path}[{j}]: {x} is outside float32's range");
            into[j++] = f;
        }
    }
}
