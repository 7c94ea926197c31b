using Google.Protobuf;

namespace RLAgents.LanguageModel.Onnx;

/// <summary>A key/value pair (onnx.proto <c>StringStringEntryProto</c>): model metadata, external-data locations.</summary>
public sealed class OnnxStringEntry : OnnxMessage
{
    /// <summary>Creates an empty entry (for the reader).</summary>
    public OnnxStringEntry() { }

    /// <summary>Creates an entry.</summary>
    public OnnxStringEntry(string key, string value)
    {
        Key = key;
        Value = value;
    }

    /// <summary><c>key</c> (field 1).</summary>
    public string? Key { get; set; }

    /// <summary><c>value</c> (field 2).</summary>
    public string? Value { get; set; }

    private protected override bool MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: Key = input.ReadString(); return true;
            case 2: Value = input.ReadString(); return true;
            default: return false;
        }
    }

    private protected override long ComputeFieldsSize() => StringSize(1, Key) + StringSize(2, Value);

    private protected override void WriteFields(CodedOutputStream output)
    {
        WriteString(output, 1, Key);
        WriteString(output, 2, Value);
    }
}

/// <summary>An operator set a model imports (onnx.proto <c>OperatorSetIdProto</c>).</summary>
public sealed class OnnxOperatorSetId : OnnxMessage
{
    /// <summary>Creates an empty entry (for the reader).</summary>
    public OnnxOperatorSetId() { }

    /// <summary>Creates an import of <paramref name="domain"/> ("" = the default ONNX domain) at <paramref name="version"/>.</summary>
    public OnnxOperatorSetId(string domain, long version)
    {
        Domain = domain;
        Version = version;
    }

    /// <summary><c>domain</c> (field 1); empty or absent is the default <c>ai.onnx</c> domain.</summary>
    public string? Domain { get; set; }

    /// <summary><c>version</c> (field 2).</summary>
    public long? Version { get; set; }

    private protected override bool MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: Domain = input.ReadString(); return true;
            case 2: Version = input.ReadInt64(); return true;
            default: return false;
        }
    }

    private protected override long ComputeFieldsSize() => StringSize(1, Domain) + Int64Size(2, Version);

    private protected override void WriteFields(CodedOutputStream output)
    {
        WriteString(output, 1, Domain);
        WriteInt64(output, 2, Version);
    }
}

/// <summary>A graph input, output or intermediate value with its type (onnx.proto <c>ValueInfoProto</c>).</summary>
public sealed class OnnxValueInfo : OnnxMessage
{
    /// <summary><c>name</c> (field 1).</summary>
    public string? Name { get; set; }

    /// <summary><c>type</c> (field 2).</summary>
    public OnnxType? Type { get; set; }

    /// <summary><c>doc_string</c> (field 3).</summary>
    public string? DocString { get; set; }

    /// <summary>
    /// A tensor value: <paramref name="dims"/> entries are fixed sizes (long) or symbolic names
    /// (string, e.g. "batch"), as exporters write dynamic axes.
    /// </summary>
    public static OnnxValueInfo Tensor(string name, OnnxDataType elementType, params object[] dims)
    {
        var shape = new OnnxTensorShape();
        foreach (var d in dims)
            shape.Dims.Add(d switch
            {
                long v => new OnnxDimension { Value = v },
                int v => new OnnxDimension { Value = v },
                string p => new OnnxDimension { Param = p },
                _ => throw new ArgumentException($"Dimension {d} of '{name}' must be a size (int, long) or a symbolic name (string).", nameof(dims)),
            });
        return new OnnxValueInfo { Name = name, Type = new OnnxType { TensorType = new OnnxTensorType { ElementType = elementType, Shape = shape } } };
    }

    private protected override bool MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: Name = input.ReadString(); return true;
            case 2: Type = ReadMessage<OnnxType>(input); return true;
            case 3: DocString = input.ReadString(); return true;
            default: return false;
        }
    }

    private protected override long ComputeFieldsSize() => StringSize(1, Name) + MessageSize(2, Type) + StringSize(3, DocString);

    private protected override void WriteFields(CodedOutputStream output)
    {
        WriteString(output, 1, Name);
        WriteMessage(output, 2, Type);
        WriteString(output, 3, DocString);
    }
}

/// <summary>
/// A value's type (onnx.proto <c>TypeProto</c>). Tensor types are modelled; sequence, map, optional
/// and sparse types are kept as unknown fields and written back unchanged.
/// </summary>
public sealed class OnnxType : OnnxMessage
{
    /// <summary><c>tensor_type</c> (field 1).</summary>
    public OnnxTensorType? TensorType { get; set; }

    /// <summary><c>denotation</c> (field 6).</summary>
    public string? Denotation { get; set; }

    private protected override bool MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: TensorType = ReadMessage<OnnxTensorType>(input); return true;
            case 6: Denotation = input.ReadString(); return true;
            default: return false;
        }
    }

    private protected override long ComputeFieldsSize() => MessageSize(1, TensorType) + StringSize(6, Denotation);

    private protected override void WriteFields(CodedOutputStream output)
    {
        WriteMessage(output, 1, TensorType);
        WriteString(output, 6, Denotation);
    }
}

/// <summary>A tensor type: element type and optional shape (onnx.proto <c>TypeProto.Tensor</c>).</summary>
public sealed class OnnxTensorType : OnnxMessage
{
    /// <summary><c>elem_type</c> (field 1).</summary>
    public OnnxDataType? ElementType { get; set; }

    /// <summary><c>shape</c> (field 2); null = rank unknown.</summary>
    public OnnxTensorShape? Shape { get; set; }

    private protected override bool MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: ElementType = (OnnxDataType)input.ReadInt32(); return true;
            case 2: Shape = ReadMessage<OnnxTensorShape>(input); return true;
            default: return false;
        }
    }

    private protected override long ComputeFieldsSize() => Int32Size(1, (int?)ElementType) + MessageSize(2, Shape);

    private protected override void WriteFields(CodedOutputStream output)
    {
        WriteInt32(output, 1, (int?)ElementType);
        WriteMessage(output, 2, Shape);
    }
}

/// <summary>A tensor shape (onnx.proto <c>TensorShapeProto</c>).</summary>
public sealed class OnnxTensorShape : OnnxMessage
{
    /// <summary><c>dim</c> (field 1), outermost first.</summary>
    public List<OnnxDimension> Dims { get; } = [];

    private protected override bool MergeField(CodedInputStream input, uint tag)
    {
        if (WireFormat.GetTagFieldNumber(tag) != 1) return false;
        Dims.Add(ReadMessage<OnnxDimension>(input));
        return true;
    }

    private protected override long ComputeFieldsSize() => MessagesSize(1, Dims);

    private protected override void WriteFields(CodedOutputStream output) => WriteMessages(output, 1, Dims);
}

/// <summary>One dimension of a shape: a fixed size or a symbolic name (onnx.proto <c>TensorShapeProto.Dimension</c>).</summary>
public sealed class OnnxDimension : OnnxMessage
{
    /// <summary><c>dim_value</c> (field 1).</summary>
    public long? Value { get; set; }

    /// <summary><c>dim_param</c> (field 2), e.g. "batch".</summary>
    public string? Param { get; set; }

    /// <summary><c>denotation</c> (field 3).</summary>
    public string? Denotation { get; set; }

    /// <inheritdoc/>
    public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Param ?? "?";

    private protected override bool MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: Value = input.ReadInt64(); Param = null; return true;
            case 2: Param = input.ReadString(); Value = null; return true;
            case 3: Denotation = input.ReadString(); return true;
            default: return false;
        }
    }

    private protected override long ComputeFieldsSize() => Int64Size(1, Value) + StringSize(2, Param) + StringSize(3, Denotation);

    private protected override void WriteFields(CodedOutputStream output)
    {
        WriteInt64(output, 1, Value);
        WriteString(output, 2, Param);
        WriteString(output, 3, Denotation);
    }
}
