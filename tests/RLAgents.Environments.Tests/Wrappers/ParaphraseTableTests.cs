using RLAgents.Environments.Configuration;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Tests.Wrappers;

public sealed class ParaphraseTableTests
{
    // Made-up words: the semantics under test do not depend on any language.
    private static ParaphraseTable Table(params (string Key, string[] Alternatives)[] entries) =>
        new(entries.Select(e => KeyValuePair.Create(e.Key, e.Alternatives)));

    private static string First(ParaphraseTable table, string text) => table.Apply(text, new int[table.Count]);

    [Theory]
    [InlineData("zip to the blorp", "zap the blorp")]
    [InlineData("ZIP To the blorp", "zap the blorp")]                 // case-insensitive
    [InlineData("zip \t to\tthe blorp", "zap\tthe blorp")]           // any whitespace between a phrase's words
    [InlineData("zipper to the blorp", "zipper to the blorp")]         // whole words only
    [InlineData("unzip to the blorp", "unzip to the blorp")]
    [InlineData("zip_to the blorp", "zip_to the blorp")]
    [InlineData("zip to the blorp, zip to it", "zap the blorp, zap it")]   // every occurrence
    public void KeysMatchWholeWordsCaseInsensitively(string text, string expected) =>
        Assert.Equal(expected, First(Table(("zip to", ["zap"])), text));

    [Fact]
    public void TheLongestOccurrenceWinsAndReplacedTextIsNotMatchedAgain()
    {
        var table = Table(("zip", ["Z1"]), ("zip to", ["Z2"]), ("to the", ["T"]), ("blorp", ["zip to"]));
        // "zip to" (6 chars) beats "zip" and the overlapping "to the"; "the" is then free of any key.
        Assert.Equal("Z2 the zip to", First(table, "zip to the blorp"));
        // Equal lengths: the leftmost wins.
        var tie = Table(("ab cd", ["X"]), ("cd ef", ["Y"]));
        Assert.Equal("X ef", First(tie, "ab cd ef"));
    }

    [Fact]
    public void ChoicesPickEachKeysAlternativeAndUntouchedTextIsTheSameString()
    {
        var table = Table(("zip", ["one", "two"]), ("blorp", ["three", "four", "five"]));
        Assert.Equal("two the five", table.Apply("zip the blorp", [1, 2]));
        string untouched = "nothing to see";
        Assert.Same(untouched, table.Apply(untouched, [0, 0]));
        var rng = new Rng(5);
        var counts = new int[3];
        Span<int> choices = stackalloc int[2];
        for (int i = 0; i < 300; i++)
        {
            table.Choose(rng, choices);
            Assert.InRange(choices[0], 0, 1);
            counts[choices[1]]++;
        }
        Assert.All(counts, c => Assert.InRange(c, 60, 140));
    }

    [Theory]
    [InlineData("{\"replace\": {\"zip\": \"zap\"}}", "replace[\"zip\"]: expected an array of alternatives, got a string")]
    [InlineData("{\"replace\": {\"zip\": []}}", "replace[\"zip\"]: needs at least one alternative")]
    [InlineData("{\"replace\": {\"zip\": [\"zap\", 3]}}", "replace[\"zip\"][1]: expected a string, got a number")]
    [InlineData("{\"replace\": {\"zip\": [\" \"]}}", "replace[\"zip\"][0]: an alternative must not be empty")]
    [InlineData("{\"replace\": {\"zip\": [\"a\"], \"ZIP\": [\"b\"]}}", "replace[\"ZIP\"]: the same phrase as key \"zip\"")]
    [InlineData("{\"replace\": {\" \": [\"a\"]}}", "replace[\" \"]: a key must hold at least one word")]
    [InlineData("{\"replace\": {}}", "replace: the table replaces nothing")]
    [InlineData("{\"swap\": {}}", "swap: unknown key (the table has only \"replace\")")]
    [InlineData("[1]", "expected an object {\"replace\": {…}}, got an array")]
    [InlineData("{\"replace\": {\"zip\": [\"zap\"]", "not valid JSON at line 1")]
    public void AMalformedTableNamesTheFileTheKeyAndTheProblemInOneLine(string json, string expected)
    {
        using var dir = new TempDirectory();
        string file = dir.Combine("paraphrases.json");
        File.WriteAllText(file, json);
        var error = Assert.Throws<ConfigurationException>(() => ParaphraseTable.Load(file));
        Assert.StartsWith(file + ": ", error.Message);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void AMissingTableIsOneLine()
    {
        var error = Assert.Throws<ConfigurationException>(() => ParaphraseTable.Load("/nonexistent/table.json"));
        Assert.Equal("/nonexistent/table.json: paraphrase table not found", error.Message);
    }

    [Fact]
    public void TheShippedTableLoadsAndRewordsEveryGoToLocalMission()
    {
        var table = ParaphraseTable.Load(Path.Combine(ShippedFiles.Experiments, "paraphrases", "babyai-synonyms.json"));
        var choices = new int[table.Count];
        var rng = new Rng(3);
        using var env = RLAgents.Environments.GridWorld.Levels.BabyAILevels.Make("BabyAI-GoToLocal-v0");
        var vocabulary = new HashSet<string>(RLAgents.Environments.GridWorld.GridWorldVocabulary.Words);
        for (int seed = 0; seed < 100; seed++)
        {
            env.Reset(seed);
            table.Choose(rng, choices);
            string reworded = table.Apply(env.Mission, choices);
            // The verb phrase, the colour and the object are all replaced by words outside GridWorld's vocabulary; only the article stays.
            Assert.Equal(["the"], reworded.Split(' ').Where(vocabulary.Contains).Select(w => w == "a" ? "the" : w));
        }
    }
}
