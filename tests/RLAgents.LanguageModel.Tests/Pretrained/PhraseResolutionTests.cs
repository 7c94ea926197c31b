using RLAgents.LanguageModel.Pretrained;

namespace RLAgents.LanguageModel.Tests.Pretrained;

[Collection(MiniLmCollection.Name)]
public class PhraseResolutionTests(MiniLmFixture fixture)
{
    [Fact]
    public void AnAlternativeResolvesToTheKeyItsEmbeddingIsNearest()
    {
        // The tokenizer lower-cases, so "Red Ball" embeds exactly as its key; "box" IS another key, so the
        // alternative that spells it must resolve there and not to the key it was listed under.
        var rows = PhraseResolution.Measure(fixture.Encoder,
        [
            ("red ball", ["Red  Ball"]),
            ("go to", ["GO TO", "box"]),
            ("box", ["a box"]),
        ]);
        Assert.Equal(["Red  Ball", "GO TO", "box", "a box"], rows.Select(r => r.Alternative));
        Assert.True(rows[0].Resolved);
        Assert.Equal(1.0, rows[0].OwnCosine, 4);
        Assert.True(rows[1].Resolved);
        Assert.False(rows[2].Resolved);
        Assert.Equal("go to", rows[2].Key);
        Assert.Equal("box", rows[2].Nearest);
        Assert.Equal(1.0, rows[2].NearestCosine, 4);
        Assert.True(rows[2].OwnCosine < rows[2].NearestCosine);
        Assert.Equal("box", rows[3].Nearest);
        Assert.All(rows, r => Assert.True(r.NearestCosine >= r.OwnCosine));
    }

    [Fact]
    public void OneKeyHasNothingToChooseBetween() =>
        Assert.Throws<ArgumentException>(() => PhraseResolution.Measure(fixture.Encoder, [("red", ["crimson"])]));
}
