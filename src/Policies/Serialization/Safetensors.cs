using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Serialization;

/// <summary>
/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and byte range, then the raw little-endian data. Open,
/// readable from Python, and one blob a learner can push to workers. F32, F64 and I64 tensors.
/// </summary>
public static class Safetensors
{
    /// <summary>Serialises named tensors (CPU, any layout) and optional string metadata.</summary>
    public static byte[] Serialize(IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, t) in tensors.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            using var c = t.detach().cpu().contiguous();
            byte[] bytes = c.bytes.ToArray();
            header[name] = new JsonObject
            {
                ["dtype"] = DTypeName(c.dtype),
                ["shape"] = new JsonArray(c.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            blobs.Add(bytes);
            offset += bytes.Length;
        }
        var json = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8; // data starts 8-byte aligned; padding is spaces
        var result = new byte[8 + padded + offset];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)padded);
        json.CopyTo(result, 8);
        result.AsSpan(8 + json.Length, padded - json.Length).Fill((byte)' ');
        long at = 8 + padded;
        foreach (var b in blobs) { b.CopyTo(result, at); at += b.Length; }
        return result;
    }

    /// <summary>Parses a safetensors blob into CPU tensors (caller disposes) and its metadata.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Deserialize(ReadOnlySpan<byte> data, string source = "safetensors blob")
    {
        if (data.Length < 8) throw new InvalidDataException($"{source}: {data.Length} bytes is too short for a safetensors header.");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(data);
        if (n > (ulong)(data.Length - 8)) throw new InvalidDataException($"{source}: header length {n} at byte 0 exceeds the file size {data.Length}.");
        JsonObject header;
        try { header = JsonNode.Parse(data.Slice(8, (int)n))!.AsObject(); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: the JSON header at byte 8 is malformed: {e.Message}"); }
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var body = data[(8 + (int)n)..];
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                foreach (var (k, v) in node!.AsObject()) metadata[k] = v!.GetValue<string>();
                continue;
            }
            var entry = node!.AsObject();
            var dtype = ParseDType(entry["dtype"]!.GetValue<string>(), name, source);
            long[] shape = entry["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var offsets = entry["data_offsets"]!.AsArray();
            long begin = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>();
            if (begin < 0 || end > body.Length || begin > end)
                throw new InvalidDataException($"{source}: tensor '{name}' data range [{begin}, {end}) lies outside the {body.Length}-byte body.");
            var t = zeros(shape, dtype);
            long expected = t.numel() * t.ElementSize;
            if (expected != end - begin) { t.Dispose(); throw new InvalidDataException($"{source}: tensor '{name}' has {end - begin} bytes, its shape needs {expected}."); }
            body[(int)begin..(int)end].CopyTo(t.bytes);
            tensors[name] = t;
        }
        return (tensors, metadata);
    }

    /// <summary>Writes atomically: a temporary file in the same folder, then a rename.</summary>
    public static void WriteFile(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
        => AtomicFile.WriteAllBytes(path, Serialize(tensors, metadata));

    /// <summary>Reads a file written by <see cref="WriteFile"/> (or any F32/F64/I64 safetensors file).</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) ReadFile(string path)
        => Deserialize(File.ReadAllBytes(path), path);

    private static string DTypeName(ScalarType t) => t switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float64 => "F64",
        ScalarType.Int64 => "I64",
        _ => throw new NotSupportedException($"safetensors writer: dtype {t} is not supported (F32, F64, I64)."),
    };

    private static ScalarType ParseDType(string name, string tensor, string source) => name switch
    {
        "F32" => ScalarType.Float32,
        "F64" => ScalarType.Float64,
        "I64" => ScalarType.Int64,
        _ => throw new InvalidDataException($"{source}: tensor '{tensor}' has dtype {name}; supported: F32, F64, I64."),
    };
}

/// <summary>Atomic file replacement: write a temporary sibling, flush, then rename over the target.</summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> so readers see the old or the new file, never a torn one.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + ".tmp-" + Environment.ProcessId;
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, full, overwrite: true);
    }

    /// <summary>Writes UTF-8 text atomically.</summary>
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));
}

/// <summary>A module's parameters as one safetensors blob, and back.</summary>
public static class ModuleWeights
{
    /// <summary>Every named parameter and buffer of <paramref name="module"/> as safetensors bytes.</summary>
    public static byte[] Export(nn.Module module, string prefix = "") =>
        Safetensors.Serialize(Named(module, prefix));

    /// <summary>Named parameters and buffers, prefixed.</summary>
    public static IEnumerable<(string Name, Tensor Tensor)> Named(nn.Module module, string prefix = "") =>
        module.named_parameters().Select(p => (prefix + p.name, (Tensor)p.parameter))
            .Concat(module.named_buffers().Select(b => (prefix + b.name, b.buffer)));

    /// <summary>Copies tensors named <c>prefix + parameter name</c> into <paramref name="module"/>; every parameter must be present with its shape.</summary>
    public static void Load(nn.Module module, IReadOnlyDictionary<string, Tensor> tensors, string prefix = "", string source = "checkpoint")
    {
        using var _ = no_grad();
        foreach (var (name, target) in Named(module))
        {
            if (!tensors.TryGetValue(prefix + name, out var t))
                throw new InvalidDataException($"{source}: tensor '{prefix + name}' is missing.");
            if (!t.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{source}: tensor '{prefix + name}' has shape [{string.Join(", ", t.shape)}], the network needs [{string.Join(", ", target.shape)}].");
            target.copy_(t);
        }
    }
}
