using Google.Protobuf;

namespace RLAgents.LanguageModel.Onnx;

/// <summary>One operator call in a graph (onnx.proto <c>NodeProto</c>); inputs and outputs are value names.</summary>
public sealed class OnnxNode : OnnxMessage
{
    /// <summary>Creates an empty node (for the reader).</summary>
    public OnnxNode() { }

    /// <summary>Creates a node of the default domain.</summary>
    public OnnxNode(string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, string? name = null, params OnnxAttribute[] attributes)
    {
        OpType = opType;
        Inputs.AddRange(inputs);
        Outputs.AddRange(outputs);
        Name = name;
        Attributes.AddRange(attributes);
    }

    /// <summary><c>input</c> (field 1); an empty name marks an omitted optional input.</summary>
    public List<string> Inputs { get; } = [];

    /// <summary><c>output</c> (field 2).</summary>
    public List<string> Outputs { get; } = [];

    /// <summary><c>name</c> (field 3).</summary>
    public string? Name { get; set; }

    /// <summary><c>op_type</c> (field 4), e.g. MatMul.</summary>
    public string? OpType { get; set; }

    /// <summary><c>attribute</c> (field 5).</summary>
    public List<OnnxAttribute> Attributes { get; } = [];

    /// <summary><c>doc_string</c> (field 6).</summary>
    public string? DocString { get; set; }

    /// <summary><c>domain</c> (field 7); empty or absent is the default ONNX domain.</summary>
    public string? Domain { get; set; }

    /// <summary>The attribute named <paramref name="name"/>, or null.</summary>
    public OnnxAttribute? Attribute(string name) => Attributes.FirstOrDefault(a => a.Name == name);

    /// <inheritdoc/>
    public override string ToString() => $"{OpType}({string.Join(", ", Inputs)}) -> {string.Join(", ", Outputs)}";

    private protected override bool MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: Inputs.Add(input.ReadString()); return true;
            case 2: Outputs.Add(input.ReadString()); return true;
            case 3: Name = input.ReadString(); return true;
            case 4: OpType = input.ReadString(); return true;
            case 5: Attributes.Add(ReadMessage<OnnxAttribute>(input)); return true;
            case 6: DocString = input.ReadString(); return true;
            case 7: Domain = input.ReadString(); return true;
            default: return false;
        }
    }

    private protected override long ComputeFieldsSize() =>
        StringsSize(1, Inputs) + StringsSize(2, Outputs) + StringSize(3, Name) + StringSize(4, OpType)
        + MessagesSize(5, Attributes) + StringSize(6, DocString) + StringSize(7, Domain);

    private protected override void WriteFields(CodedOutputStream output)
    {
        WriteStrings(output, 1, Inputs);
        WriteStrings(output, 2, Outputs);
        WriteString(output, 3, Name);
        WriteString(output, 4, OpType);
        WriteMessages(output, 5, Attributes);
        WriteString(output, 6, DocString);
        WriteString(output, 7, Domain);
    }
}
