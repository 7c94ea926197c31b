using RLAgents.LanguageModel.Tokenization;

namespace RLAgents.LanguageModel.Tests.Tokenization;

public class WordLevelTokenizerTests
{
    private static readonly string[] Missions =
    [
        "go to the red ball",
        "pick up a blue key",
        "put the green box next to the purple ball",
        "open the door on your left, then go to the grey key",
    ];

    [Fact]
    public void OneIdPerWordAndRoundTrip()
    {
        var tok = WordLevelTokenizer.Build(Missions);
        int[] ids = tok.Encode("Go to the red ball");
        Assert.Equal(5, ids.Length);
        Assert.DoesNotContain(tok.Special.Unk, ids);
        Assert.Equal("go to the red ball", tok.Decode(ids));
        Assert.Equal("open the door on your left, then go to the grey key", tok.Decode(tok.Encode(Missions[3])));
    }

    [Fact]
    public void SpecialTokensComeFirstAndUnknownWordsMapToUnk()
    {
        var tok = WordLevelTokenizer.Build(Missions);
        Assert.Equal(0, tok.Special.Pad);
        Assert.Equal(SpecialTokens.All.Count - 1, tok.Special.Vector);
        int[] ids = tok.Encode("<bos>go to the zebra<eos>");
        Assert.Equal([tok.Special.Bos, tok.TokenToId("go")!.Value, tok.TokenToId("to")!.Value, tok.TokenToId("the")!.Value, tok.Special.Unk, tok.Special.Eos], ids);
        Assert.Equal("go to the", tok.Decode(ids, skipSpecial: true));
    }

    [Fact]
    public void SaveLoadKeepsIds()
    {
        using var dir = new TempDirectory();
        var tok = WordLevelTokenizer.Build(Missions);
        tok.Save(dir.Path);
        var loaded = WordLevelTokenizer.Load(dir.Path);
        Assert.Equal(tok.VocabSize, loaded.VocabSize);
        foreach (string m in Missions) Assert.Equal(tok.Encode(m), loaded.Encode(m));
    }
}
