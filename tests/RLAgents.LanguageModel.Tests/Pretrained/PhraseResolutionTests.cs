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

    private static readonly string[] Sentences = ["go to the red ball", "go to the blue box", "pick up the red key", "open the blue door", "Put the RED box next to the blue ball"];

    [Fact]
    public void TheReadOutLearnsTheKeysFromTheirStatesInContextAndReadsTheAlternativesInTheirPlace()
    {
        // The same words (the tokenizer lower-cases) read as their own key; swapped words as the other key.
        var same = PhraseResolution.ReadOut(fixture.Encoder, [("red", ["Red"]), ("blue", ["BLUE"])], Sentences);
        Assert.Equal(6, same.TrainCount);         // red ×3 (one written RED), blue ×3
        Assert.Equal(6, same.AlternativeCount);
        Assert.Equal(1.0, same.Train);
        Assert.Equal(1.0, same.Alternatives);
        var swapped = PhraseResolution.ReadOut(fixture.Encoder, [("red", ["blue"]), ("blue", ["red", "red"])], Sentences);
        Assert.Equal(9, swapped.AlternativeCount);
        Assert.Equal([("red", 0.0), ("blue", 0.0)], swapped.PerKey);
        Assert.Equal([("red", 1.0), ("blue", 1.0)], same.PerKey);
        Assert.Equal(1.0, swapped.Train);
        Assert.Equal(0.0, swapped.Alternatives);
        Assert.Throws<ArgumentException>(() => PhraseResolution.ReadOut(fixture.Encoder, [("red", ["crimson"]), ("green", ["lime"])], ["go to the blue box"]));
    }
}
