using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;

namespace RLAgents.Core;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78; the checksum of iSCSI, ext4, LevelDB and
/// Parquet pages), on the processor's CRC32 instruction where it has one. Episode logs and checkpoints
/// carry one per record batch and per tensor, so that damage is reported with its place instead of
/// decoding silently. Check value: CRC-32C("123456789") = 0xE3069283.
/// </summary>
public static class Crc32C
{
    /// <summary>The checksum of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Start, data));

    /// <summary>The running state before any byte (feed it to <see cref="Append"/>, end with <see cref="Finish"/>).</summary>
    public const uint Start = 0xFFFFFFFFu;

    /// <summary>Feeds <paramref name="data"/> into the running state <paramref name="crc"/> (the checksum of concatenated spans is the checksum of their concatenation).</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        // BitOperations.Crc32C is the reflected CRC-32C step without the initial or final inversion
        // (hardware crc32 on x86 SSE4.2 and Arm; a table in software elsewhere): 8 bytes per call.
        int i = 0;
        for (; i + 8 <= data.Length; i += 8) crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        for (; i < data.Length; i++) crc = BitOperations.Crc32C(crc, data[i]);
        return crc;
    }

    /// <summary>The checksum of a running state.</summary>
    public static uint Finish(uint crc) => ~crc;

    /// <summary>TFRecord's masked checksum (TensorBoard event files): rotated right by 15 and offset by 0xa282ead8, so checksums of data that holds checksums stay well spread.</summary>
    public static uint Masked(ReadOnlySpan<byte> data)
    {
        uint crc = Compute(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }

    /// <summary>The checksum as 8 lower-case hex digits (how files store it).</summary>
    public static string Format(uint crc) => crc.ToString("x8", CultureInfo.InvariantCulture);

    /// <summary>Parses 8 lower-case hex digits written by <see cref="Format"/>; false for anything else (upper case too: a stored checksum has one spelling).</summary>
    public static bool TryParse(string? text, out uint crc)
    {
        crc = 0;
        return text is { Length: 8 } && text.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f')
            && uint.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out crc);
    }
}
