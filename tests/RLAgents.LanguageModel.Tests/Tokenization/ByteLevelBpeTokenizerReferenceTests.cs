using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RLAgents.LanguageModel.Tokenization;

namespace RLAgents.LanguageModel.Tests.Tokenization;

/// <summary>
/// RLAgents' byte-level BPE against Hugging Face's tokenizers (Rust core, run offline through npm by
/// Data/make-bpe-reference.mjs) on text outside the Basic Multilingual Plane: mathematical alphanumerics,
/// emoji with skin tones, ZWJ sequences, CJK extension B, plus special tokens, contractions and whitespace.
/// </summary>
public sealed class ByteLevelBpeTokenizerReferenceTests
{
    private static readonly JsonElement Reference =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Tokenization", "Data", "bpe-reference.json"))).RootElement;

    private static readonly Lazy<(ByteLevelBpeTokenizer Tokenizer, string Directory)> Trained = new(() =>
    {
        var corpus = Reference.GetProperty("corpus").EnumerateArray().Select(e => e.GetString()!).ToList();
        var tokenizer = ByteLevelBpeTokenizer.Train(corpus, Reference.GetProperty("vocabSize").GetInt32(), Reference.GetProperty("minFrequency").GetInt32());
        // Kept in the output folder: make-bpe-reference.mjs encodes with exactly this tokenizer.json.
        string dir = Path.Combine(AppContext.BaseDirectory, "bpe-reference-tokenizer");
        tokenizer.Save(dir);
        return (tokenizer, dir);
    });

    public static TheoryData<int> Items() => [.. Enumerable.Range(0, Reference.GetProperty("items").GetArrayLength())];

    [Fact]
    public void TheTokenizerJsonIsTheOneHuggingFaceEncodedWith()
    {
        byte[] file = File.ReadAllBytes(Path.Combine(Trained.Value.Directory, HuggingFaceTokenizerFiles.TokenizerFile));
        Assert.True(Reference.GetProperty("tokenizerSha256").GetString() == Convert.ToHexStringLower(SHA256.HashData(file)),
            "training or tokenizer.json changed: regenerate Data/bpe-reference.json with Data/make-bpe-reference.mjs");
    }

    [Theory]
    [MemberData(nameof(Items))]
    public void IdsMatchHuggingFaceTokenizers(int index)
    {
        var item = Reference.GetProperty("items")[index];
        string text = item.GetProperty("text").GetString()!;
        int[] expected = [.. item.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())];
        var tokenizer = Trained.Value.Tokenizer;
        Assert.Equal(expected, tokenizer.Encode(text));
        Assert.Equal(text, tokenizer.Decode(expected));
        Assert.Equal(item.GetProperty("decoded").GetString(), tokenizer.Decode(expected));
    }

    [Fact]
    public void PreTokenizationSplitsOnCodePointsAsHuggingFaceDoes()
    {
        var texts = Reference.GetProperty("preTokenize").EnumerateArray().Select(e => e.GetString()!).ToList();
        var expected = Reference.GetProperty("preTokenized").EnumerateArray().Select(a => a.EnumerateArray().Select(e => e.GetString()!).ToArray()).ToList();
        for (int i = 0; i < texts.Count; i++)
        {
            string text = texts[i];
            var pieces = Gpt2PreTokenizer.Default.Split(text).Select(p => ByteSymbols(text.Substring(p.Offset, p.Length))).ToArray();
            Assert.Equal(expected[i], pieces);
        }
        // The case .NET's UTF-16 regex got wrong: letters outside the BMP are letters.
        Assert.Equal(["x𝐀𝐂", "."], Gpt2PreTokenizer.Default.Split("x𝐀𝐂.").Select(p => "x𝐀𝐂.".Substring(p.Offset, p.Length)));
    }

    [Fact]
    public void MergesLearnedOnLettersOutsideTheBmpAreApplied()
    {
        // 𝐀𝐂 (8 UTF-8 bytes) is frequent in the corpus: trained merges join it, and Hugging Face applies them (ids above).
        var tokenizer = Trained.Value.Tokenizer;
        Assert.True(tokenizer.Encode("𝐀𝐂").Length < 4, string.Join(",", tokenizer.Encode("𝐀𝐂")));
        Assert.True(tokenizer.Encode("𠀀𠀁").Length < 4, string.Join(",", tokenizer.Encode("𠀀𠀁")));
    }

    [Fact]
    public void SpecialTokensAreSpecialInTheHuggingFaceFiles()
    {
        string dir = Trained.Value.Directory;
        using var tokenizerJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, HuggingFaceTokenizerFiles.TokenizerFile)));
        var added = tokenizerJson.RootElement.GetProperty("added_tokens").EnumerateArray().ToList();
        Assert.Equal(SpecialTokens.All, added.Select(t => t.GetProperty("content").GetString()));
        Assert.All(added, t => Assert.True(t.GetProperty("special").GetBoolean()));
        Assert.All(added, t => Assert.Equal(Trained.Value.Tokenizer.TokenToId(t.GetProperty("content").GetString()!), t.GetProperty("id").GetInt32()));
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, HuggingFaceTokenizerFiles.ConfigFile)));
        Assert.Equal(SpecialTokens.Pad, config.RootElement.GetProperty("pad_token").GetString());
        Assert.Equal(SpecialTokens.Bos, config.RootElement.GetProperty("bos_token").GetString());
        using var map = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, HuggingFaceTokenizerFiles.SpecialTokensMapFile)));
        Assert.Equal(SpecialTokens.Eos, map.RootElement.GetProperty("eos_token").GetString());
        // The reference ids show Hugging Face keeps "<bos>" whole instead of splitting it into bytes.
        var item = Reference.GetProperty("items").EnumerateArray().First(i => i.GetProperty("text").GetString()!.StartsWith("<bos>𝐀", StringComparison.Ordinal));
        Assert.Equal(Trained.Value.Tokenizer.Special.Bos, item.GetProperty("ids")[0].GetInt32());
    }

    private static string ByteSymbols(string piece) => string.Concat(Encoding.UTF8.GetBytes(piece).Select(b => ByteToUnicode.Encode(b)));
}
