using Google.Protobuf;

namespace RLAgents.LanguageModel.Onnx;

/// <summary>
/// A computation graph (onnx.proto <c>GraphProto</c>): nodes in topological order, named constant
/// tensors (initializers), and typed inputs and outputs. <see cref="Consumers"/> and
/// <see cref="Producer"/> answer the questions a loader asks when it resolves weights by following
/// the graph rather than by their generated names.
/// </summary>
public sealed class OnnxGraph : OnnxMessage
{
    /// <summary><c>node</c> (field 1), topologically sorted.</summary>
    public List<OnnxNode> Nodes { get; } = [];

    /// <summary><c>name</c> (field 2).</summary>
    public string? Name { get; set; }

    /// <summary><c>initializer</c> (field 5): weights and constants, by name.</summary>
    public List<OnnxTensor> Initializers { get; } = [];

    /// <summary><c>doc_string</c> (field 10).</summary>
    public string? DocString { get; set; }

    /// <summary><c>input</c> (field 11).</summary>
    public List<OnnxValueInfo> Inputs { get; } = [];

    /// <summary><c>output</c> (field 12).</summary>
    public List<OnnxValueInfo> Outputs { get; } = [];

    /// <summary><c>value_info</c> (field 13): types of intermediate values, where known.</summary>
    public List<OnnxValueInfo> ValueInfo { get; } = [];

    /// <summary>The nodes that take <paramref name="valueName"/> as an input, in graph order.</summary>
    public IEnumerable<OnnxNode> Consumers(string valueName) => Nodes.Where(n => n.Inputs.Contains(valueName));

    /// <summary>The node that produces <paramref name="valueName"/>, or null for graph inputs and initializers.</summary>
    public OnnxNode? Producer(string valueName) => Nodes.FirstOrDefault(n => n.Outputs.Contains(valueName));

    /// <summary>The initializer named <paramref name="name"/>, or null.</summary>
    public OnnxTensor? Initializer(string name) => Initializers.FirstOrDefault(t => t.Name == name);

    private protected override bool MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: Nodes.Add(ReadMessage<OnnxNode>(input)); return true;
            case 2: Name = input.ReadString(); return true;
            case 5: Initializers.Add(ReadMessage<OnnxTensor>(input)); return true;
            case 10: DocString = input.ReadString(); return true;
            case 11: Inputs.Add(ReadMessage<OnnxValueInfo>(input)); return true;
            case 12: Outputs.Add(ReadMessage<OnnxValueInfo>(input)); return true;
            case 13: ValueInfo.Add(ReadMessage<OnnxValueInfo>(input)); return true;
            default: return false;
        }
    }

    private protected override long ComputeFieldsSize() =>
        MessagesSize(1, Nodes) + StringSize(2, Name) + MessagesSize(5, Initializers) + StringSize(10, DocString)
        + MessagesSize(11, Inputs) + MessagesSize(12, Outputs) + MessagesSize(13, ValueInfo);

    private protected override void WriteFields(CodedOutputStream output)
    {
        WriteMessages(output, 1, Nodes);
        WriteString(output, 2, Name);
        WriteMessages(output, 5, Initializers);
        WriteString(output, 10, DocString);
        WriteMessages(output, 11, Inputs);
        WriteMessages(output, 12, Outputs);
        WriteMessages(output, 13, ValueInfo);
    }
}
