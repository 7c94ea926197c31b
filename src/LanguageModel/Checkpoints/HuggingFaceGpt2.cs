using System.Text.Json;
using System.Text.Json.Nodes;
using RLAgents.Core;
using RLAgents.LanguageModel.Model;
using RLAgents.LanguageModel.Tokenization;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Checkpoints;

/// <summary>
/// Loads a Hugging Face GPT-2 folder (<c>config.json</c> + <c>model.safetensors</c>) into a
/// <see cref="GptModel"/>. GPT-2's names already match ours (<c>wte</c>, <c>wpe</c>,
/// <c>h.{i}.ln_1</c>, <c>h.{i}.attn.c_attn</c>, …, <c>ln_f</c>), optionally under a
/// <c>transformer.</c> prefix (GPT2LMHeadModel). Its attention and MLP projections are Conv1D
/// layers storing W as [in, out], the transpose of Linear's [out, in], so those four weights per
/// block are transposed. <c>lm_head.weight</c> is the tied embedding and the causal-mask buffers
/// <c>attn.bias</c> / <c>attn.masked_bias</c> of older files carry no weights; all three are skipped.
/// <see cref="Save"/> writes the same layout back (GPT2LMHeadModel's names and <c>config.json</c> keys), so
/// transformers' <c>GPT2LMHeadModel.from_pretrained(folder)</c> loads a model RLAgents pretrained.
/// </summary>
public static class HuggingFaceGpt2
{
    private static readonly string[] Conv1DSuffixes = [".attn.c_attn.weight", ".attn.c_proj.weight", ".mlp.c_fc.weight", ".mlp.c_proj.weight"];

    /// <summary>Reads <c>config.json</c> (vocab_size, n_positions, n_embd, n_layer, n_head, layer_norm_epsilon, activation_function).</summary>
    public static GptConfig ReadConfig(string folder)
    {
        string path = Path.Combine(folder, "config.json");
        if (!File.Exists(path)) throw new CheckpointException($"{path}: file not found.");
        JsonElement root;
        try { root = JsonDocument.Parse(File.ReadAllText(path)).RootElement; }
        catch (JsonException e) { throw new CheckpointException($"{path}: not valid JSON ({e.Message})."); }

        int Int(string key, string? fallback = null)
        {
            if (root.TryGetProperty(key, out var v) && v.TryGetInt32(out int i)) return i;
            if (fallback is not null && root.TryGetProperty(fallback, out var f) && f.TryGetInt32(out int j)) return j;
            throw new CheckpointException($"{path}: integer '{key}' is missing.");
        }
        string activation = root.TryGetProperty("activation_function", out var a) ? a.GetString() ?? "gelu_new" : "gelu_new";
        var config = new GptConfig
        {
            VocabSize = Int("vocab_size"),
            BlockSize = Int("n_positions", "n_ctx"),
            NEmbd = Int("n_embd"),
            NLayer = Int("n_layer"),
            NHead = Int("n_head"),
            Bias = true,
            Causal = true,
            Dropout = 0,
            LayerNormEpsilon = root.TryGetProperty("layer_norm_epsilon", out var eps) ? eps.GetDouble() : 1e-5,
            Activation = activation switch
            {
                "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => GptActivation.GeluTanh,
                "gelu" => GptActivation.Gelu,
                _ => throw new CheckpointException($"{path}: activation_function '{activation}' is not supported (gelu_new, gelu_pytorch_tanh, gelu)."),
            },
        };
        try { config.Validate(); }
        catch (System.ComponentModel.DataAnnotations.ValidationException e) { throw new CheckpointException($"{path}: {e.Message}"); }
        return config;
    }

    /// <summary>Builds a model from the folder's configuration and loads its weights (all-or-nothing).</summary>
    public static GptModel Load(string folder)
    {
        var config = ReadConfig(folder);
        var model = new GptModel(config);
        try
        {
            LoadWeights(model, Path.Combine(folder, "model.safetensors"));
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Loads GPT-2 weights from <paramref name="safetensorsPath"/> into <paramref name="model"/>.</summary>
    public static void LoadWeights(GptModel model, string safetensorsPath)
    {
        using var contents = Safetensors.Read(safetensorsPath);
        using var scope = NewDisposeScope();
        var mapped = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (hfName, value) in contents.Tensors)
        {
            string name = hfName.StartsWith("transformer.", StringComparison.Ordinal) ? hfName["transformer.".Length..] : hfName;
            if (name == "lm_head.weight" || name.EndsWith(".attn.bias", StringComparison.Ordinal) || name.EndsWith(".attn.masked_bias", StringComparison.Ordinal))
                continue;
            if (Conv1DSuffixes.Any(s => name.EndsWith(s, StringComparison.Ordinal)))
            {
                if (value.dim() != 2)
                    throw new CheckpointException($"{safetensorsPath}: tensor '{hfName}' is a Conv1D weight and must be 2-D [in, out], got [{string.Join(", ", value.shape)}].");
                mapped[name] = value.t();
            }
            else mapped[name] = value;
        }
        ModelWeights.Load(model, mapped, safetensorsPath);
    }

    /// <summary>
    /// Writes <paramref name="model"/> in Hugging Face's GPT-2 layout into <paramref name="folder"/>: <c>config.json</c>
    /// (GPT2Config keys), <c>model.safetensors</c> (GPT2LMHeadModel names under <c>transformer.</c>, Conv1D weights
    /// stored [in, out], the tied <c>lm_head</c> left out as transformers does, <c>format: pt</c> metadata) and, with a
    /// <paramref name="tokenizer"/>, its files (vocab.json, merges.txt, tokenizer.json, …) and its bos/eos ids.
    /// LoRA adapters must be merged first (their base weights are what GPT-2 can hold).
    /// </summary>
    /// <exception cref="CheckpointException">The model has a shape GPT-2 cannot express (no biases, bidirectional attention, unmerged adapters).</exception>
    public static void Save(GptModel model, string folder, ITokenizer? tokenizer = null)
    {
        var c = model.Config;
        if (!c.Bias) throw new CheckpointException("GPT-2 layers carry biases; a model with bias: false cannot be exported to the GPT-2 layout.");
        if (!c.Causal) throw new CheckpointException("GPT-2 is a causal decoder; a bidirectional model cannot be exported to the GPT-2 layout.");
        if (model.Projections().Any(p => p.Layer.HasAdapter && !p.Layer.IsMerged))
            throw new CheckpointException("the model carries unmerged LoRA adapters; merge them (LoraAdapters.Merge) before exporting to the GPT-2 layout.");
        Directory.CreateDirectory(folder);
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("GPT2LMHeadModel"),
            ["model_type"] = "gpt2",
            ["vocab_size"] = c.VocabSize,
            ["n_positions"] = c.BlockSize,
            ["n_ctx"] = c.BlockSize,
            ["n_embd"] = c.NEmbd,
            ["n_layer"] = c.NLayer,
            ["n_head"] = c.NHead,
            ["n_inner"] = null,
            ["activation_function"] = c.Activation == GptActivation.GeluTanh ? "gelu_new" : "gelu",
            ["layer_norm_epsilon"] = c.LayerNormEpsilon,
            ["resid_pdrop"] = c.Dropout,
            ["embd_pdrop"] = c.Dropout,
            ["attn_pdrop"] = c.Dropout,
            ["initializer_range"] = 0.02,
            ["scale_attn_weights"] = true,
            ["tie_word_embeddings"] = true,
            ["use_cache"] = true,
            ["torch_dtype"] = "float32",
        };
        if (tokenizer is not null)
        {
            config["bos_token_id"] = tokenizer.Special.Bos;
            config["eos_token_id"] = tokenizer.Special.Eos;
            config["pad_token_id"] = tokenizer.Special.Pad;
        }
        using (var scope = NewDisposeScope())
        {
            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var (name, tensor) in ModelWeights.Named(model))
            {
                if (ModelWeights.IsAdapterTensor(name)) continue;
                // Conv1D keeps W as [in, out]; Linear's [out, in] is transposed (and made contiguous for the file).
                tensors["transformer." + name] = Conv1DSuffixes.Any(s => name.EndsWith(s, StringComparison.Ordinal)) ? tensor.detach().t().contiguous() : tensor.detach();
            }
            Safetensors.Write(Path.Combine(folder, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        }
        AtomicFile.WriteText(Path.Combine(folder, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        tokenizer?.Save(folder);
    }
}
