using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using RLAgents.Core;

namespace RLAgents.LanguageModel.Tokenization;

/// <summary>
/// Hugging Face's own tokenizer files, written beside <c>vocab.json</c>/<c>merges.txt</c> so that
/// <c>Tokenizer.from_file("tokenizer.json")</c> and <c>AutoTokenizer.from_pretrained(folder)</c> load the
/// tokenizer with RLAgents' special tokens as special (matched whole before pre-tokenisation, never split
/// into bytes): <c>tokenizer.json</c> (the full pipeline: added tokens, ByteLevel pre-tokenizer and decoder,
/// the BPE model), <c>tokenizer_config.json</c> (the transformers class and the role of each special token)
/// and <c>special_tokens_map.json</c>.
/// </summary>
public static class HuggingFaceTokenizerFiles
{
    /// <summary>File name of the tokenizers pipeline.</summary>
    public const string TokenizerFile = "tokenizer.json";
    /// <summary>File name of transformers' tokenizer settings.</summary>
    public const string ConfigFile = "tokenizer_config.json";
    /// <summary>File name of transformers' special-token roles.</summary>
    public const string SpecialTokensMapFile = "special_tokens_map.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes the three files for a byte-level BPE vocabulary (byte-symbol spelling) and its merges in rank order.</summary>
    public static void WriteByteLevelBpe(string directory, IReadOnlyDictionary<string, int> vocab, IEnumerable<(string Left, string Right)> merges)
    {
        var specials = SpecialTokens.All.Select(t => (Token: t, Id: vocab[t])).ToList();
        // GPT-2's ByteLevel pre-tokenizer without a prefix space (RLAgents adds none), and no post-processor:
        // <bos>/<eos> are placed by the caller, as Encode does.
        var byteLevel = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true };
        var model = new JsonObject
        {
            ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null, ["end_of_word_suffix"] = null,
            ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
            ["vocab"] = new JsonObject(vocab.OrderBy(kv => kv.Value).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            // "left right" strings: every tokenizers version reads them (byte-level symbols never contain a space).
            ["merges"] = new JsonArray([.. merges.Select(m => (JsonNode?)$"{m.Left} {m.Right}")]),
        };
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0", ["truncation"] = null, ["padding"] = null,
            ["added_tokens"] = new JsonArray([.. specials.Select(s => (JsonNode?)AddedToken(s.Token, s.Id))]),
            ["normalizer"] = null, ["pre_tokenizer"] = byteLevel, ["post_processor"] = null,
            ["decoder"] = byteLevel.DeepClone(), ["model"] = model,
        };
        AtomicFile.WriteText(Path.Combine(directory, TokenizerFile), tokenizer.ToJsonString(Indented));
        WriteTransformersFiles(directory, specials);
    }

    private static JsonObject AddedToken(string content, int id) => new()
    {
        ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
    };

    private static void WriteTransformersFiles(string directory, List<(string Token, int Id)> specials)
    {
        // transformers' named roles; the modality markers are "additional" special tokens.
        var roles = new JsonObject
        {
            ["bos_token"] = SpecialTokens.Bos, ["eos_token"] = SpecialTokens.Eos, ["unk_token"] = SpecialTokens.Unk,
            ["sep_token"] = SpecialTokens.Sep, ["pad_token"] = SpecialTokens.Pad,
            ["additional_special_tokens"] = new JsonArray(SpecialTokens.Image, SpecialTokens.Text, SpecialTokens.Vector),
        };
        AtomicFile.WriteText(Path.Combine(directory, SpecialTokensMapFile), roles.ToJsonString(Indented));
        var config = (JsonObject)roles.DeepClone();
        config["tokenizer_class"] = "PreTrainedTokenizerFast";
        config["add_prefix_space"] = false;
        config["clean_up_tokenization_spaces"] = false;
        config["added_tokens_decoder"] = new JsonObject(specials.Select(s =>
        {
            var token = AddedToken(s.Token, s.Id);
            token.Remove("id");
            return KeyValuePair.Create(s.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), (JsonNode?)token);
        }));
        AtomicFile.WriteText(Path.Combine(directory, ConfigFile), config.ToJsonString(Indented));
    }
}
