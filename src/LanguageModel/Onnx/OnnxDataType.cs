namespace RLAgents.LanguageModel.Onnx;

/// <summary>Element types of ONNX tensors (onnx.proto <c>TensorProto.DataType</c>, same numbers).</summary>
public enum OnnxDataType
{
    /// <summary>Not set.</summary>
    Undefined = 0,
    /// <summary>32-bit IEEE float.</summary>
    Float = 1,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 2,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 3,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 4,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 5,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 7,
    /// <summary>UTF-8 string (stored in <c>string_data</c>, never in raw_data).</summary>
    String = 8,
    /// <summary>Boolean, one byte an element in raw_data.</summary>
    Bool = 9,
    /// <summary>16-bit IEEE half float.</summary>
    Float16 = 10,
    /// <summary>64-bit IEEE float.</summary>
    Double = 11,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 12,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 13,
    /// <summary>Two float32 (real, imaginary).</summary>
    Complex64 = 14,
    /// <summary>Two float64 (real, imaginary).</summary>
    Complex128 = 15,
    /// <summary>bfloat16: the upper 16 bits of a float32.</summary>
    BFloat16 = 16,
}

/// <summary>Facts about <see cref="OnnxDataType"/> values.</summary>
public static class OnnxDataTypes
{
    /// <summary>Bytes per element in <c>raw_data</c>; 0 for types without a fixed width (string) or unknown types.</summary>
    public static int ElementSize(OnnxDataType type) => type switch
    {
        OnnxDataType.Float or OnnxDataType.Int32 or OnnxDataType.UInt32 => 4,
        OnnxDataType.Double or OnnxDataType.Int64 or OnnxDataType.UInt64 or OnnxDataType.Complex64 => 8,
        OnnxDataType.Complex128 => 16,
        OnnxDataType.Float16 or OnnxDataType.BFloat16 or OnnxDataType.Int16 or OnnxDataType.UInt16 => 2,
        OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.Bool => 1,
        _ => 0,
    };
}
