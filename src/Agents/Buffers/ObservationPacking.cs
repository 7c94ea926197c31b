using System.Runtime.InteropServices;
using RLAgents.Environments;

namespace RLAgents.Agents.Buffers;

/// <summary>
/// The packed byte form of observation slots, shared by replay files and trajectory batches: modality by
/// modality in the space's order, a run of slots as little-endian raw values (float32 and uint8 boxes as
/// [count × size] elements, discrete values as int32), text as each string's UTF-8 bytes behind a 7-bit
/// encoded length (the <see cref="BinaryWriter.Write(string)"/> layout), so a text observation travels as
/// bytes, not as an array of managed strings.
/// </summary>
public static class ObservationPacking
{
    /// <summary>Writes slots [<paramref name="start"/>, start + <paramref name="count"/>) of <paramref name="batch"/>.</summary>
    public static void Write(BinaryWriter w, ObservationBatch batch, int start, int count)
    {
        var space = batch.Space;
        for (int m = 0; m < space.Count; m++)
        {
            int size = space[m].Size;
            switch (space[m].Storage)
            {
                case ModalityStorage.Float32: w.Write(MemoryMarshal.AsBytes(batch.Floats(m).AsSpan(start * size, count * size))); break;
                case ModalityStorage.UInt8: w.Write(batch.Bytes(m).AsSpan(start * size, count * size)); break;
                case ModalityStorage.Int32: w.Write(MemoryMarshal.AsBytes(batch.Ints(m).AsSpan(start, count))); break;
                default: foreach (var text in batch.Texts(m).AsSpan(start, count)) w.Write(text ?? ""); break;
            }
        }
    }

    /// <summary>Reads <paramref name="count"/> slots written by <see cref="Write"/> into slots [<paramref name="start"/>, start + count) of <paramref name="batch"/>.</summary>
    /// <exception cref="EndOfStreamException">The data ends early.</exception>
    public static void Read(BinaryReader r, ObservationBatch batch, int start, int count)
    {
        var space = batch.Space;
        for (int m = 0; m < space.Count; m++)
        {
            int size = space[m].Size;
            switch (space[m].Storage)
            {
                case ModalityStorage.Float32: r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(batch.Floats(m).AsSpan(start * size, count * size))); break;
                case ModalityStorage.UInt8: r.BaseStream.ReadExactly(batch.Bytes(m).AsSpan(start * size, count * size)); break;
                case ModalityStorage.Int32: r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(batch.Ints(m).AsSpan(start, count))); break;
                default:
                    var texts = batch.Texts(m);
                    for (int i = 0; i < count; i++) texts[start + i] = r.ReadString();
                    break;
            }
        }
    }

    /// <summary>Writes a plain array segment as little-endian raw values.</summary>
    public static void Write<T>(BinaryWriter w, ReadOnlySpan<T> values) where T : unmanaged => w.Write(MemoryMarshal.AsBytes(values));

    /// <summary>Reads a plain array segment written by <see cref="Write{T}(BinaryWriter, ReadOnlySpan{T})"/>.</summary>
    public static void Read<T>(BinaryReader r, Span<T> values) where T : unmanaged => r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(values));
}
