using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace RLAgents.LanguageModel.Onnx;

/// <summary>
/// Base of the ONNX protobuf messages (onnx.proto, proto2 syntax), read and written with
/// Google.Protobuf's <see cref="CodedInputStream"/> / <see cref="CodedOutputStream"/>. Each message
/// models the fields RLAgents reads or writes; every other field (newer IR additions such as
/// functions, sparse initializers, per-node metadata) is kept verbatim as an unknown field and written
/// back, so reading and writing a model loses nothing. Optional scalars are nullable: null means the
/// field is absent, which keeps proto2 presence through a round trip. Known fields are written in
/// field-number order, as the reference C++ serializer does, with unknown fields after them.
/// </summary>
public abstract class OnnxMessage
{
    private UnknownFieldSet? _unknown;

    /// <summary>Whether the message carried fields this reader does not model (kept and written back unchanged).</summary>
    public bool HasUnknownFields => _unknown is not null && _unknown.CalculateSize() > 0;

    /// <summary>Reads one field whose tag has just been read; returns false if the field is not modelled.</summary>
    private protected abstract bool MergeField(CodedInputStream input, uint tag);

    /// <summary>Size in bytes of the modelled fields.</summary>
    private protected abstract long ComputeFieldsSize();

    /// <summary>Writes the modelled fields in field-number order.</summary>
    private protected abstract void WriteFields(CodedOutputStream output);

    /// <summary>Serialized size in bytes of this message (without an enclosing tag or length).</summary>
    public long CalculateSize() => ComputeFieldsSize() + (_unknown?.CalculateSize() ?? 0);

    /// <summary>Reads fields until the end of the input (or of the enclosing message's length limit).</summary>
    internal void MergeFrom(CodedInputStream input)
    {
        uint tag;
        while ((tag = input.ReadTag()) != 0)
            if (!MergeField(input, tag)) _unknown = UnknownFieldSet.MergeFieldFrom(_unknown, input);
    }

    /// <summary>Writes this message's fields (no enclosing tag or length).</summary>
    internal void WriteTo(CodedOutputStream output)
    {
        WriteFields(output);
        _unknown?.WriteTo(output);
    }

    /// <summary>Serializes this message to a new byte array.</summary>
    public byte[] ToByteArray()
    {
        long size = CalculateSize();
        if (size > int.MaxValue) throw new InvalidOperationException($"The message is {size} bytes; protobuf messages are limited to 2 GB.");
        var bytes = new byte[size];
        var output = new CodedOutputStream(bytes);
        WriteTo(output);
        output.CheckNoSpaceLeft();
        return bytes;
    }

    // ---- helpers for the concrete messages ----

    private protected static uint Tag(int field, WireFormat.WireType type) => WireFormat.MakeTag(field, type);

    private protected static int TagSize(int field) => CodedOutputStream.ComputeTagSize(field);

    private protected static T ReadMessage<T>(CodedInputStream input) where T : OnnxMessage, new()
    {
        var message = new T();
        input.ReadMessage(new NestedReader(message));
        return message;
    }

    private protected static long MessageSize(int field, OnnxMessage? message)
    {
        if (message is null) return 0;
        long size = message.CalculateSize();
        return TagSize(field) + CodedOutputStream.ComputeLengthSize(checked((int)size)) + size;
    }

    private protected static long MessagesSize<T>(int field, List<T> messages) where T : OnnxMessage
    {
        long size = 0;
        foreach (var m in messages) size += MessageSize(field, m);
        return size;
    }

    private protected static void WriteMessage(CodedOutputStream output, int field, OnnxMessage? message)
    {
        if (message is null) return;
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteLength(checked((int)message.CalculateSize()));
        message.WriteTo(output);
    }

    private protected static void WriteMessages<T>(CodedOutputStream output, int field, List<T> messages) where T : OnnxMessage
    {
        foreach (var m in messages) WriteMessage(output, field, m);
    }

    private protected static long StringSize(int field, string? value) =>
        value is null ? 0 : TagSize(field) + CodedOutputStream.ComputeStringSize(value);

    private protected static long StringsSize(int field, List<string> values)
    {
        long size = 0;
        foreach (var v in values) size += StringSize(field, v);
        return size;
    }

    private protected static void WriteString(CodedOutputStream output, int field, string? value)
    {
        if (value is null) return;
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteString(value);
    }

    private protected static void WriteStrings(CodedOutputStream output, int field, List<string> values)
    {
        foreach (var v in values) WriteString(output, field, v);
    }

    private protected static long BytesSize(int field, ReadOnlyMemory<byte>? value) =>
        value is not { } bytes ? 0 : TagSize(field) + CodedOutputStream.ComputeLengthSize(bytes.Length) + bytes.Length;

    private protected static void WriteBytes(CodedOutputStream output, int field, ReadOnlyMemory<byte>? value)
    {
        if (value is not { } bytes) return;
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(UnsafeByteOperations.UnsafeWrap(bytes));
    }

    // byte[] converts implicitly to a non-null (empty) ReadOnlyMemory, so absent byte arrays need their own overloads.
    private protected static long BytesSize(int field, byte[]? value) => value is null ? 0 : BytesSize(field, (ReadOnlyMemory<byte>?)value);

    private protected static void WriteBytes(CodedOutputStream output, int field, byte[]? value)
    {
        if (value is not null) WriteBytes(output, field, (ReadOnlyMemory<byte>?)value);
    }

    /// <summary>Bytes read from the input without a further copy (ByteString owns its own array).</summary>
    private protected static ReadOnlyMemory<byte> ReadBytes(CodedInputStream input) => input.ReadBytes().Memory;

    private protected static long Int64Size(int field, long? value) =>
        value is { } v ? TagSize(field) + CodedOutputStream.ComputeInt64Size(v) : 0;

    private protected static void WriteInt64(CodedOutputStream output, int field, long? value)
    {
        if (value is not { } v) return;
        output.WriteTag(field, WireFormat.WireType.Varint);
        output.WriteInt64(v);
    }

    private protected static long Int32Size(int field, int? value) =>
        value is { } v ? TagSize(field) + CodedOutputStream.ComputeInt32Size(v) : 0;

    private protected static void WriteInt32(CodedOutputStream output, int field, int? value)
    {
        if (value is not { } v) return;
        output.WriteTag(field, WireFormat.WireType.Varint);
        output.WriteInt32(v);
    }

    /// <summary>
    /// Reads a repeated scalar in either encoding: packed (one length-delimited run) or one element
    /// per tag. proto2 writers choose per field, and readers must accept both.
    /// </summary>
    private protected static void ReadRepeated<T>(CodedInputStream input, uint tag, List<T> target, Func<CodedInputStream, T> readOne)
    {
        if (WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
        {
            target.Add(readOne(input));
            return;
        }
        int length = input.ReadLength();
        long end = input.Position + length;
        while (input.Position < end) target.Add(readOne(input));
        if (input.Position != end)
            throw new InvalidDataException($"packed field {WireFormat.GetTagFieldNumber(tag)} overruns its length of {length} bytes.");
    }

    /// <summary>Size of a repeated varint field: packed as one run, or one tag per element.</summary>
    private protected static long VarintsSize<T>(int field, List<T> values, Func<T, int> elementSize, bool packed)
    {
        if (values.Count == 0) return 0;
        long data = 0;
        foreach (var v in values) data += elementSize(v);
        return packed
            ? TagSize(field) + CodedOutputStream.ComputeLengthSize(checked((int)data)) + data
            : values.Count * (long)TagSize(field) + data;
    }

    private protected static void WriteVarints<T>(CodedOutputStream output, int field, List<T> values, Func<T, int> elementSize, Action<T> write, bool packed)
    {
        if (values.Count == 0) return;
        if (packed)
        {
            long data = 0;
            foreach (var v in values) data += elementSize(v);
            output.WriteTag(field, WireFormat.WireType.LengthDelimited);
            output.WriteLength(checked((int)data));
            foreach (var v in values) write(v);
            return;
        }
        foreach (var v in values)
        {
            output.WriteTag(field, WireFormat.WireType.Varint);
            write(v);
        }
    }

    /// <summary>Size of a repeated fixed-width field (float, double) of <paramref name="width"/> bytes an element.</summary>
    private protected static long FixedSize(int field, int count, int width, bool packed)
    {
        if (count == 0) return 0;
        long data = (long)count * width;
        return packed
            ? TagSize(field) + CodedOutputStream.ComputeLengthSize(checked((int)data)) + data
            : count * (TagSize(field) + (long)width);
    }

    private protected static void WriteFixed<T>(CodedOutputStream output, int field, List<T> values, int width, Action<T> write, bool packed)
    {
        if (values.Count == 0) return;
        var wireType = width == 4 ? WireFormat.WireType.Fixed32 : WireFormat.WireType.Fixed64;
        if (packed)
        {
            output.WriteTag(field, WireFormat.WireType.LengthDelimited);
            output.WriteLength(checked(values.Count * width));
            foreach (var v in values) write(v);
            return;
        }
        foreach (var v in values)
        {
            output.WriteTag(field, wireType);
            write(v);
        }
    }

    /// <summary>
    /// Lets Google.Protobuf read a nested message into an <see cref="OnnxMessage"/>: ReadMessage reads
    /// the length, limits the input to it, and calls <see cref="MergeFrom"/>. Only reading goes
    /// through this adapter; writing computes sizes itself.
    /// </summary>
    private sealed class NestedReader(OnnxMessage message) : IMessage
    {
        public MessageDescriptor Descriptor => throw new NotSupportedException("ONNX messages carry no protobuf descriptor.");

        public void MergeFrom(CodedInputStream input) => message.MergeFrom(input);

        public void WriteTo(CodedOutputStream output) => message.WriteTo(output);

        public int CalculateSize() => checked((int)message.CalculateSize());
    }
}
