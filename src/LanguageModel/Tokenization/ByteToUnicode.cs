namespace RLAgents.LanguageModel.Tokenization;

/// <summary>
/// GPT-2's reversible byte ↔ character table: printable Latin-1 bytes map to themselves, the other
/// 68 bytes (controls, space, 0x7F–0xA0, 0xAD) map to U+0100 upwards, in byte order. So every byte
/// sequence becomes a string of visible characters (space is 'Ġ', newline 'Ċ'), which is how
/// vocab.json and merges.txt spell byte-level tokens.
/// </summary>
public static class ByteToUnicode
{
    private static readonly char[] ByteToChar = BuildTable();
    private static readonly Dictionary<char, byte> CharToByte =
        Enumerable.Range(0, 256).ToDictionary(b => ByteToChar[b], b => (byte)b);

    /// <summary>The character that stands for byte <paramref name="b"/>.</summary>
    public static char Encode(byte b) => ByteToChar[b];

    /// <summary>The characters that stand for <paramref name="bytes"/>.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>The bytes a byte-level token string stands for; false if a character is not in the table.</summary>
    public static bool TryDecode(string symbols, List<byte> output)
    {
        foreach (char c in symbols)
        {
            if (!CharToByte.TryGetValue(c, out byte b)) return false;
            output.Add(b);
        }
        return true;
    }

    private static char[] BuildTable()
    {
        var table = new char[256];
        var assigned = new bool[256];
        static bool Printable(int b) => (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        for (int b = 0; b < 256; b++)
        {
            if (!Printable(b)) continue;
            table[b] = (char)b;
            assigned[b] = true;
        }
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            if (assigned[b]) continue;
            table[b] = (char)next++;
        }
        return table;
    }

    /// <summary>The 256 byte symbols in GPT-2's vocabulary order (printable bytes first, then the remapped ones).</summary>
    public static IReadOnlyList<string> SymbolsInGpt2Order()
    {
        static bool Printable(int b) => (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        var printable = Enumerable.Range(0, 256).Where(Printable);
        var rest = Enumerable.Range(0, 256).Where(b => !Printable(b));
        return printable.Concat(rest).Select(b => ByteToChar[b].ToString()).ToArray();
    }
}
