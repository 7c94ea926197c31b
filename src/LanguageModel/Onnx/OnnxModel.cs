using Google.Protobuf;
using RLAgents.Core;
using RLAgents.LanguageModel.Checkpoints;

namespace RLAgents.LanguageModel.Onnx;

/// <summary>
/// An ONNX model file (onnx.proto <c>ModelProto</c>): IR version, imported operator sets, producer,
/// metadata and the main graph. <see cref="Read(Stream, string)"/> and <see cref="Write(Stream)"/>
/// round-trip every field, modelled or not, so a model read and written back runs the same.
/// </summary>
public sealed class OnnxModel : OnnxMessage
{
    /// <summary><c>ir_version</c> (field 1).</summary>
    public long? IrVersion { get; set; }

    /// <summary><c>producer_name</c> (field 2), e.g. "pytorch".</summary>
    public string? ProducerName { get; set; }

    /// <summary><c>producer_version</c> (field 3).</summary>
    public string? ProducerVersion { get; set; }

    /// <summary><c>domain</c> (field 4).</summary>
    public string? Domain { get; set; }

    /// <summary><c>model_version</c> (field 5).</summary>
    public long? ModelVersion { get; set; }

    /// <summary><c>doc_string</c> (field 6).</summary>
    public string? DocString { get; set; }

    /// <summary><c>graph</c> (field 7).</summary>
    public OnnxGraph? Graph { get; set; }

    /// <summary><c>opset_import</c> (field 8).</summary>
    public List<OnnxOperatorSetId> OpsetImports { get; } = [];

    /// <summary><c>metadata_props</c> (field 14).</summary>
    public List<OnnxStringEntry> MetadataProps { get; } = [];

    /// <summary>The imported version of the default ONNX operator set, or null.</summary>
    public long? DefaultOpsetVersion => OpsetImports.FirstOrDefault(o => string.IsNullOrEmpty(o.Domain) || o.Domain == "ai.onnx")?.Version;

    /// <summary>
    /// Reads a model from <paramref name="stream"/> (to its end). <paramref name="source"/> names the
    /// stream in errors: a malformed file throws <see cref="CheckpointException"/> with one line naming
    /// it and the byte offset where parsing stopped.
    /// </summary>
    public static OnnxModel Read(Stream stream, string source)
    {
        var model = new OnnxModel();
        using var input = new CodedInputStream(stream, leaveOpen: true);
        try
        {
            model.MergeFrom(input);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidDataException)
        {
            throw new CheckpointException($"{source}: not a valid ONNX model (at byte {input.Position}: {e.Message})");
        }
        if (model.Graph is null) throw new CheckpointException($"{source}: the ONNX model has no graph.");
        return model;
    }

    /// <summary>Reads the model file at <paramref name="path"/>.</summary>
    public static OnnxModel Read(string path)
    {
        if (!File.Exists(path)) throw new CheckpointException($"{path}: file not found.");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(stream, path);
    }

    /// <summary>Parses a model from bytes.</summary>
    public static OnnxModel Parse(ReadOnlyMemory<byte> bytes, string source)
    {
        using var stream = new MemoryStream(bytes.ToArray(), writable: false);
        return Read(stream, source);
    }

    /// <summary>Serializes the model to <paramref name="stream"/>.</summary>
    public void Write(Stream stream)
    {
        long size = CalculateSize();
        if (size > int.MaxValue) throw new InvalidOperationException($"The model is {size} bytes; ONNX files over 2 GB need external data, which is not supported.");
        using var output = new CodedOutputStream(stream, leaveOpen: true);
        WriteTo(output);
        output.Flush();
    }

    /// <summary>Writes the model to <paramref name="path"/> atomically (temp file, then rename).</summary>
    public void Save(string path) => AtomicFile.Write(path, Write);

    private protected override bool MergeField(CodedInputStream input, uint tag)
    {
        switch (WireFormat.GetTagFieldNumber(tag))
        {
            case 1: IrVersion = input.ReadInt64(); return true;
            case 2: ProducerName = input.ReadString(); return true;
            case 3: ProducerVersion = input.ReadString(); return true;
            case 4: Domain = input.ReadString(); return true;
            case 5: ModelVersion = input.ReadInt64(); return true;
            case 6: DocString = input.ReadString(); return true;
            case 7: Graph = ReadMessage<OnnxGraph>(input); return true;
            case 8: OpsetImports.Add(ReadMessage<OnnxOperatorSetId>(input)); return true;
            case 14: MetadataProps.Add(ReadMessage<OnnxStringEntry>(input)); return true;
            default: return false;
        }
    }

    private protected override long ComputeFieldsSize() =>
        Int64Size(1, IrVersion) + StringSize(2, ProducerName) + StringSize(3, ProducerVersion) + StringSize(4, Domain)
        + Int64Size(5, ModelVersion) + StringSize(6, DocString) + MessageSize(7, Graph) + MessagesSize(8, OpsetImports)
        + MessagesSize(14, MetadataProps);

    private protected override void WriteFields(CodedOutputStream output)
    {
        WriteInt64(output, 1, IrVersion);
        WriteString(output, 2, ProducerName);
        WriteString(output, 3, ProducerVersion);
        WriteString(output, 4, Domain);
        WriteInt64(output, 5, ModelVersion);
        WriteString(output, 6, DocString);
        WriteMessage(output, 7, Graph);
        WriteMessages(output, 8, OpsetImports);
        WriteMessages(output, 14, MetadataProps);
    }
}
