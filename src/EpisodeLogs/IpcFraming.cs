using System.Buffers.Binary;
using System.Text;
using RLAgents.Core;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs;

/// <summary>Kinds of Arrow IPC messages (the <c>MessageHeader</c> union of Message.fbs).</summary>
internal enum IpcMessageKind : byte
{
    None = 0,
    Schema = 1,
    DictionaryBatch = 2,
    RecordBatch = 3,
}

/// <summary>One framed message of an Arrow IPC stream: where it starts, how long it is, and where its checksum digits sit in it (-1: none).</summary>
internal readonly record struct IpcMessage(long Offset, int MetadataLength, long BodyLength, IpcMessageKind Kind, int ChecksumAt = -1)
{
    /// <summary>Bytes of the whole message: marker, length, metadata, body.</summary>
    public long TotalLength => 8 + MetadataLength + BodyLength;
}

/// <summary>
/// Walks the encapsulated-message framing of an Arrow IPC stream
/// (<c>0xFFFFFFFF</c>, int32 metadata length, flatbuffer <c>Message</c>, body) without decoding
/// the data, so that a damaged tail is located by byte offset before the Arrow reader sees it.
/// </summary>
internal static class IpcFraming
{
    public const uint Continuation = 0xFFFFFFFFu;

    /// <summary>Outcome of reading one message frame.</summary>
    public enum FrameStatus { Message, EndOfStream, CleanEof, Damaged }

    /// <summary>
    /// Reads the frame starting at the stream's position. On <see cref="FrameStatus.Message"/>,
    /// <paramref name="bytes"/> holds the whole message and the stream is positioned after it.
    /// </summary>
    public static FrameStatus ReadFrame(Stream s, out IpcMessage message, out byte[] bytes, out string reason)
    {
        long offset = s.Position, remaining = s.Length - offset;
        message = default;
        bytes = [];
        reason = "";
        if (remaining == 0) return FrameStatus.CleanEof;
        if (remaining < 8) { reason = $"truncated message prefix ({remaining} of 8 bytes)"; return FrameStatus.Damaged; }
        Span<byte> prefix = stackalloc byte[8];
        s.ReadExactly(prefix);
        if (BinaryPrimitives.ReadUInt32LittleEndian(prefix) != Continuation) { reason = "bad message marker (not an Arrow IPC message)"; return FrameStatus.Damaged; }
        int metaLen = BinaryPrimitives.ReadInt32LittleEndian(prefix[4..]);
        if (metaLen == 0) return FrameStatus.EndOfStream;
        if (metaLen < 0 || metaLen % 8 != 0) { reason = $"invalid metadata length {metaLen}"; return FrameStatus.Damaged; }
        if (metaLen > remaining - 8) { reason = $"truncated message metadata ({remaining - 8} of {metaLen} bytes)"; return FrameStatus.Damaged; }
        var meta = new byte[metaLen];
        s.ReadExactly(meta);
        if (!TryParseMessage(meta, out var kind, out long bodyLength, out int checksumAt))
        {
            reason = "unreadable message metadata";
            return FrameStatus.Damaged;
        }
        if (bodyLength < 0 || bodyLength > remaining - 8 - metaLen)
        {
            reason = $"truncated message body ({remaining - 8 - metaLen} of {bodyLength} bytes)";
            return FrameStatus.Damaged;
        }
        if (bodyLength > Array.MaxLength - 8 - metaLen) { reason = $"message body of {bodyLength} bytes is too large"; return FrameStatus.Damaged; }
        message = new IpcMessage(offset, metaLen, bodyLength, kind, checksumAt < 0 ? -1 : 8 + checksumAt);
        bytes = new byte[message.TotalLength];
        prefix.CopyTo(bytes);
        meta.CopyTo(bytes, 8);
        s.ReadExactly(bytes.AsSpan(8 + metaLen));
        return FrameStatus.Message;
    }

    /// <summary>
    /// Reads <c>headerType</c> (field 1) and <c>bodyLength</c> (field 3) of a flatbuffer <c>Message</c> table, and
    /// where the digits of its <see cref="BatchChecksum.Key"/> entry start (-1 when absent): in the message's
    /// <c>custom_metadata</c> (field 4) for a record batch, in the schema's (field 2 of the <c>Schema</c> table
    /// the header points to) for a schema. Bounds are checked, so garbage fails instead of throwing.
    /// </summary>
    public static bool TryParseMessage(ReadOnlySpan<byte> fb, out IpcMessageKind kind, out long bodyLength, out int checksumAt)
    {
        kind = IpcMessageKind.None;
        bodyLength = 0;
        checksumAt = -1;
        if (fb.Length < 8) return false;
        long table = BinaryPrimitives.ReadUInt32LittleEndian(fb);
        if (table + 4 > fb.Length) return false;
        long vtable = table - BinaryPrimitives.ReadInt32LittleEndian(fb[(int)table..]);
        if (vtable < 0 || vtable + 4 > fb.Length) return false;
        int vtSize = BinaryPrimitives.ReadUInt16LittleEndian(fb[(int)vtable..]);
        if (vtSize < 4 || vtable + vtSize > fb.Length) return false;
        int ht = Field(fb, vtable, vtSize, 1), header = Field(fb, vtable, vtSize, 2), bl = Field(fb, vtable, vtSize, 3), cm = Field(fb, vtable, vtSize, 4);
        if (ht != 0)
        {
            if (table + ht >= fb.Length) return false;
            kind = (IpcMessageKind)fb[(int)(table + ht)];
        }
        if (bl != 0)
        {
            if (table + bl + 8 > fb.Length) return false;
            bodyLength = BinaryPrimitives.ReadInt64LittleEndian(fb[(int)(table + bl)..]);
        }
        if (cm != 0 && !TryFindChecksum(fb, table + cm, out checksumAt)) return false;
        if (kind == IpcMessageKind.Schema && header != 0)
        {
            if (!Target(fb, table + header, out long schema) || schema + 4 > fb.Length) return false;
            long schemaVTable = schema - BinaryPrimitives.ReadInt32LittleEndian(fb[(int)schema..]);
            if (schemaVTable < 0 || schemaVTable + 4 > fb.Length) return false;
            int schemaVtSize = BinaryPrimitives.ReadUInt16LittleEndian(fb[(int)schemaVTable..]);
            if (schemaVtSize < 4 || schemaVTable + schemaVtSize > fb.Length) return false;
            int schemaMetadata = Field(fb, schemaVTable, schemaVtSize, 2);
            if (schemaMetadata != 0 && !TryFindChecksum(fb, schema + schemaMetadata, out checksumAt)) return false;
        }
        return kind is IpcMessageKind.Schema or IpcMessageKind.RecordBatch or IpcMessageKind.DictionaryBatch;
    }

    // Walks custom_metadata: [KeyValue] at the uoffset stored at `at`, looking for the checksum entry.
    private static bool TryFindChecksum(ReadOnlySpan<byte> fb, long at, out int checksumAt)
    {
        checksumAt = -1;
        if (!Target(fb, at, out long vector) || vector + 4 > fb.Length) return false;
        long count = BinaryPrimitives.ReadUInt32LittleEndian(fb[(int)vector..]);
        if (vector + 4 + 4 * count > fb.Length) return false;
        for (long k = 0; k < count; k++)
        {
            long slot = vector + 4 + 4 * k;
            if (!Target(fb, slot, out long table) || table + 4 > fb.Length) return false;
            long vtable = table - BinaryPrimitives.ReadInt32LittleEndian(fb[(int)table..]);
            if (vtable < 0 || vtable + 4 > fb.Length) return false;
            int vtSize = BinaryPrimitives.ReadUInt16LittleEndian(fb[(int)vtable..]);
            if (vtSize < 4 || vtable + vtSize > fb.Length) return false;
            int keyField = Field(fb, vtable, vtSize, 0), valueField = Field(fb, vtable, vtSize, 1);
            if (keyField == 0 || valueField == 0) continue;
            if (!String(fb, table + keyField, out long key, out long keyLength) || !String(fb, table + valueField, out long value, out long valueLength)) return false;
            if (valueLength == 8 && fb.Slice((int)key, (int)keyLength).SequenceEqual(BatchChecksum.KeyBytes)) checksumAt = (int)value;
        }
        return true;
    }

    // A uoffset at `at` and where it points.
    private static bool Target(ReadOnlySpan<byte> fb, long at, out long target)
    {
        target = 0;
        if (at < 0 || at + 4 > fb.Length) return false;
        target = at + BinaryPrimitives.ReadUInt32LittleEndian(fb[(int)at..]);
        return target < fb.Length;
    }

    // A string field's uoffset at `at`: where its bytes start and how many.
    private static bool String(ReadOnlySpan<byte> fb, long at, out long start, out long length)
    {
        start = length = 0;
        if (!Target(fb, at, out long s) || s + 4 > fb.Length) return false;
        length = BinaryPrimitives.ReadUInt32LittleEndian(fb[(int)s..]);
        start = s + 4;
        return start + length <= fb.Length;
    }

    // Offset of field `id` within its table, from the vtable (0 = absent, default value).
    private static int Field(ReadOnlySpan<byte> fb, long vtable, int vtSize, int id)
    {
        int o = 4 + 2 * id;
        return o + 2 <= vtSize ? BinaryPrimitives.ReadUInt16LittleEndian(fb[(int)(vtable + o)..]) : 0;
    }
}

/// <summary>
/// The CRC-32C every message of an episode log carries (format 2): the value of a <c>rlagents.crc32c</c>
/// key-value entry (in a record batch message's <c>custom_metadata</c>; in the schema's metadata for the
/// schema message), 8 hex digits, computed over the whole message (marker, length, metadata, body) with
/// those digits as <c>00000000</c>. Arrow readers that know nothing of it ignore it; this reader checks it
/// before any byte of the message reaches the Arrow decoder.
/// </summary>
internal static class BatchChecksum
{
    /// <summary>The custom-metadata key.</summary>
    public const string Key = "rlagents.crc32c";

    public static ReadOnlySpan<byte> KeyBytes => "rlagents.crc32c"u8;

    /// <summary>The value written before sealing.</summary>
    public const string Unsealed = "00000000";

    private static ReadOnlySpan<byte> Placeholder => "00000000"u8;

    /// <summary>Writes the checksum of <paramref name="message"/> into its 8 digits at <paramref name="at"/>.</summary>
    public static void Seal(Span<byte> message, int at)
    {
        Placeholder.CopyTo(message.Slice(at, 8));
        Encoding.ASCII.GetBytes(Crc32C.Format(Crc32C.Compute(message)), message.Slice(at, 8));
    }

    /// <summary>Null when the digits at <paramref name="at"/> match the message, else what is wrong.</summary>
    public static string? Problem(byte[] message, int at)
    {
        string stored = Encoding.ASCII.GetString(message, at, 8);
        Placeholder.CopyTo(message.AsSpan(at, 8));
        uint actual = Crc32C.Compute(message);
        Encoding.ASCII.GetBytes(stored, message.AsSpan(at, 8));
        return Crc32C.TryParse(stored, out uint expected) && expected == actual ? null
            : $"the message fails its CRC-32C check (computed {Crc32C.Format(actual)}, stored '{stored}')";
    }
}

/// <summary>A read-only stream the caller refills one message at a time (feeds the Arrow reader validated frames only).</summary>
internal sealed class FeedStream : Stream
{
    private byte[] _data = [];
    private int _pos;
    private long _total;

    public void Feed(byte[] data)
    {
        _data = data;
        _pos = 0;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = Math.Min(buffer.Length, _data.Length - _pos);
        _data.AsSpan(_pos, n).CopyTo(buffer);
        _pos += n;
        _total += n;
        return n;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _total; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>A write-only stream that collects what the Arrow writer emits until the caller drains it to the file.</summary>
internal sealed class CaptureStream : Stream
{
    private byte[] _buffer = new byte[1 << 16];
    private int _count;
    private long _total;

    /// <summary>Bytes written since the last <see cref="Clear"/>.</summary>
    public ReadOnlySpan<byte> Pending => _buffer.AsSpan(0, _count);

    public void Clear() => _count = 0;

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_count + buffer.Length > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _count + buffer.Length));
        buffer.CopyTo(_buffer.AsSpan(_count));
        _count += buffer.Length;
        _total += buffer.Length;
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _total;
    // The writer pads messages to 8-byte boundaries relative to this position, so it never resets.
    public override long Position { get => _total; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
