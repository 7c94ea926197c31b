using RLAgents.LanguageModel.Pretrained;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Tests.Pretrained;

[Collection(MiniLmCollection.Name)]
public class BertTextTokenizerTests(MiniLmFixture fixture)
{
    private BertTextTokenizer Tokenizer => fixture.Encoder.Tokenizer;

    [Fact]
    public void IdsEqualHuggingFaceTokenizersOnEveryReferenceText()
    {
        // Data/wordpiece-reference.json: ids from the `tokenizers` npm package (Hugging Face's Rust tokenizer), see make-wordpiece-reference.mjs.
        Assert.True(fixture.Reference.Count >= 50);
        foreach (var (text, ids) in fixture.Reference)
            Assert.True(ids.SequenceEqual(Tokenizer.Encode(text)), $"'{text}': expected [{string.Join(", ", ids)}], got [{string.Join(", ", Tokenizer.Encode(text))}]");
    }

    [Fact]
    public void HandVerifiedIdsAreTheVocabularyLines()
    {
        // Read against vocab.txt by hand: the id of a token is its line number from 0.
        var info = PretrainedTextEncoders.Find(PretrainedTextEncoders.MiniLM);
        string[] vocab;
        using (var stream = AssemblyResources.Open(PretrainedTextEncoders.AssemblyPath(info), info.VocabResource))
        using (var reader = new StreamReader(stream))
            vocab = reader.ReadToEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        var expected = new Dictionary<string, int>
        {
            ["[PAD]"] = 0, ["[UNK]"] = 100, ["[CLS]"] = 101, ["[SEP]"] = 102, ["the"] = 1996, ["go"] = 2175, ["to"] = 2000,
            ["red"] = 2417, ["ball"] = 3608, ["pick"] = 4060, ["up"] = 2039, ["key"] = 3145, ["door"] = 2341, ["purple"] = 6379,
            ["grey"] = 4462, ["next"] = 2279, [","] = 1010, ["."] = 1012,
        };
        foreach (var (token, id) in expected) Assert.Equal(token, vocab[id]);
        Assert.Equal((0, 100, 101, 102), (Tokenizer.PadId, Tokenizer.UnknownId, Tokenizer.ClsId, Tokenizer.SepId));
        Assert.Equal(30522, Tokenizer.VocabSize);
        Assert.Equal([101, 2175, 2000, 1996, 2417, 3608, 102], Tokenizer.Encode("go to the red ball"));
        Assert.Equal([101, 4060, 2039, 1996, 4462, 3145, 1010, 2279, 2000, 1996, 6379, 2341, 1012, 102], Tokenizer.Encode("pick up the grey key, next to the purple door."));
    }

    [Fact]
    public void CaseAndAccentsAreFoldedAndUnknownCharactersBecomeUnk()
    {
        Assert.Equal(Tokenizer.Encode("go to the red ball"), Tokenizer.Encode("GO TO THE Red Ball"));
        Assert.Equal(Tokenizer.Encode("cafe naive"), Tokenizer.Encode("café naïve"));
        Assert.Equal([101, 100, 102], Tokenizer.Encode("\U0001F680"));
        // A word outside the vocabulary splits into a first piece and ## continuations that spell it.
        var pieces = Tokenizer.Tokens("Xylophonist");
        Assert.True(pieces.Count > 1);
        Assert.All(pieces.Skip(1), p => Assert.StartsWith("##", p));
        Assert.Equal("xylophonist", string.Concat(pieces.Select(p => p.TrimStart('#'))));
    }

    [Fact]
    public void LongTextsAreCutToMaxTokensKeepingSep()
    {
        var ids = Tokenizer.Encode(string.Join(' ', Enumerable.Repeat("go to the red ball", 100)));
        Assert.Equal(Tokenizer.MaxTokens, ids.Length);
        Assert.Equal((101, 102), (ids[0], ids[^1]));
        Assert.Equal([101, 102], Tokenizer.Encode(""));
    }

    [Fact]
    public void BatchesArePaddedWithPadAndMasked()
    {
        using var scope = NewDisposeScope();
        using var batch = Tokenizer.EncodeBatch(["open a door", "go to the red ball"], padTo: 9);
        Assert.Equal(new long[] { 2, 9 }, batch.Ids.shape);
        Assert.Equal([101L, 2330, 1037, 2341, 102, 0, 0, 0, 0], batch.Ids[0].data<long>().ToArray());
        Assert.Equal([1L, 1, 1, 1, 1, 0, 0, 0, 0], batch.Mask[0].data<long>().ToArray());
        Assert.Equal(7, batch.Mask[1].sum().item<long>());
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.EncodeBatch(["go to the red ball"], padTo: 3));
    }
}
