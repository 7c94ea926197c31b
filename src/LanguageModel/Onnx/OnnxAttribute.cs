using System.Text;
using Google.Protobuf;

namespace RLAgents.LanguageModel.Onnx;

/// <summary>Which value an <see cref="OnnxAttribute"/> holds (onnx.proto <c>AttributeProto.AttributeType</c>, same numbers).</summary>
public enum OnnxAttributeType
{
    /// <summary>Not set.</summary>
    Undefined = 0,
    /// <summary>One float (<see cref="OnnxAttribute.F"/>).</summary>
    Float = 1,
    /// <summary>One int64 (<see cref="OnnxAttribute.I"/>).</summary>
    Int = 2,
    /// <summary>One byte string, usually UTF-8 (<see cref="OnnxAttribute.S"/>).</summary>
    String = 3,
    /// <summary>One tensor (<see cref="OnnxAttribute.T"/>).</summary>
    Tensor = 4,
    /// <summary>One graph (<see cref="OnnxAttribute.G"/>).</summary>
    Graph = 5,
    /// <summary>Floats (<see cref="OnnxAttribute.Floats"/>).</summary>
    Floats = 6,
    /// <summary>Int64s (<see cref="OnnxAttribute.Ints"/>).</summary>
    Ints = 7,
    /// <summary>Byte strings (<see cref="OnnxAttribute.Strings"/>).</summary>
    Strings = 8,
    /// <summary>Tensors (<see cref="OnnxAttribute.Tensors"/>).</summary>
    Tensors = 9,
    /// <summary>Graphs (<see cref="OnnxAttribute.Graphs"/>).</summary>
    Graphs = 10,
    /// <summary>A sparse tensor (kept as an unknown field).</summary>
    SparseTensor = 11,
    /// <summary>Sparse tensors (kept as unknown fields).</summary>
    SparseTensors = 12,
    /// <summary>A type (kept as an unknown field).</summary>
    TypeProto = 13,
    /// <summary>Types (kept as unknown fields).</summary>
    TypeProtos = 14,
}

/// <summary>
/// A named operator attribute (onnx.proto <c>AttributeProto</c>): exactly one value field is set
/// and <see cref="Type"/> says which. The factories (<see cref="Of(string, long)"/> and its
/// overloads) set both.
/// </summary>
public sealed class OnnxAttribute : OnnxMessage
{
    /// <summary><c>name</c> (field 1).</summary>
    public string? Name { get; set; }

    /// <summary><c>f</c> (field 2).</summary>
    public float? F { get; set; }

    /// <summary><c>i</c> (field 3).</summary>
    public long? I { get; set; }

    /// <summary><c>s</c> (field 4), bytes (UTF-8 for text).</summary>
    public byte[]? S { get; set; }

    /// <summary><c>t</c> (field 5).</summary>
    public OnnxTensor? T { get; set; }

    /// <summary><c>g</c> (field 6), a subgraph (If, Loop, Scan bodies).</summary>
    public OnnxGraph? G { get; set; }

    /// <summary><c>floats</c> (field 7).</summary>
    public List<float> Floats { get; } = [];

    /// <summary><c>ints</c> (field 8).</summary>
    public List<long> Ints { get; } = [];

    /// <summary><c>strings</c> (field 9).</summary>
    public List<byte[]> Strings { get; } = [];

    /// <summary><c>tensors</c> (field 10).</summary>
    public List<OnnxTensor> Tensors { get; } = [];

    /// <summary><c>graphs</c> (field 11).</summary>
    public List<OnnxGraph> Graphs { get; } = [];

    /// <summary><c>doc_string</c> (field 13).</summary>
    public string? DocString { get; set; }

    /// <summary><c>type</c> (field 20), which value field is in use.</summary>
    public OnnxAttributeType? Type { get; set; }

    /// <summary><c>ref_attr_name</c> (field 21), inside function bodies only.</summary>
    public string? RefAttrName { get; set; }

    /// <summary><see cref="S"/> as UTF-8 text.</summary>
    public string? StringValue => S is null ? null : Encoding.UTF8.GetString(S);

    /// <summary>An INT attribute.</summary>
    public static OnnxAttribute Of(string name, long value) => new() { Name = name, I = value, Type = OnnxAttributeType.Int };

    /// <summary>A FLOAT attribute.</summary>
    public static OnnxAttribute Of(string name, float value) => new() { Name = name, F = value, Type = OnnxAttributeType.Float };

    /// <summary>A STRING attribute (UTF-8).</summary>
    public static OnnxAttribute Of(string name, string value) => new() { Name = name, S = Encoding.UTF8.GetBytes(value), Type = OnnxAttributeType.String };

    /// <summary>A TENSOR attribute (e.g. a Constant's value).</summary>
    public static OnnxAttribute Of(string name, OnnxTensor value) => new() { Name = name, T = value, Type = OnnxAttributeType.Tensor };

    /// <summary>A GRAPH attribute.</summary>
    public static OnnxAttribute Of(string name, OnnxGraph value) => new() { Name = name, G = value, Type = OnnxAttributeType.Graph };

    /// <summary>An INTS attribute (e.g. axes, perm).</summary>
    public static OnnxAttribute Of(string name, params long[] values)
    {
        var a = new OnnxAttribute { Name = name, Type = OnnxAttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>A FLOATS attribute.</summary>
    public static OnnxAttribute Of(string name, params float[] values)
    {
        var a = new OnnxAttribute { Name = name, Type = OnnxAttributeType.Floats };
        a.Floats.AddRange(values);
        return a;
    }

    private protected override bool MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: Name = input.ReadString(); return true;
            case 2: F = input.ReadFloat(); return true;
            case 3: I = input.ReadInt64(); return true;
            case 4: S = input.ReadBytes().ToByteArray(); return true;
            case 5: T = ReadMessage<OnnxTensor>(input); return true;
            case 6: G = ReadMessage<OnnxGraph>(input); return true;
            case 7: ReadRepeated(input, tag, Floats, i => i.ReadFloat()); return true;
            case 8: ReadRepeated(input, tag, Ints, i => i.ReadInt64()); return true;
            case 9: Strings.Add(input.ReadBytes().ToByteArray()); return true;
            case 10: Tensors.Add(ReadMessage<OnnxTensor>(input)); return true;
            case 11: Graphs.Add(ReadMessage<OnnxGraph>(input)); return true;
            case 13: DocString = input.ReadString(); return true;
            case 20: Type = (OnnxAttributeType)input.ReadEnum(); return true;
            case 21: RefAttrName = input.ReadString(); return true;
            default: return false;
        }
    }

    private protected override long ComputeFieldsSize() =>
        StringSize(1, Name)
        + (F is null ? 0 : TagSize(2) + 4)
        + Int64Size(3, I)
        + BytesSize(4, S)
        + MessageSize(5, T)
        + MessageSize(6, G)
        + FixedSize(7, Floats.Count, 4, packed: false)
        + VarintsSize(8, Ints, CodedOutputStream.ComputeInt64Size, packed: false)
        + Strings.Sum(s => BytesSize(9, s))
        + MessagesSize(10, Tensors)
        + MessagesSize(11, Graphs)
        + StringSize(13, DocString)
        + Int32Size(20, (int?)Type)
        + StringSize(21, RefAttrName);

    private protected override void WriteFields(CodedOutputStream output)
    {
        WriteString(output, 1, Name);
        if (F is { } f)
        {
            output.WriteTag(2, WireFormat.WireType.Fixed32);
            output.WriteFloat(f);
        }
        WriteInt64(output, 3, I);
        WriteBytes(output, 4, S);
        WriteMessage(output, 5, T);
        WriteMessage(output, 6, G);
        WriteFixed(output, 7, Floats, 4, output.WriteFloat, packed: false);
        WriteVarints(output, 8, Ints, CodedOutputStream.ComputeInt64Size, output.WriteInt64, packed: false);
        foreach (var s in Strings) WriteBytes(output, 9, s);
        WriteMessages(output, 10, Tensors);
        WriteMessages(output, 11, Graphs);
        WriteString(output, 13, DocString);
        WriteInt32(output, 20, (int?)Type);
        WriteString(output, 21, RefAttrName);
    }
}
