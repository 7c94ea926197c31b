using RLAgents.Core;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Win32.SafeHandles;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Checkpoints;

/// <summary>
/// Reader and writer for the safetensors format: an 8-byte little-endian header length N, N bytes
/// of JSON header ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}}),
/// then the raw little-endian tensor bytes, offsets relative to the end of the header.
/// Reads F32, F64, I64, I32, U8 and BOOL as they are, and F16/BF16 as float32 tensors; writes
/// F32, F64, I64, I32 and U8. The one implementation of the format in RLAgents: policy
/// checkpoints, optimiser state and language-model weights all go through it.
/// <para>Integrity: the writer stores a CRC-32C of every tensor's bytes (<c>rlagents.crc32c.&lt;name&gt;</c>)
/// and of the header itself (<c>rlagents.header_crc32c</c>, computed with its own value as eight zeros)
/// in <c>__metadata__</c>, as strings, so other readers ignore them. The reader checks every checksum a file
/// carries and names the damaged tensor and its byte range; files without them (other writers) are read as they are.</para>
/// </summary>
public static class Safetensors
{
    private const string MetadataKey = "__metadata__";

    /// <summary>Metadata key prefix of a tensor's CRC-32C: <c>rlagents.crc32c.&lt;tensor name&gt;</c>.</summary>
    public const string TensorChecksumPrefix = "rlagents.crc32c.";

    /// <summary>Metadata key of the header's CRC-32C (over the padded header with this value as <c>00000000</c>).</summary>
    public const string HeaderChecksumKey = "rlagents.header_crc32c";

    // The header checksum's key and the opening quote of its value, as they appear in the header JSON.
    private static readonly byte[] HeaderChecksumMarker = Encoding.UTF8.GetBytes($"\"{HeaderChecksumKey}\":\"");
    private const string ChecksumPlaceholder = "00000000";
    // A header larger than this is rejected before allocation (the reference implementation uses 100 MB).
    private const long MaxHeaderBytes = 100L << 20;

    /// <summary>A tensor file's contents: CPU tensors by name and the free-form string metadata.</summary>
    public sealed class Contents(Dictionary<string, Tensor> tensors, Dictionary<string, string> metadata) : IDisposable
    {
        /// <summary>Tensors by name.</summary>
        public Dictionary<string, Tensor> Tensors { get; } = tensors;

        /// <summary>The <c>__metadata__</c> entries.</summary>
        public Dictionary<string, string> Metadata { get; } = metadata;

        /// <summary>Disposes every tensor.</summary>
        public void Dispose()
        {
            foreach (var t in Tensors.Values) t.Dispose();
        }
    }

    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/> atomically (temp file, then rename), names in ordinal order.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = tensors.ToList();
        AtomicFile.Write(path, stream => Write(stream, entries, metadata));
    }

    /// <summary>
    /// The safetensors bytes of <paramref name="tensors"/> in memory: one blob a process can ship to another
    /// (distributed rollout workers load policy weights from it) and <see cref="Read(ReadOnlyMemory{byte}, string)"/> reads.
    /// </summary>
    public static byte[] ToBytes(IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var memory = new MemoryStream();
        Write(memory, tensors.Select(t => KeyValuePair.Create(t.Name, t.Tensor)), metadata);
        return memory.ToArray();
    }

    /// <summary>Writes the safetensors layout of <paramref name="tensors"/> to <paramref name="stream"/>, names in ordinal order.</summary>
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors writing assumes a little-endian machine.");
        var entries = tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var header = new JsonObject();
        var meta = new JsonObject(metadata?.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))) ?? []);
        // A first pass over the tensors for their checksums (the header, which holds them, comes first in the file).
        foreach (var (name, tensor) in entries)
        {
            using var scope = NewDisposeScope();
            meta[TensorChecksumPrefix + name] = Crc32C.Format(Crc32C.Compute(tensor.detach().cpu().contiguous().bytes));
        }
        meta[HeaderChecksumKey] = ChecksumPlaceholder;
        header[MetadataKey] = meta;
        long offset = 0;
        foreach (var (name, tensor) in entries)
        {
            string dtype = tensor.dtype switch
            {
                ScalarType.Float32 => "F32",
                ScalarType.Float64 => "F64",
                ScalarType.Int64 => "I64",
                ScalarType.Int32 => "I32",
                ScalarType.Byte => "U8",
                _ => throw new ArgumentException($"Tensor '{name}': cannot write dtype {tensor.dtype} (F32, F64, I64, I32, U8 only)."),
            };
            long bytes = tensor.numel() * tensor.element_size();
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray(tensor.shape.Select(d => (JsonNode?)JsonValue.Create(d)).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        int padded = (json.Length + 7) / 8 * 8;
        var paddedHeader = new byte[padded];
        json.CopyTo(paddedHeader, 0);
        paddedHeader.AsSpan(json.Length).Fill((byte)' ');
        int checksumAt = paddedHeader.AsSpan().IndexOf(HeaderChecksumMarker) + HeaderChecksumMarker.Length;
        Encoding.ASCII.GetBytes(Crc32C.Format(Crc32C.Compute(paddedHeader)), paddedHeader.AsSpan(checksumAt, 8));
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        stream.Write(length);
        stream.Write(paddedHeader);
        foreach (var (_, tensor) in entries)
        {
            using var scope = NewDisposeScope();
            stream.Write(tensor.detach().cpu().contiguous().bytes);
        }
    }

    /// <summary>Writes named tensors (a module's named parameters, optimiser moments) to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, tensors.Select(t => KeyValuePair.Create(t.Name, t.Tensor)), metadata);

    /// <summary>Reads the whole file; every error names the file and, where it applies, the tensor.</summary>
    public static Contents Read(string path)
    {
        if (!File.Exists(path)) throw new CheckpointException($"{path}: file not found.");
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Read(path, RandomAccess.GetLength(handle), (buffer, offset) => RandomAccess.Read(handle, buffer, offset));
    }

    /// <summary>Reads safetensors bytes held in memory (<see cref="ToBytes"/>); <paramref name="source"/> names them in errors.</summary>
    public static Contents Read(ReadOnlyMemory<byte> data, string source) =>
        Read(source, data.Length, (buffer, offset) => data.Span.Slice((int)offset, buffer.Length).CopyTo(buffer));

    private delegate void ReadAt(Span<byte> buffer, long offset);

    private static Contents Read(string path, long fileLength, ReadAt readAt)
    {
        if (fileLength < 8) throw new CheckpointException($"{path}: truncated: {fileLength} bytes, shorter than the 8-byte header length.");
        Span<byte> lengthBytes = stackalloc byte[8];
        readAt(lengthBytes, 0);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes || 8 + (long)headerLength > fileLength)
            throw new CheckpointException($"{path}: header length {headerLength} at byte 0 exceeds the file ({fileLength} bytes); truncated or not a safetensors file.");
        var headerBytes = new byte[headerLength];
        readAt(headerBytes, 8);
        long dataStart = 8 + (long)headerLength, dataLength = fileLength - dataStart;

        string? headerDamage = HeaderChecksumProblem(headerBytes);
        if (!System.Text.Unicode.Utf8.IsValid(headerBytes)) throw new CheckpointException($"{path}: {headerDamage ?? "header is not valid UTF-8"}.");
        JsonObject header;
        try
        {
            header = JsonNode.Parse(headerBytes) as JsonObject ?? throw new CheckpointException($"{path}: header is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{path}: {headerDamage ?? $"header is not valid JSON ({e.Message})"}.");
        }
        if (headerDamage is not null) throw new CheckpointException($"{path}: {headerDamage}.");

        var metadata = new Dictionary<string, string>();
        var specs = new List<(string Name, string DType, long[] Shape, long Begin, long End)>();
        foreach (var (name, node) in header)
        {
            if (name == MetadataKey)
            {
                if (node is JsonObject meta)
                    foreach (var (k, v) in meta) metadata[k] = v?.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v?.ToJsonString() ?? "";
                continue;
            }
            specs.Add(ParseSpec(path, name, node, dataLength));
        }
        CheckNoOverlap(path, specs);
        var checksums = metadata.Where(kv => kv.Key.StartsWith(TensorChecksumPrefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[TensorChecksumPrefix.Length..], kv => kv.Value, StringComparer.Ordinal);
        bool checksummed = metadata.ContainsKey(HeaderChecksumKey);
        if (!checksummed && checksums.Count > 0) throw new CheckpointException($"{path}: the header's own checksum is missing while its tensors have theirs; the header is damaged.");
        // Callers see their own metadata; the checksums are this reader's business.
        foreach (var key in metadata.Keys.Where(k => k == HeaderChecksumKey || k.StartsWith(TensorChecksumPrefix, StringComparison.Ordinal)).ToList()) metadata.Remove(key);

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var spec in specs)
            {
                var raw = new byte[spec.End - spec.Begin];
                readAt(raw, dataStart + spec.Begin);
                if (checksums.TryGetValue(spec.Name, out string? stored))
                {
                    uint actual = Crc32C.Compute(raw);
                    if (!Crc32C.TryParse(stored, out uint expected) || expected != actual)
                        throw new CheckpointException($"{path}: tensor '{spec.Name}' (file bytes {dataStart + spec.Begin}..{dataStart + spec.End}) is damaged: its CRC-32C is {Crc32C.Format(actual)}, the header records {stored}.");
                }
                else if (checksummed)
                {
                    throw new CheckpointException($"{path}: tensor '{spec.Name}' has no checksum in a checksummed file; the header is damaged.");
                }
                tensors[spec.Name] = ToTensor(raw, spec.DType, spec.Shape);
            }
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
        return new Contents(tensors, metadata);
    }

    /// <summary>
    /// Checks the header's own checksum where the header carries one: null when it matches or is absent,
    /// else what is wrong (the header bytes were changed after writing).
    /// </summary>
    private static string? HeaderChecksumProblem(byte[] header)
    {
        int at = header.AsSpan().IndexOf(HeaderChecksumMarker);
        if (at < 0) return null;
        int value = at + HeaderChecksumMarker.Length;
        if (value + 8 > header.Length) return "header is damaged (its checksum is cut off)";
        string stored = Encoding.ASCII.GetString(header, value, 8);
        var copy = (byte[])header.Clone();
        Encoding.ASCII.GetBytes(ChecksumPlaceholder, copy.AsSpan(value, 8));
        uint actual = Crc32C.Compute(copy);
        return Crc32C.TryParse(stored, out uint expected) && expected == actual ? null
            : $"header (bytes 8..{8 + header.Length}) is damaged: its CRC-32C is {Crc32C.Format(actual)}, it records {stored}";
    }

    private static int ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" => 8,
        "F32" or "I32" => 4,
        "F16" or "BF16" => 2,
        "U8" or "BOOL" => 1,
        _ => 0,
    };

    private static (string, string, long[], long, long) ParseSpec(string path, string name, JsonNode? node, long dataLength)
    {
        string where = $"{path}: tensor '{name}'";
        if (node is not JsonObject spec) throw new CheckpointException($"{where}: header entry is not an object.");
        string dtype = spec["dtype"] is JsonValue d && d.TryGetValue(out string? s) ? s : throw new CheckpointException($"{where}: missing dtype.");
        int size = ElementSize(dtype);
        if (size == 0) throw new CheckpointException($"{where}: unsupported dtype '{dtype}' (F32, F64, F16, BF16, I64, I32, U8, BOOL are read).");
        if (spec["shape"] is not JsonArray shapeNode) throw new CheckpointException($"{where}: missing shape.");
        long[] shape = new long[shapeNode.Count];
        for (int i = 0; i < shape.Length; i++)
        {
            if (shapeNode[i] is not JsonValue v || !v.TryGetValue(out long dim) || dim < 0)
                throw new CheckpointException($"{where}: shape entry {i} is not a non-negative integer.");
            shape[i] = dim;
        }
        if (spec["data_offsets"] is not JsonArray offsets || offsets.Count != 2
            || offsets[0] is not JsonValue b || !b.TryGetValue(out long begin)
            || offsets[1] is not JsonValue e || !e.TryGetValue(out long end) || begin < 0 || end < begin)
            throw new CheckpointException($"{where}: data_offsets must be [begin, end] with 0 <= begin <= end.");
        long expected = shape.Aggregate(1L, (a, x) => a * x) * size;
        if (end - begin != expected)
            throw new CheckpointException($"{where}: shape [{string.Join(", ", shape)}] of {dtype} needs {expected} bytes, data_offsets give {end - begin}.");
        if (end > dataLength)
            throw new CheckpointException($"{where}: data ends at byte {end} of the data section, which has only {dataLength} bytes (file truncated).");
        return (name, dtype, shape, begin, end);
    }

    private static void CheckNoOverlap(string path, List<(string Name, string DType, long[] Shape, long Begin, long End)> specs)
    {
        var sorted = specs.Where(s => s.End > s.Begin).OrderBy(s => s.Begin).ToList();
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i].Begin < sorted[i - 1].End)
                throw new CheckpointException($"{path}: tensors '{sorted[i - 1].Name}' and '{sorted[i].Name}' overlap in the data section.");
    }

    private static Tensor ToTensor(byte[] raw, string dtype, long[] shape)
    {
        switch (dtype)
        {
            case "F32":
                return tensor(MemoryMarshal.Cast<byte, float>(raw).ToArray(), shape);
            case "F64":
                return tensor(MemoryMarshal.Cast<byte, double>(raw).ToArray(), shape);
            case "F16":
            {
                var src = MemoryMarshal.Cast<byte, Half>(raw);
                var dst = new float[src.Length];
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)src[i];
                return tensor(dst, shape);
            }
            case "BF16":
            {
                // bfloat16 is the upper half of an IEEE float32.
                var src = MemoryMarshal.Cast<byte, ushort>(raw);
                var dst = new float[src.Length];
                for (int i = 0; i < dst.Length; i++) dst[i] = BitConverter.Int32BitsToSingle(src[i] << 16);
                return tensor(dst, shape);
            }
            case "I64":
                return tensor(MemoryMarshal.Cast<byte, long>(raw).ToArray(), shape);
            case "I32":
                return tensor(MemoryMarshal.Cast<byte, int>(raw).ToArray(), shape);
            case "U8":
                return tensor(raw, shape);
            case "BOOL":
                return tensor(raw.Select(x => x != 0).ToArray(), shape);
            default:
                throw new InvalidOperationException($"dtype {dtype} passed validation but has no conversion.");
        }
    }
}
