using System.Buffers.Binary;
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

/// <summary>One framed message of an Arrow IPC stream: where it starts and how long it is.</summary>
internal readonly record struct IpcMessage(long Offset, int MetadataLength, long BodyLength, IpcMessageKind Kind)
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
        if (!TryParseMessage(meta, out var kind, out long bodyLength))
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
        message = new IpcMessage(offset, metaLen, bodyLength, kind);
        bytes = new byte[message.TotalLength];
        prefix.CopyTo(bytes);
        meta.CopyTo(bytes, 8);
        s.ReadExactly(bytes.AsSpan(8 + metaLen));
        return FrameStatus.Message;
    }

    /// <summary>
    /// Reads <c>headerType</c> (field 1) and <c>bodyLength</c> (field 3) of a flatbuffer
    /// <c>Message</c> table, with bounds checks so garbage fails instead of throwing.
    /// </summary>
    public static bool TryParseMessage(ReadOnlySpan<byte> fb, out IpcMessageKind kind, out long bodyLength)
    {
        kind = IpcMessageKind.None;
        bodyLength = 0;
        if (fb.Length < 8) return false;
        long table = BinaryPrimitives.ReadUInt32LittleEndian(fb);
        if (table + 4 > fb.Length) return false;
        long vtable = table - BinaryPrimitives.ReadInt32LittleEndian(fb[(int)table..]);
        if (vtable < 0 || vtable + 4 > fb.Length) return false;
        int vtSize = BinaryPrimitives.ReadUInt16LittleEndian(fb[(int)vtable..]);
        if (vtSize < 4 || vtable + vtSize > fb.Length) return false;
        int ht = Field(fb, vtable, vtSize, 1), bl = Field(fb, vtable, vtSize, 3);
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
        return kind is IpcMessageKind.Schema or IpcMessageKind.RecordBatch or IpcMessageKind.DictionaryBatch;
    }

    // Offset of field `id` within its table, from the vtable (0 = absent, default value).
    private static int Field(ReadOnlySpan<byte> fb, long vtable, int vtSize, int id)
    {
        int o = 4 + 2 * id;
        return o + 2 <= vtSize ? BinaryPrimitives.ReadUInt16LittleEndian(fb[(int)(vtable + o)..]) : 0;
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
