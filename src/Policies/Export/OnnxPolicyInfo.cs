using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RLAgents.Environments;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Onnx;
using RLAgents.LanguageModel.Tokenization;

namespace RLAgents.Policies.Export;

/// <summary>How an exported graph takes one text modality: ids of <paramref name="Tokenizer"/>, <paramref name="Length"/> per row (null: any).</summary>
/// <param name="Tokenizer">The tokenizer whose ids the graph reads; its pad id fills rows after the text.</param>
/// <param name="Length">Fixed row length L (the Transformer's <c>maxTextTokens</c>; longer texts are cut), or null for any length.</param>
public sealed record OnnxTextEncoding(ITokenizer Tokenizer, int? Length);

/// <summary>One text input of an exported policy, as its metadata describes it.</summary>
/// <param name="Modality">The modality (and graph input) name.</param>
/// <param name="Length">Token ids per row L (null: any length, the bag-of-tokens MLP).</param>
/// <param name="PadId">The id that fills a row after its text; never counted or attended.</param>
/// <param name="VocabSize">Ids are in [0, VocabSize).</param>
/// <param name="Tokenizer">The folder beside the model holding the tokenizer's files (<c>word_vocab.json</c>, or <c>vocab.json</c> and <c>merges.txt</c>).</param>
public sealed record OnnxTextInput(string Modality, int? Length, int PadId, int VocabSize, string Tokenizer);

/// <summary>
/// What an exported policy file says about itself in its metadata (<c>metadata_props</c>), everything a
/// runtime needs to feed it and read its outputs without RLAgents' configs:
/// <list type="bullet">
/// <item><c>rlagents.format</c>: this contract's version (<see cref="Format"/>).</item>
/// <item><c>rlagents.policy</c>: <c>actor_critic</c> (outputs <c>logits</c> [B, K] and <c>value</c> [B]) or <c>q_network</c> (output <c>q_values</c> [B, K]).</item>
/// <item><c>rlagents.observation_space</c>, <c>rlagents.action_space</c>: the spaces as <see cref="SpaceJson"/>. Input m is modality m:
/// float32/uint8 boxes in their shape [B, …], discrete values int64 [B] (the value itself, start included), text int64 token ids [B, L].</item>
/// <item><c>rlagents.text_inputs</c>: per text modality its <see cref="OnnxTextInput"/> (snake_case JSON).</item>
/// <item><c>rlagents.checkpoint</c>, <c>rlagents.step</c>: where the weights came from, when known.</item>
/// </list>
/// Greedy action = argmax of the first output (the space's start added).
/// </summary>
/// <param name="ObservationSpace">Inputs, one per modality in order.</param>
/// <param name="ActionSpace">Actions: output column j is action <c>Start + j</c>.</param>
/// <param name="IsQNetwork">True for <c>q_values</c> without a value output.</param>
/// <param name="TextInputs">The text modalities' encodings.</param>
/// <param name="Checkpoint">The checkpoint id the weights came from, or null.</param>
/// <param name="Step">Env steps of training behind the weights, or null.</param>
public sealed record OnnxPolicyInfo(ObservationSpace ObservationSpace, DiscreteSpace ActionSpace, bool IsQNetwork,
    IReadOnlyList<OnnxTextInput> TextInputs, string? Checkpoint, long? Step)
{
    /// <summary>Version of this metadata contract.</summary>
    public const int Format = 1;

    /// <summary>Name of the preferences output.</summary>
    public string PreferencesOutput => IsQNetwork ? "q_values" : "logits";

    /// <summary>Name of the value output, or null.</summary>
    public string? ValueOutput => IsQNetwork ? null : "value";

    /// <summary>The memory input of a recurrent policy's graph, float [B, H]: zeros at an episode's first step, else the previous step's <see cref="MemoryOutput"/>.</summary>
    public const string MemoryInput = "memory";

    /// <summary>The memory output of a recurrent policy's graph, float [B, H].</summary>
    public const string MemoryOutput = "memory_out";

    /// <summary>Units of a recurrent policy's memory (H); 0 when the graph has no memory input.</summary>
    public int MemorySize { get; init; }

    /// <summary>The text input of <paramref name="modality"/>, or null.</summary>
    public OnnxTextInput? Text(string modality) => TextInputs.FirstOrDefault(t => t.Modality == modality);

    /// <summary>The metadata entries.</summary>
    public IEnumerable<KeyValuePair<string, string>> ToMetadata()
    {
        yield return new("rlagents.format", Format.ToString(CultureInfo.InvariantCulture));
        yield return new("rlagents.policy", IsQNetwork ? "q_network" : "actor_critic");
        yield return new("rlagents.observation_space", SpaceJson.Write(ObservationSpace).ToJsonString());
        yield return new("rlagents.action_space", SpaceJson.Write(ActionSpace).ToJsonString());
        var texts = new JsonArray(TextInputs.Select(t => (JsonNode)new JsonObject
        {
            ["modality"] = t.Modality, ["length"] = t.Length, ["pad_id"] = t.PadId, ["vocab_size"] = t.VocabSize, ["tokenizer"] = t.Tokenizer,
        }).ToArray());
        yield return new("rlagents.text_inputs", texts.ToJsonString());
        if (MemorySize > 0) yield return new("rlagents.memory_size", MemorySize.ToString(CultureInfo.InvariantCulture));
        if (Checkpoint is not null) yield return new("rlagents.checkpoint", Checkpoint);
        if (Step is long step) yield return new("rlagents.step", step.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Reads the metadata of <paramref name="model"/>; <paramref name="source"/> names the file in errors.</summary>
    /// <exception cref="CheckpointException">The model is not an RLAgents policy export, or its metadata is damaged (one line naming the key).</exception>
    public static OnnxPolicyInfo Read(OnnxModel model, string source)
    {
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in model.MetadataProps)
            if (e.Key is not null) meta[e.Key] = e.Value ?? "";
        string Get(string key) => meta.TryGetValue(key, out var v)
            ? v
            : throw new CheckpointException($"{source}: metadata '{key}' is missing; export the policy with 'rlagents export'");
        if (!meta.TryGetValue("rlagents.format", out var format))
            throw new CheckpointException($"{source}: not an RLAgents policy (no 'rlagents.format' metadata); export one with 'rlagents export'");
        if (format != Format.ToString(CultureInfo.InvariantCulture))
            throw new CheckpointException($"{source}: policy export format {format}; this build reads format {Format}");
        try
        {
            bool q = Get("rlagents.policy") switch
            {
                "q_network" => true,
                "actor_critic" => false,
                var other => throw new InvalidDataException($"rlagents.policy: unknown policy kind '{other}'"),
            };
            var observation = SpaceJson.ReadObservation(JsonNode.Parse(Get("rlagents.observation_space")), "rlagents.observation_space");
            var action = SpaceJson.ReadDiscrete(JsonNode.Parse(Get("rlagents.action_space")), "rlagents.action_space");
            var texts = (JsonNode.Parse(Get("rlagents.text_inputs")) as JsonArray ?? throw new InvalidDataException("rlagents.text_inputs: expected an array"))
                .Select((n, i) => ReadText(n, $"rlagents.text_inputs[{i}]")).ToList();
            long? step = meta.TryGetValue("rlagents.step", out var s) ? long.Parse(s, CultureInfo.InvariantCulture) : null;
            int memory = meta.TryGetValue("rlagents.memory_size", out var m) ? int.Parse(m, CultureInfo.InvariantCulture) : 0;
            return new OnnxPolicyInfo(observation, action, q, texts, meta.GetValueOrDefault("rlagents.checkpoint"), step) { MemorySize = memory };
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or FormatException or InvalidOperationException)
        {
            throw new CheckpointException($"{source}: damaged policy metadata: {e.Message}");
        }
    }

    private static OnnxTextInput ReadText(JsonNode? node, string path)
    {
        if (node is not JsonObject o) throw new InvalidDataException($"{path}: expected an object");
        int Int(string key) => o[key]?.GetValue<int>() ?? throw new InvalidDataException($"{path}.{key}: missing");
        string Str(string key) => o[key]?.GetValue<string>() ?? throw new InvalidDataException($"{path}.{key}: missing");
        return new OnnxTextInput(Str("modality"), o["length"]?.GetValue<int>(), Int("pad_id"), Int("vocab_size"), Str("tokenizer"));
    }
}
