using RLAgents.Core;

namespace RLAgents.Core.Tests;

public class Crc32CTests
{
    [Fact]
    public void MatchesTheCastagnoliCheckValueAndKnownVectors()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        Assert.Equal(0u, Crc32C.Compute([]));
        // RFC 3720 (iSCSI) B.4: 32 bytes of zeros, of 0xFF, and ascending 0..31.
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
    }

    [Fact]
    public void AppendingPiecesEqualsTheWholeAndEveryBitFlipChangesIt()
    {
        var data = Enumerable.Range(0, 1000).Select(i => (byte)(i * 31 + 7)).ToArray();
        uint whole = Crc32C.Compute(data);
        foreach (int cut in new[] { 0, 1, 7, 8, 9, 500, 999, 1000 })
            Assert.Equal(whole, Crc32C.Finish(Crc32C.Append(Crc32C.Append(Crc32C.Start, data.AsSpan(0, cut)), data.AsSpan(cut))));
        for (int bit = 0; bit < data.Length * 8; bit += 13)
        {
            data[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.NotEqual(whole, Crc32C.Compute(data));
            data[bit / 8] ^= (byte)(1 << (bit % 8));
        }
        Assert.Equal("e3069283", Crc32C.Format(0xE3069283u));
        Assert.True(Crc32C.TryParse("e3069283", out uint parsed) && parsed == 0xE3069283u);
        Assert.False(Crc32C.TryParse("e306928", out _));
        Assert.False(Crc32C.TryParse("e306928z", out _));
        Assert.False(Crc32C.TryParse("E3069283", out _));
    }
}
