using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf;
using RLAgents.LanguageModel.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Onnx;

/// <summary>
/// A serialized tensor (onnx.proto <c>TensorProto</c>): an initializer, a Constant's value or an
/// attribute. The elements live in exactly one of <see cref="RawData"/> (little-endian, fixed width)
/// or the typed field that matches <see cref="DataType"/>; <see cref="GetDataBytes"/> and
/// <see cref="ToTensor"/> read either. Tensors built here (<see cref="FromTensor"/>,
/// <see cref="FromArray{T}"/>) always use raw_data, as PyTorch's exporter does.
/// </summary>
public sealed class OnnxTensor : OnnxMessage
{
    /// <summary>Shape (<c>dims</c>, field 1); empty for a scalar.</summary>
    public List<long> Dims { get; } = [];

    /// <summary>Element type (<c>data_type</c>, field 2).</summary>
    public OnnxDataType? DataType { get; set; }

    /// <summary>Elements of FLOAT / COMPLEX64 tensors (<c>float_data</c>, field 4, packed).</summary>
    public List<float> FloatData { get; } = [];

    /// <summary>Elements of INT32, INT16, INT8, UINT16, UINT8, BOOL, FLOAT16 and BFLOAT16 (bit patterns) tensors (<c>int32_data</c>, field 5, packed).</summary>
    public List<int> Int32Data { get; } = [];

    /// <summary>UTF-8 elements of STRING tensors (<c>string_data</c>, field 6).</summary>
    public List<byte[]> StringData { get; } = [];

    /// <summary>Elements of INT64 tensors (<c>int64_data</c>, field 7, packed).</summary>
    public List<long> Int64Data { get; } = [];

    /// <summary>Name (<c>name</c>, field 8); initializers are referenced by it.</summary>
    public string? Name { get; set; }

    /// <summary>Little-endian fixed-width elements (<c>raw_data</c>, field 9); null when absent.</summary>
    public ReadOnlyMemory<byte>? RawData { get; set; }

    /// <summary>Elements of DOUBLE / COMPLEX128 tensors (<c>double_data</c>, field 10, packed).</summary>
    public List<double> DoubleData { get; } = [];

    /// <summary>Elements of UINT32 / UINT64 tensors (<c>uint64_data</c>, field 11, packed).</summary>
    public List<ulong> UInt64Data { get; } = [];

    /// <summary>Documentation (<c>doc_string</c>, field 12).</summary>
    public string? DocString { get; set; }

    /// <summary>Where externally stored data lives (<c>external_data</c>, field 13: location, offset, length, checksum).</summary>
    public List<OnnxStringEntry> ExternalData { get; } = [];

    /// <summary><c>data_location</c> (field 14): 0 = in this message, 1 = external.</summary>
    public int? DataLocation { get; set; }

    /// <summary>Number of elements (product of <see cref="Dims"/>; 1 for a scalar).</summary>
    public long ElementCount => Dims.Aggregate(1L, (a, d) => a * d);

    /// <summary>Whether the elements are stored outside the model file (not supported by the readers here).</summary>
    public bool IsExternal => DataLocation == 1 || ExternalData.Count > 0;

    private string Describe => $"ONNX tensor '{Name}'";

    /// <summary>
    /// The elements as little-endian bytes, from raw_data or converted from the typed field, checked
    /// against <see cref="Dims"/> and <see cref="DataType"/>. Throws <see cref="CheckpointException"/>
    /// for string, external or inconsistent tensors.
    /// </summary>
    public ReadOnlyMemory<byte> GetDataBytes()
    {
        var type = DataType ?? OnnxDataType.Undefined;
        if (IsExternal) throw new CheckpointException($"{Describe}: data is stored in an external file, which is not supported.");
        int size = OnnxDataTypes.ElementSize(type);
        if (size == 0) throw new CheckpointException($"{Describe}: data type {type} has no fixed-width byte form.");
        long count = ElementCount;
        long expected = count * size;
        if (RawData is { } raw)
        {
            if (raw.Length != expected)
                throw new CheckpointException($"{Describe}: raw_data has {raw.Length} bytes, shape [{string.Join(", ", Dims)}] of {type} needs {expected}.");
            return raw;
        }
        var bytes = new byte[expected];
        var span = bytes.AsSpan();
        void Check(int available, string field)
        {
            if (available != (type is OnnxDataType.Complex64 or OnnxDataType.Complex128 ? 2 * count : count))
                throw new CheckpointException($"{Describe}: {field} has {available} elements, shape [{string.Join(", ", Dims)}] needs {count}.");
        }
        switch (type)
        {
            case OnnxDataType.Float or OnnxDataType.Complex64:
                Check(FloatData.Count, "float_data");
                for (int i = 0; i < FloatData.Count; i++) BinaryPrimitives.WriteSingleLittleEndian(span[(4 * i)..], FloatData[i]);
                break;
            case OnnxDataType.Double or OnnxDataType.Complex128:
                Check(DoubleData.Count, "double_data");
                for (int i = 0; i < DoubleData.Count; i++) BinaryPrimitives.WriteDoubleLittleEndian(span[(8 * i)..], DoubleData[i]);
                break;
            case OnnxDataType.Int64:
                Check(Int64Data.Count, "int64_data");
                for (int i = 0; i < Int64Data.Count; i++) BinaryPrimitives.WriteInt64LittleEndian(span[(8 * i)..], Int64Data[i]);
                break;
            case OnnxDataType.UInt32 or OnnxDataType.UInt64:
                Check(UInt64Data.Count, "uint64_data");
                for (int i = 0; i < UInt64Data.Count; i++)
                {
                    if (size == 4) BinaryPrimitives.WriteUInt32LittleEndian(span[(4 * i)..], checked((uint)UInt64Data[i]));
                    else BinaryPrimitives.WriteUInt64LittleEndian(span[(8 * i)..], UInt64Data[i]);
                }
                break;
            default:
                // INT32 and the narrower types: one int32_data element each, truncated to the type's width.
                Check(Int32Data.Count, "int32_data");
                for (int i = 0; i < Int32Data.Count; i++)
                {
                    int v = Int32Data[i];
                    switch (size)
                    {
                        case 4: BinaryPrimitives.WriteInt32LittleEndian(span[(4 * i)..], v); break;
                        case 2: BinaryPrimitives.WriteUInt16LittleEndian(span[(2 * i)..], unchecked((ushort)v)); break;
                        default: span[i] = unchecked((byte)v); break;
                    }
                }
                break;
        }
        return bytes;
    }

    /// <summary>
    /// A CPU torch tensor with this tensor's shape and elements. FLOAT, DOUBLE, FLOAT16, BFLOAT16,
    /// INT64, INT32, INT16, INT8, UINT8 and BOOL map to the torch dtype of the same name.
    /// </summary>
    public Tensor ToTensor()
    {
        var type = DataType ?? OnnxDataType.Undefined;
        ScalarType dtype = type switch
        {
            OnnxDataType.Float => ScalarType.Float32,
            OnnxDataType.Double => ScalarType.Float64,
            OnnxDataType.Float16 => ScalarType.Float16,
            OnnxDataType.BFloat16 => ScalarType.BFloat16,
            OnnxDataType.Int64 => ScalarType.Int64,
            OnnxDataType.Int32 => ScalarType.Int32,
            OnnxDataType.Int16 => ScalarType.Int16,
            OnnxDataType.Int8 => ScalarType.Int8,
            OnnxDataType.UInt8 => ScalarType.Byte,
            OnnxDataType.Bool => ScalarType.Bool,
            _ => throw new CheckpointException($"{Describe}: data type {type} cannot be converted to a torch tensor."),
        };
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX tensor conversion assumes a little-endian machine.");
        var bytes = GetDataBytes();
        var result = empty(Dims.ToArray(), dtype);
        // The fresh tensor is contiguous; its storage takes the little-endian bytes as they are
        // (the setter only reads the span, so the read-only bytes are not written through).
        result.bytes = MemoryMarshal.AsMemory(bytes).Span;
        return result;
    }

    /// <summary>A raw_data tensor holding a (contiguous, CPU) copy of <paramref name="value"/>.</summary>
    public static OnnxTensor FromTensor(string name, Tensor value)
    {
        var type = value.dtype switch
        {
            ScalarType.Float32 => OnnxDataType.Float,
            ScalarType.Float64 => OnnxDataType.Double,
            ScalarType.Float16 => OnnxDataType.Float16,
            ScalarType.BFloat16 => OnnxDataType.BFloat16,
            ScalarType.Int64 => OnnxDataType.Int64,
            ScalarType.Int32 => OnnxDataType.Int32,
            ScalarType.Int16 => OnnxDataType.Int16,
            ScalarType.Int8 => OnnxDataType.Int8,
            ScalarType.Byte => OnnxDataType.UInt8,
            ScalarType.Bool => OnnxDataType.Bool,
            _ => throw new ArgumentException($"Tensor '{name}': dtype {value.dtype} has no ONNX equivalent here.", nameof(value)),
        };
        using var scope = NewDisposeScope();
        var tensor = new OnnxTensor { Name = name, DataType = type, RawData = value.detach().cpu().contiguous().bytes.ToArray() };
        tensor.Dims.AddRange(value.shape);
        return tensor;
    }

    /// <summary>A raw_data tensor from an array of float, double, long, int, short, sbyte, byte, bool or Half.</summary>
    public static OnnxTensor FromArray<T>(string name, long[] dims, T[] values) where T : unmanaged
    {
        var type = default(T) switch
        {
            float => OnnxDataType.Float,
            double => OnnxDataType.Double,
            long => OnnxDataType.Int64,
            int => OnnxDataType.Int32,
            short => OnnxDataType.Int16,
            sbyte => OnnxDataType.Int8,
            byte => OnnxDataType.UInt8,
            bool => OnnxDataType.Bool,
            Half => OnnxDataType.Float16,
            _ => throw new ArgumentException($"Tensor '{name}': element type {typeof(T).Name} has no ONNX equivalent here."),
        };
        long count = dims.Aggregate(1L, (a, d) => a * d);
        if (count != values.Length) throw new ArgumentException($"Tensor '{name}': shape [{string.Join(", ", dims)}] needs {count} elements, got {values.Length}.");
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX tensor conversion assumes a little-endian machine.");
        var tensor = new OnnxTensor { Name = name, DataType = type, RawData = MemoryMarshal.AsBytes(values.AsSpan()).ToArray() };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    private protected override bool MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: ReadRepeated(input, tag, Dims, i => i.ReadInt64()); return true;
            case 2: DataType = (OnnxDataType)input.ReadInt32(); return true;
            case 4: ReadRepeated(input, tag, FloatData, i => i.ReadFloat()); return true;
            case 5: ReadRepeated(input, tag, Int32Data, i => i.ReadInt32()); return true;
            case 6: StringData.Add(input.ReadBytes().ToByteArray()); return true;
            case 7: ReadRepeated(input, tag, Int64Data, i => i.ReadInt64()); return true;
            case 8: Name = input.ReadString(); return true;
            case 9: RawData = ReadBytes(input); return true;
            case 10: ReadRepeated(input, tag, DoubleData, i => i.ReadDouble()); return true;
            case 11: ReadRepeated(input, tag, UInt64Data, i => i.ReadUInt64()); return true;
            case 12: DocString = input.ReadString(); return true;
            case 13: ExternalData.Add(ReadMessage<OnnxStringEntry>(input)); return true;
            case 14: DataLocation = input.ReadEnum(); return true;
            default: return false;
        }
    }

    private protected override long ComputeFieldsSize() =>
        VarintsSize(1, Dims, CodedOutputStream.ComputeInt64Size, packed: false)
        + Int32Size(2, (int?)DataType)
        + FixedSize(4, FloatData.Count, 4, packed: true)
        + VarintsSize(5, Int32Data, CodedOutputStream.ComputeInt32Size, packed: true)
        + StringData.Sum(s => (long)TagSize(6) + CodedOutputStream.ComputeLengthSize(s.Length) + s.Length)
        + VarintsSize(7, Int64Data, CodedOutputStream.ComputeInt64Size, packed: true)
        + StringSize(8, Name)
        + BytesSize(9, RawData)
        + FixedSize(10, DoubleData.Count, 8, packed: true)
        + VarintsSize(11, UInt64Data, CodedOutputStream.ComputeUInt64Size, packed: true)
        + StringSize(12, DocString)
        + MessagesSize(13, ExternalData)
        + Int32Size(14, DataLocation);

    private protected override void WriteFields(CodedOutputStream output)
    {
        WriteVarints(output, 1, Dims, CodedOutputStream.ComputeInt64Size, output.WriteInt64, packed: false);
        WriteInt32(output, 2, (int?)DataType);
        WriteFixed(output, 4, FloatData, 4, output.WriteFloat, packed: true);
        WriteVarints(output, 5, Int32Data, CodedOutputStream.ComputeInt32Size, output.WriteInt32, packed: true);
        foreach (var s in StringData) WriteBytes(output, 6, s);
        WriteVarints(output, 7, Int64Data, CodedOutputStream.ComputeInt64Size, output.WriteInt64, packed: true);
        WriteString(output, 8, Name);
        WriteBytes(output, 9, RawData);
        WriteFixed(output, 10, DoubleData, 8, output.WriteDouble, packed: true);
        WriteVarints(output, 11, UInt64Data, CodedOutputStream.ComputeUInt64Size, output.WriteUInt64, packed: true);
        WriteString(output, 12, DocString);
        WriteMessages(output, 13, ExternalData);
        WriteInt32(output, 14, DataLocation);
    }
}
