using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs;

/// <summary>
/// The 64-bit hash an episode log stores per modality in hash mode. Defined over the modality's
/// canonical bytes (float32 and int32 little-endian, uint8 as is, text as UTF-8) so any language
/// can recompute it:
/// <code>
/// h = 0x9E3779B97F4A7C15 ^ (len * 0xC2B2AE3D27D4EB4F)
/// for each 8-byte little-endian word w (the tail zero-padded): h = rotl(h ^ (w * 0x87C37B91114253D5), 31) * 0x4CF5AD432745937F + 0x52DCE729
/// finalise with SplitMix64's mixer: h ^= h &gt;&gt; 30; h *= 0xBF58476D1CE4E5B9; h ^= h &gt;&gt; 27; h *= 0x94D049BB133111EB; h ^= h &gt;&gt; 31
/// </code>
/// It detects divergence, it is not a cryptographic digest.
/// </summary>
public static class ObservationHash
{
    private const ulong Seed = 0x9E3779B97F4A7C15UL;
    private const ulong LenMul = 0xC2B2AE3D27D4EB4FUL;
    private const ulong K1 = 0x87C37B91114253D5UL;
    private const ulong K2 = 0x4CF5AD432745937FUL;

    /// <summary>Hash of raw bytes.</summary>
    public static ulong Hash(ReadOnlySpan<byte> data)
    {
        ulong h = Seed ^ ((ulong)data.Length * LenMul);
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
            h = Round(h, BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i, 8)));
        if (i < data.Length)
        {
            Span<byte> tail = stackalloc byte[8];
            tail.Clear();
            data[i..].CopyTo(tail);
            h = Round(h, BinaryPrimitives.ReadUInt64LittleEndian(tail));
        }
        return Mix(h);
    }

    /// <summary>Hash of float32 elements (their little-endian bytes; the platform is little-endian).</summary>
    public static ulong Hash(ReadOnlySpan<float> data) => Hash(MemoryMarshal.AsBytes(data));

    /// <summary>Hash of one int32 (its 4 little-endian bytes).</summary>
    public static ulong Hash(int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        return Hash(b);
    }

    /// <summary>Hash of a string's UTF-8 bytes.</summary>
    public static ulong Hash(string text)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (max <= 1024)
        {
            Span<byte> b = stackalloc byte[max];
            return Hash(b[..Encoding.UTF8.GetBytes(text, b)]);
        }
        // Long texts (e.g. GridWorld descriptions) every step: a per-thread buffer that only grows.
        // (ArrayPool.Shared would do, but it drops its arrays under GC pressure and then allocates
        // again in the middle of recording.)
        if (_textBuffer is null || _textBuffer.Length < max) _textBuffer = new byte[Math.Max(max, 2 * (_textBuffer?.Length ?? 0))];
        return Hash(_textBuffer.AsSpan(0, Encoding.UTF8.GetBytes(text, _textBuffer)));
    }

    [ThreadStatic]
    private static byte[]? _textBuffer;

    /// <summary>Hash of modality <paramref name="m"/> of an observation, by its storage.</summary>
    public static ulong Hash(Observation observation, int m) => observation.Space[m].Storage switch
    {
        ModalityStorage.Float32 => Hash((ReadOnlySpan<float>)observation.Floats(m)),
        ModalityStorage.UInt8 => Hash((ReadOnlySpan<byte>)observation.Bytes(m)),
        ModalityStorage.Int32 => Hash(observation.GetInt(m)),
        _ => Hash(observation.GetText(m)),
    };

    private static ulong Round(ulong h, ulong w) => BitOperations.RotateLeft(h ^ (w * K1), 31) * K2 + 0x52DCE729UL;

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
