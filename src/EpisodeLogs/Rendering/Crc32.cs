namespace RLAgents.EpisodeLogs.Rendering;

/// <summary>CRC-32 (ISO-HDLC, polynomial 0xEDB88320), as PNG chunks use.</summary>
public static class Crc32
{
    private static readonly uint[] Table = Build();

    /// <summary>CRC of <paramref name="data"/>, continuing from <paramref name="crc"/> (start with 0).</summary>
    public static uint Compute(ReadOnlySpan<byte> data, uint crc = 0)
    {
        uint c = ~crc;
        foreach (byte b in data) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        return ~c;
    }

    private static uint[] Build()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }
}
