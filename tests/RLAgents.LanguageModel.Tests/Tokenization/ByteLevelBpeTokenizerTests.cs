using System.Text.Json;
using RLAgents.LanguageModel.Tokenization;

namespace RLAgents.LanguageModel.Tests.Tokenization;

public class ByteLevelBpeTokenizerTests
{
    private static readonly string[] Corpus =
    [
        "the red ball is next to the blue key.",
        "go to the red ball, then pick up the blue key!",
        "the agent sees a green door; the door is locked.",
        "héllo wörld — 日本語 text with ünïcödé and emoji 🙂",
        "numbers 12345 and 2026 and tabs\tand\nnewlines",
    ];

    [Fact]
    public void GptTwoByteTableIsTheKnownBijection()
    {
        // GPT-2 writes space as 'Ġ' (U+0120), newline as 'Ċ' (U+010A), byte 0 as 'Ā' (U+0100); printable ASCII maps to itself.
        Assert.Equal('\u0120', ByteToUnicode.Encode((byte)' '));
        Assert.Equal('\u010A', ByteToUnicode.Encode((byte)'\n'));
        Assert.Equal('\u0100', ByteToUnicode.Encode((byte)0));
        Assert.Equal('A', ByteToUnicode.Encode((byte)'A'));
        Assert.Equal(256, Enumerable.Range(0, 256).Select(b => ByteToUnicode.Encode((byte)b)).Distinct().Count());
    }

    [Fact]
    public void TrainingMergesTheMostFrequentPairFirst()
    {
        // "ab" occurs 3 times per line across words, more than any other pair: it must be merge rank 0.
        var tok = ByteLevelBpeTokenizer.Train(["ab ab ab cd", "ab xy"], vocabSize: 256 + SpecialTokens.All.Count + 3);
        Assert.Equal(("a", "b"), tok.Merges[0]);
        Assert.Equal([tok.TokenToId("ab")!.Value], tok.Encode("ab"));
    }

    [Theory]
    [InlineData("the red ball is next to the blue key.")]
    [InlineData("unseen words: zebra quokka, 3.14159")]
    [InlineData("héllo 日本語 🙂 \t\n  trailing spaces  ")]
    [InlineData("")]
    public void RoundTripsAnyText(string text)
    {
        var tok = ByteLevelBpeTokenizer.Train(Corpus, vocabSize: 400);
        Assert.Equal(text, tok.Decode(tok.Encode(text)));
    }

    [Fact]
    public void MergesShortenCommonWords()
    {
        var tok = ByteLevelBpeTokenizer.Train(Corpus, vocabSize: 400);
        Assert.True(tok.Encode(" the red ball").Length < " the red ball".Length);
        Assert.NotNull(tok.TokenToId("Ġthe"));
    }

    [Fact]
    public void SpecialTokensAreSingleIdsAndCanBeSkipped()
    {
        var tok = ByteLevelBpeTokenizer.Train(Corpus, vocabSize: 400);
        int[] ids = tok.Encode("<bos>go<img>to<sep>the key<eos>");
        Assert.Equal(tok.Special.Bos, ids[0]);
        Assert.Equal(tok.Special.Eos, ids[^1]);
        Assert.Contains(tok.Special.Image, ids);
        Assert.Contains(tok.Special.Sep, ids);
        Assert.Equal("<bos>go<img>to<sep>the key<eos>", tok.Decode(ids));
        Assert.Equal("gotothe key", tok.Decode(ids, skipSpecial: true));
        Assert.Equal(SpecialTokens.All.Count, SpecialTokens.All.Select(t => tok.TokenToId(t)).Distinct().Count());
    }

    [Fact]
    public void SavesStandardFilesAndLoadsThemBack()
    {
        using var dir = new TempDirectory();
        var tok = ByteLevelBpeTokenizer.Train(Corpus, vocabSize: 400);
        tok.Save(dir.Path);

        string[] merges = File.ReadAllLines(Path.Combine(dir.Path, "merges.txt"));
        Assert.Equal("#version: 0.2", merges[0]);
        Assert.Equal(tok.Merges.Count, merges.Length - 1);
        var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(Path.Combine(dir.Path, "vocab.json")))!;
        Assert.Equal(tok.VocabSize, vocab.Count);
        Assert.Contains("Ġ", vocab.Keys);

        var loaded = ByteLevelBpeTokenizer.Load(dir.Path);
        foreach (string text in Corpus.Append("<txt>new text, 42<pad>"))
            Assert.Equal(tok.Encode(text), loaded.Encode(text));
        Assert.Equal(tok.Special, loaded.Special);
    }

    [Fact]
    public void LoadingAVocabularyWithoutSpecialTokensAppendsThemOnRequest()
    {
        using var dir = new TempDirectory();
        // A GPT-2-shaped vocabulary: bytes in GPT-2 order, one merge, no RLAgents special tokens.
        var vocab = ByteToUnicode.SymbolsInGpt2Order().Select((s, i) => (s, i)).ToDictionary(p => p.s, p => p.i);
        vocab["Ġt"] = 256;
        File.WriteAllText(Path.Combine(dir.Path, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllText(Path.Combine(dir.Path, "merges.txt"), "#version: 0.2\nĠ t\n");

        var error = Assert.Throws<InvalidDataException>(() => ByteLevelBpeTokenizer.Load(dir.Path));
        Assert.Contains("<pad>", error.Message);

        var tok = ByteLevelBpeTokenizer.Load(dir.Path, addMissingSpecialTokens: true);
        Assert.Equal(257 + SpecialTokens.All.Count, tok.VocabSize);
        Assert.Equal(257, tok.Special.Pad);
        // GPT-2 ids: 'a' is byte 97, and GPT-2 order puts '!' (33) at id 0, so 'a' has id 97 - 33 = 64.
        Assert.Equal([64, 256], tok.Encode("a t"));
    }

    [Fact]
    public void MalformedMergesNameTheLine()
    {
        using var dir = new TempDirectory();
        ByteLevelBpeTokenizer.Train(Corpus, vocabSize: 300).Save(dir.Path);
        File.AppendAllText(Path.Combine(dir.Path, "merges.txt"), "only-one-part\n");
        var error = Assert.Throws<InvalidDataException>(() => ByteLevelBpeTokenizer.Load(dir.Path));
        Assert.Contains("merges.txt:", error.Message);
        Assert.Contains("only-one-part", error.Message);
    }
}
