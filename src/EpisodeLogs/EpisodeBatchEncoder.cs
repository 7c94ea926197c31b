using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs;

/// <summary>
/// Encodes one episode as one complete Arrow IPC record-batch message (continuation marker,
/// metadata length, flatbuffer <c>Message</c>, body) straight into a buffer reused across episodes.
/// Recording's cost is per episode for short episodes, so nothing here is rebuilt per episode:
/// the schema is fixed per log, hence so is the metadata's layout (one field node per column and
/// list child, the same buffers in the same order); only lengths, null counts, buffer offsets and
/// the body change. Buffers start at 8-byte boundaries of the body, as the IPC format requires.
/// Not thread-safe: the writer calls it under its lock.
/// </summary>
internal sealed class EpisodeBatchEncoder
{
    // Metadata layout (offsets within the flatbuffer; see Message.fbs / Schema.fbs of Arrow):
    //   0  root uoffset → Message table at 24
    //   4  Message vtable [14 bytes]: size, table size, version@16, header_type@18, header@4, bodyLength@8, custom_metadata@20
    //  24  Message table: soffset to vtable, header uoffset → RecordBatch at 64, bodyLength i64, version i16 (V5), header_type u8 (RecordBatch),
    //      custom_metadata uoffset → C
    //  48  RecordBatch vtable [10 bytes]: size, table size, length@8, nodes@4, buffers@16
    //  64  RecordBatch table: soffset, nodes uoffset, length i64, buffers uoffset
    //  92  nodes vector: u32 count, then FieldNode{length i64, null_count i64}[] at 96 (8-aligned)
    //   Q  buffers vector: u32 count (Q ≡ 4 mod 8), then Buffer{offset i64, length i64}[]
    //   C  custom_metadata (C ≡ 0 mod 8): vector of one KeyValue [u32 count, uoffset]; KeyValue vtable [8 bytes] at C+8;
    //      KeyValue table at C+16 (soffset, key uoffset, value uoffset); key string at C+28 ("rlagents.crc32c");
    //      value string at C+48 (8 hex digits at C+52): the message's CRC-32C (see BatchChecksum)
    private const int MessageTable = 24, BatchVTable = 48, BatchTable = 64, NodesVector = 92;
    private const short MetadataV5 = 4;
    private const byte HeaderRecordBatch = 3;

    private readonly ModalityLayout[] _modalities;
    private readonly int _actionFloats;
    private readonly bool _discreteActions;
    private readonly int[] _sizes;
    private readonly byte[] _template;
    private readonly int _nodeCount, _bufferCount, _buffersVector, _customMetadata, _metadataLength;
    private byte[] _message = new byte[1 << 16];
    private int _pos, _node, _buffer;
    private readonly MemoryStream _deflated = new();

    public EpisodeBatchEncoder(EpisodeLogHeader header)
    {
        _modalities = [.. header.Modalities];
        _sizes = _modalities.Select(m => m.Size).ToArray();
        _actionFloats = header.ActionFloats;
        _discreteActions = header.HasDiscreteAction;
        // Fixed columns: episode..success. Primitive and bool columns: 1 node, 2 buffers (validity,
        // values); the action_probs list: 2 nodes (list, float child), 4 buffers; strings: 1 node, 3 buffers.
        // Float actions add one list column (2 nodes, 4 buffers).
        int nodes = 16 + 1, buffers = 12 * 2 + 4 + 3 * 3;
        if (_actionFloats > 0) { nodes += 2; buffers += 4; }
        foreach (var m in _modalities)
        {
            bool list = m.Encoding == ObservationEncoding.Raw && m.Storage == ModalityStorage.Float32;
            bool binary = m.Encoding == ObservationEncoding.Zlib || (m.Encoding == ObservationEncoding.Raw && m.Storage is ModalityStorage.UInt8 or ModalityStorage.Text);
            nodes += list ? 2 : 1;
            buffers += list ? 4 : binary ? 3 : 2;
        }
        _nodeCount = nodes;
        _bufferCount = buffers;
        _buffersVector = NodesVector + 4 + 16 * nodes + 4;
        _customMetadata = _buffersVector + 4 + 16 * buffers;
        _metadataLength = _customMetadata + 64;
        _template = BuildTemplate();
    }

    /// <summary>Encodes <paramref name="e"/>; the returned span (valid until the next call) is the whole message.</summary>
    public ReadOnlySpan<byte> Encode(IEpisodeColumns e)
    {
        int l = e.Length, rows = l + 1;
        int bodyStart = 8 + _metadataLength;
        Ensure(bodyStart);
        _template.CopyTo(_message, 8);
        _pos = bodyStart;
        _node = 0;
        _buffer = 0;

        // Step columns: row L (the last observation) is null.
        Fixed(rows, e.Index);
        Steps(rows);
        if (_discreteActions) Primitive(e.Actions[..l], rows, nullLast: true); else AllNull(rows, 4);
        if (_actionFloats > 0) FloatActions(e.ContinuousActions[..(l * _actionFloats)], rows);
        Primitive(e.Rewards[..l], rows, nullLast: true);
        Bools(e.Terminated[..l], rows, nullLast: true);
        Bools(e.Truncated[..l], rows, nullLast: true);
        Probabilities(e.ProbabilityCounts[..l], e.ProbabilityValues, rows);
        Values(e.ValueData[..l], e.ValueSet[..l], rows);
        if (e.Seed is long seed) Fixed(rows, seed); else AllNull(rows, 8);
        FirstRowString(rows, e.StartState);
        RepeatedString(rows, e.CheckpointId);
        RepeatedString(rows, e.Phase);
        RepeatedBool(rows, e.Evaluation);
        Fixed(rows, e.Return);
        Fixed(rows, l);
        if (e.Success is bool ok) RepeatedBool(rows, ok); else AllNullBools(rows);
        for (int m = 0; m < _modalities.Length; m++) Observations(e, m, rows);

        if (_node != _nodeCount || _buffer != _bufferCount)
            throw new InvalidOperationException($"Encoder layout mismatch: {_node}/{_nodeCount} nodes, {_buffer}/{_bufferCount} buffers.");
        Align();
        long bodyLength = _pos - bodyStart;
        var meta = _message.AsSpan(8, _metadataLength);
        BinaryPrimitives.WriteUInt32LittleEndian(_message, IpcFraming.Continuation);
        BinaryPrimitives.WriteInt32LittleEndian(_message.AsSpan(4), _metadataLength);
        BinaryPrimitives.WriteInt64LittleEndian(meta[(MessageTable + 8)..], bodyLength);
        BinaryPrimitives.WriteInt64LittleEndian(meta[(BatchTable + 8)..], rows);
        var message = _message.AsSpan(0, _pos);
        BatchChecksum.Seal(message, 8 + _customMetadata + 52);
        return message;
    }

    // ---- metadata ----

    private byte[] BuildTemplate()
    {
        var fb = new byte[_metadataLength];
        var s = fb.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, MessageTable);
        // Message vtable at 4: fields version(0), header_type(1), header(2), bodyLength(3), custom_metadata(4).
        WriteU16(s, 4, 14); WriteU16(s, 6, 24); WriteU16(s, 8, 16); WriteU16(s, 10, 18); WriteU16(s, 12, 4); WriteU16(s, 14, 8); WriteU16(s, 16, 20);
        BinaryPrimitives.WriteInt32LittleEndian(s[MessageTable..], MessageTable - 4);
        BinaryPrimitives.WriteUInt32LittleEndian(s[(MessageTable + 4)..], BatchTable - (MessageTable + 4));
        BinaryPrimitives.WriteInt16LittleEndian(s[(MessageTable + 16)..], MetadataV5);
        s[MessageTable + 18] = HeaderRecordBatch;
        // RecordBatch vtable: fields length(0), nodes(1), buffers(2).
        WriteU16(s, BatchVTable, 10); WriteU16(s, BatchVTable + 2, 24); WriteU16(s, BatchVTable + 4, 8); WriteU16(s, BatchVTable + 6, 4); WriteU16(s, BatchVTable + 8, 16);
        BinaryPrimitives.WriteInt32LittleEndian(s[BatchTable..], BatchTable - BatchVTable);
        BinaryPrimitives.WriteUInt32LittleEndian(s[(BatchTable + 4)..], (uint)(NodesVector - (BatchTable + 4)));
        BinaryPrimitives.WriteUInt32LittleEndian(s[(BatchTable + 16)..], (uint)(_buffersVector - (BatchTable + 16)));
        BinaryPrimitives.WriteUInt32LittleEndian(s[NodesVector..], (uint)_nodeCount);
        BinaryPrimitives.WriteUInt32LittleEndian(s[_buffersVector..], (uint)_bufferCount);
        // custom_metadata: one KeyValue holding the message checksum (its digits are filled in per message).
        int c = _customMetadata;
        BinaryPrimitives.WriteUInt32LittleEndian(s[(MessageTable + 20)..], (uint)(c - (MessageTable + 20)));
        BinaryPrimitives.WriteUInt32LittleEndian(s[c..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(s[(c + 4)..], 12);
        WriteU16(s, c + 8, 8); WriteU16(s, c + 10, 12); WriteU16(s, c + 12, 4); WriteU16(s, c + 14, 8);
        BinaryPrimitives.WriteInt32LittleEndian(s[(c + 16)..], 8);
        BinaryPrimitives.WriteUInt32LittleEndian(s[(c + 20)..], 8);
        BinaryPrimitives.WriteUInt32LittleEndian(s[(c + 24)..], 24);
        BinaryPrimitives.WriteUInt32LittleEndian(s[(c + 28)..], (uint)BatchChecksum.Key.Length);
        Encoding.ASCII.GetBytes(BatchChecksum.Key, s[(c + 32)..]);
        BinaryPrimitives.WriteUInt32LittleEndian(s[(c + 48)..], 8);
        return fb;
    }

    private static void WriteU16(Span<byte> s, int at, int value) => BinaryPrimitives.WriteUInt16LittleEndian(s[at..], (ushort)value);

    private void Node(int length, int nulls)
    {
        var at = _message.AsSpan(8 + NodesVector + 4 + 16 * _node++);
        BinaryPrimitives.WriteInt64LittleEndian(at, length);
        BinaryPrimitives.WriteInt64LittleEndian(at[8..], nulls);
    }

    /// <summary>
    /// Aligns the body, reserves <paramref name="bytes"/> zeroed bytes as the next buffer and returns
    /// them. The span is valid until the next call (the message buffer may grow), so fill it first.
    /// </summary>
    private Span<byte> Buffer(int bytes)
    {
        Align();
        Ensure(_pos + bytes + 8);
        var at = _message.AsSpan(8 + _buffersVector + 4 + 16 * _buffer++);
        BinaryPrimitives.WriteInt64LittleEndian(at, _pos - 8 - _metadataLength);
        BinaryPrimitives.WriteInt64LittleEndian(at[8..], bytes);
        var span = _message.AsSpan(_pos, bytes);
        span.Clear();
        _pos += bytes;
        return span;
    }

    private void EmptyBuffer() => Buffer(0);

    private void Align()
    {
        int padded = (_pos + 7) & ~7;
        Ensure(padded);
        _message.AsSpan(_pos, padded - _pos).Clear();
        _pos = padded;
    }

    private void Ensure(int size)
    {
        if (size > _message.Length) Array.Resize(ref _message, Math.Max(size, _message.Length * 2));
    }

    private static int BitmapBytes(int rows) => (rows + 7) / 8;

    // ---- columns ----

    private void Fixed<T>(int rows, T value) where T : unmanaged
    {
        Node(rows, 0);
        EmptyBuffer();
        MemoryMarshal.Cast<byte, T>(Buffer(rows * Unsafe.SizeOf<T>())).Fill(value);
    }

    private void Steps(int rows)
    {
        Node(rows, 0);
        EmptyBuffer();
        var ints = MemoryMarshal.Cast<byte, int>(Buffer(rows * 4));
        for (int t = 0; t < rows; t++) ints[t] = t;
    }

    /// <summary>Validity with the first <paramref name="valid"/> of <paramref name="rows"/> set.</summary>
    private void PrefixValidity(int rows, int valid)
    {
        var bits = Buffer(BitmapBytes(rows));
        bits[..(valid / 8)].Fill(0xFF);
        for (int i = valid / 8 * 8; i < valid; i++) bits[i >> 3] |= (byte)(1 << (i & 7));
    }

    private void Primitive<T>(ReadOnlySpan<T> values, int rows, bool nullLast) where T : unmanaged
    {
        Node(rows, nullLast ? 1 : 0);
        if (nullLast) PrefixValidity(rows, rows - 1); else EmptyBuffer();
        MemoryMarshal.AsBytes(values).CopyTo(Buffer(rows * Unsafe.SizeOf<T>()));
    }

    private void Bools(ReadOnlySpan<bool> values, int rows, bool nullLast)
    {
        Node(rows, nullLast ? 1 : 0);
        if (nullLast) PrefixValidity(rows, rows - 1); else EmptyBuffer();
        var bits = Buffer(BitmapBytes(rows));
        for (int i = 0; i < values.Length; i++)
            if (values[i]) bits[i >> 3] |= (byte)(1 << (i & 7));
    }

    private void RepeatedBool(int rows, bool value)
    {
        Node(rows, 0);
        EmptyBuffer();
        if (value) Buffer(BitmapBytes(rows)).Fill(0xFF); else Buffer(BitmapBytes(rows));
    }

    private void AllNullBools(int rows)
    {
        Node(rows, rows);
        Buffer(BitmapBytes(rows));
        Buffer(BitmapBytes(rows));
    }

    private void AllNull(int rows, int width)
    {
        Node(rows, rows);
        Buffer(BitmapBytes(rows));
        Buffer(rows * width);
    }

    private void Probabilities(ReadOnlySpan<int> counts, ReadOnlySpan<float> values, int rows)
    {
        int nulls = rows;
        foreach (int c in counts) if (c > 0) nulls--;
        Node(rows, nulls);
        if (nulls == 0) EmptyBuffer();
        else
        {
            var bits = Buffer(BitmapBytes(rows));
            for (int t = 0; t < counts.Length; t++)
                if (counts[t] > 0) bits[t >> 3] |= (byte)(1 << (t & 7));
        }
        var offsets = MemoryMarshal.Cast<byte, int>(Buffer((rows + 1) * 4));
        int total = 0;
        for (int t = 0; t < rows; t++)
        {
            if (t < counts.Length) total += counts[t];
            offsets[t + 1] = total;
        }
        Node(total, 0);
        EmptyBuffer();
        MemoryMarshal.AsBytes(values[..total]).CopyTo(Buffer(total * 4));
    }

    /// <summary>The action_continuous list column: <see cref="_actionFloats"/> floats on each of the first rows − 1 rows, null on the last.</summary>
    private void FloatActions(ReadOnlySpan<float> values, int rows)
    {
        Node(rows, 1);
        PrefixValidity(rows, rows - 1);
        var offsets = MemoryMarshal.Cast<byte, int>(Buffer((rows + 1) * 4));
        for (int t = 0; t < rows; t++) offsets[t + 1] = Math.Min(t + 1, rows - 1) * _actionFloats;
        Node(values.Length, 0);
        EmptyBuffer();
        MemoryMarshal.AsBytes(values).CopyTo(Buffer(values.Length * 4));
    }

    private void Values(ReadOnlySpan<float> data, ReadOnlySpan<bool> set, int rows)
    {
        int nulls = rows;
        foreach (bool s in set) if (s) nulls--;
        Node(rows, nulls);
        var bits = Buffer(BitmapBytes(rows));
        for (int t = 0; t < set.Length; t++)
            if (set[t]) bits[t >> 3] |= (byte)(1 << (t & 7));
        var floats = MemoryMarshal.Cast<byte, float>(Buffer(rows * 4));
        for (int t = 0; t < set.Length; t++)
            if (set[t]) floats[t] = data[t];
    }

    private void RepeatedString(int rows, string? value)
    {
        if (value is null) { NullStrings(rows); return; }
        Node(rows, 0);
        EmptyBuffer();
        int one = Encoding.UTF8.GetByteCount(value);
        var offsets = MemoryMarshal.Cast<byte, int>(Buffer((rows + 1) * 4));
        for (int t = 0; t < rows; t++) offsets[t + 1] = (t + 1) * one;
        // Encoded once into the first cell, then repeated.
        var data = Buffer(checked(one * rows));
        Encoding.UTF8.GetBytes(value, data);
        for (int t = 1; t < rows; t++) data[..one].CopyTo(data[(t * one)..]);
    }

    private void FirstRowString(int rows, string? value)
    {
        if (value is null) { NullStrings(rows); return; }
        Node(rows, rows - 1);
        Buffer(BitmapBytes(rows))[0] = 1;
        var offsets = MemoryMarshal.Cast<byte, int>(Buffer((rows + 1) * 4));
        int n = Encoding.UTF8.GetByteCount(value);
        offsets[1..].Fill(n);
        Encoding.UTF8.GetBytes(value, Buffer(n));
    }

    private void NullStrings(int rows)
    {
        Node(rows, rows);
        Buffer(BitmapBytes(rows));
        Buffer((rows + 1) * 4);
        EmptyBuffer();
    }

    private void Observations(IEpisodeColumns e, int m, int rows)
    {
        var layout = _modalities[m];
        int size = _sizes[m];
        if (layout.Encoding == ObservationEncoding.Hash64)
        {
            Primitive(e.Hashes(m)[..rows], rows, nullLast: false);
            return;
        }
        if (layout.Encoding == ObservationEncoding.Zlib)
        {
            var raw = e.Bytes(m);
            _deflated.SetLength(0);
            Span<int> ends = rows <= 1024 ? stackalloc int[rows] : new int[rows];
            for (int t = 0; t < rows; t++)
            {
                using (var z = new ZLibStream(_deflated, CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw.Slice(t * size, size));
                ends[t] = checked((int)_deflated.Length);
            }
            Node(rows, 0);
            EmptyBuffer();
            var offsets = MemoryMarshal.Cast<byte, int>(Buffer((rows + 1) * 4));
            ends.CopyTo(offsets[1..]);
            _deflated.GetBuffer().AsSpan(0, (int)_deflated.Length).CopyTo(Buffer((int)_deflated.Length));
            return;
        }
        switch (layout.Storage)
        {
            case ModalityStorage.Float32:
                Node(rows, 0);
                EmptyBuffer();
                FixedOffsets(rows, size);
                Node(rows * size, 0);
                EmptyBuffer();
                MemoryMarshal.AsBytes(e.Floats(m)[..(rows * size)]).CopyTo(Buffer(rows * size * 4));
                break;
            case ModalityStorage.UInt8:
                Node(rows, 0);
                EmptyBuffer();
                FixedOffsets(rows, size);
                e.Bytes(m)[..(rows * size)].CopyTo(Buffer(rows * size));
                break;
            case ModalityStorage.Int32:
                Primitive(e.Ints(m)[..rows], rows, nullLast: false);
                break;
            default:
                Node(rows, 0);
                EmptyBuffer();
                var offsets = MemoryMarshal.Cast<byte, int>(Buffer((rows + 1) * 4));
                int total = 0;
                for (int t = 0; t < rows; t++) offsets[t + 1] = total += Encoding.UTF8.GetByteCount(e.Text(m, t));
                var data = Buffer(total);
                for (int t = 0; t < rows; t++) Encoding.UTF8.GetBytes(e.Text(m, t), data[offsets[t]..]);
                break;
        }
    }

    private void FixedOffsets(int rows, int size)
    {
        var offsets = MemoryMarshal.Cast<byte, int>(Buffer((rows + 1) * 4));
        for (int t = 0; t <= rows; t++) offsets[t] = t * size;
    }
}
