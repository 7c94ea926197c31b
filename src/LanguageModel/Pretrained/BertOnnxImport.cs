using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Onnx;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Pretrained;

/// <summary>
/// Reads a BERT exported to ONNX (Hugging Face <c>BertModel</c> through <c>torch.onnx.export</c>) into
/// a <see cref="BertEncoder"/>. Exporters give the Linear weights generated names (PyTorch 1.10:
/// <c>927</c>; 2.x: <c>onnx::MatMul_788</c>) and store them transposed, (in, out), as the MatMul's
/// right operand. Nothing here depends on those names: every weight is found by following the graph
/// from the node that consumes it. A Linear is a MatMul (or Gemm) whose right operand is an
/// initializer, followed by an Add of a bias initializer, and it takes the bias's name
/// (<c>encoder.layer.0.attention.self.query.bias</c> names <c>encoder.layer.0.attention.self.query</c>).
/// LayerNorm is either a LayerNormalization node or the decomposed ReduceMean / Sub / Pow / Sqrt / Div
/// / Mul / Add chain, named by its scale initializer. Embedding tables are the Gathers indexed by the
/// <c>input_ids</c> and <c>token_type_ids</c> graph inputs, and the remaining float Gather (positions).
/// Heads come from the Reshape that splits the query into (B, T, heads, head size), ε from the
/// constant added before the square root. The pooler is not part of <c>last_hidden_state</c> and is skipped.
/// </summary>
public static partial class BertOnnxImport
{
    [GeneratedRegex(@"^(?:bert\.)?encoder\.layer\.(\d+)\.(attention\.self\.query|attention\.self\.key|attention\.self\.value|attention\.output\.dense|attention\.output\.LayerNorm|intermediate\.dense|output\.dense|output\.LayerNorm)$")]
    private static partial Regex LayerModule();

    /// <summary>A Linear found in the graph: W in torch's (out, in) layout (still an ONNX tensor), and b.</summary>
    private sealed record Linear(string Module, OnnxTensor Weight, bool StoredTransposed, OnnxTensor Bias, string BiasOutput);

    private sealed record Norm(string Module, OnnxTensor Scale, OnnxTensor Shift, double Epsilon);

    /// <summary>The pieces of a BERT graph, found by walking it once.</summary>
    private sealed class Parts
    {
        public required OnnxTensor Word, Position, TokenType;
        public required Dictionary<string, Linear> Linears;
        public required Dictionary<string, Norm> Norms;
        public required int Heads;
        public required int Layers;
    }

    /// <summary>Reads the architecture from the graph; throws <see cref="PretrainedModelException"/> if it is not a supported BERT.</summary>
    public static BertConfig ReadConfig(OnnxGraph graph, string source) => Config(Analyse(graph, source), source);

    /// <summary>
    /// Builds a <see cref="BertEncoder"/> from an ONNX BERT and loads its weights (all-or-nothing,
    /// shapes checked by <see cref="ModelWeights.Load(TorchSharp.torch.nn.Module, IReadOnlyDictionary{string, Tensor}, string, Func{string, bool}?, string)"/>).
    /// <paramref name="dropout"/> is the training-time dropout of the new encoder (0 = none).
    /// </summary>
    public static BertEncoder Load(OnnxGraph graph, string source, double dropout = 0)
    {
        var parts = Analyse(graph, source);
        var config = Config(parts, source).WithDropout(dropout);
        var encoder = new BertEncoder(config);
        try
        {
            using var scope = NewDisposeScope();
            var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal)
            {
                ["word_embeddings.weight"] = parts.Word.ToTensor(),
                ["position_embeddings.weight"] = parts.Position.ToTensor(),
                ["token_type_embeddings.weight"] = parts.TokenType.ToTensor(),
            };
            AddNorm(weights, "ln_embeddings", parts.Norms, "embeddings.LayerNorm", source);
            for (int i = 0; i < parts.Layers; i++)
            {
                string hf = $"encoder.layer.{i}.", ours = $"layers.{i}.";
                // BERT's separate q, k, v become the fused c_attn: rows [q; k; v] of the (3C, C) weight, as CausalSelfAttention splits them.
                var qkv = new[] { "attention.self.query", "attention.self.key", "attention.self.value" }.Select(m => Find(parts.Linears, hf + m, source)).ToArray();
                weights[ours + "attn.c_attn.weight"] = cat(qkv.Select(WeightOutIn).ToArray(), 0);
                weights[ours + "attn.c_attn.bias"] = cat(qkv.Select(l => l.Bias.ToTensor()).ToArray(), 0);
                AddLinear(weights, ours + "attn.c_proj", Find(parts.Linears, hf + "attention.output.dense", source));
                AddNorm(weights, ours + "ln_1", parts.Norms, hf + "attention.output.LayerNorm", source);
                AddLinear(weights, ours + "mlp.c_fc", Find(parts.Linears, hf + "intermediate.dense", source));
                AddLinear(weights, ours + "mlp.c_proj", Find(parts.Linears, hf + "output.dense", source));
                AddNorm(weights, ours + "ln_2", parts.Norms, hf + "output.LayerNorm", source);
            }
            try
            {
                ModelWeights.Load(encoder, weights, source);
            }
            catch (CheckpointException e)
            {
                throw new PretrainedModelException(e.Message);
            }
            return encoder;
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    /// <summary>
    /// SHA-256 (lower-case hex) of the graph's initializers, the model's weights as stored: for each
    /// initializer in ordinal name order, the UTF-8 name's byte count (int32 LE) and bytes, the data
    /// type (int32 LE), the rank (int32 LE) and dims (int64 LE each), the data's byte count (int64 LE)
    /// and its little-endian bytes (raw_data, or the typed field converted). Independent of how the
    /// file orders or encodes them and of how <see cref="BertEncoder"/> names its parameters, so a
    /// checkpoint can record which base weights it was trained from and check them on load.
    /// </summary>
    public static string WeightsSha256(OnnxGraph graph)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> word = stackalloc byte[8];
        foreach (var t in graph.Initializers.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            var name = Encoding.UTF8.GetBytes(t.Name ?? "");
            BinaryPrimitives.WriteInt32LittleEndian(word, name.Length);
            hash.AppendData(word[..4]);
            hash.AppendData(name);
            BinaryPrimitives.WriteInt32LittleEndian(word, (int)(t.DataType ?? OnnxDataType.Undefined));
            hash.AppendData(word[..4]);
            BinaryPrimitives.WriteInt32LittleEndian(word, t.Dims.Count);
            hash.AppendData(word[..4]);
            foreach (long d in t.Dims)
            {
                BinaryPrimitives.WriteInt64LittleEndian(word, d);
                hash.AppendData(word);
            }
            var data = t.GetDataBytes().Span;
            BinaryPrimitives.WriteInt64LittleEndian(word, data.Length);
            hash.AppendData(word);
            hash.AppendData(data);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static BertConfig Config(Parts parts, string source)
    {
        var config = new BertConfig
        {
            VocabSize = (int)parts.Word.Dims[0],
            Width = (int)parts.Word.Dims[1],
            MaxPositions = (int)parts.Position.Dims[0],
            TypeVocabSize = (int)parts.TokenType.Dims[0],
            Layers = parts.Layers,
            Heads = parts.Heads,
            MlpWidth = (int)Find(parts.Linears, "encoder.layer.0.intermediate.dense", source).Bias.ElementCount,
            LayerNormEpsilon = parts.Norms.TryGetValue("embeddings.LayerNorm", out var ln) ? ln.Epsilon
                : throw new PretrainedModelException($"{source}: no embedding LayerNorm (embeddings.LayerNorm) found in the graph."),
        };
        try { config.Validate(); }
        catch (System.ComponentModel.DataAnnotations.ValidationException e) { throw new PretrainedModelException($"{source}: {e.Message}"); }
        return config;
    }

    private static Tensor WeightOutIn(Linear linear)
    {
        var w = linear.Weight.ToTensor();
        return linear.StoredTransposed ? w.t() : w;  // (in, out) → (out, in)
    }

    private static void AddLinear(Dictionary<string, Tensor> weights, string name, Linear linear)
    {
        weights[name + ".weight"] = WeightOutIn(linear);
        weights[name + ".bias"] = linear.Bias.ToTensor();
    }

    private static void AddNorm(Dictionary<string, Tensor> weights, string name, Dictionary<string, Norm> norms, string module, string source)
    {
        if (!norms.TryGetValue(module, out var norm)) throw new PretrainedModelException($"{source}: LayerNorm '{module}' not found in the graph.");
        weights[name + ".weight"] = norm.Scale.ToTensor();
        weights[name + ".bias"] = norm.Shift.ToTensor();
    }

    private static Linear Find(Dictionary<string, Linear> linears, string module, string source)
    {
        if (linears.TryGetValue(module, out var linear)) return linear;
        throw new PretrainedModelException($"{source}: Linear '{module}' not found in the graph (found {linears.Count} Linears).");
    }

    private static Parts Analyse(OnnxGraph graph, string source)
    {
        var walk = new GraphWalk(graph);
        var linears = FindLinears(walk, source);
        var norms = FindNorms(walk, source);
        // The "bert." prefix (BertFor… heads) is dropped so names read the same either way.
        linears = linears.ToDictionary(kv => kv.Key.StartsWith("bert.", StringComparison.Ordinal) ? kv.Key[5..] : kv.Key, kv => kv.Value);
        norms = norms.ToDictionary(kv => kv.Key.StartsWith("bert.", StringComparison.Ordinal) ? kv.Key[5..] : kv.Key, kv => kv.Value);

        var layerIndices = new SortedSet<int>();
        foreach (var module in linears.Keys.Concat(norms.Keys))
        {
            var m = LayerModule().Match(module);
            if (m.Success) layerIndices.Add(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
            else if (module != "embeddings.LayerNorm" && !module.StartsWith("pooler.", StringComparison.Ordinal))
                throw new PretrainedModelException($"{source}: '{module}' has no place in a BERT encoder (is this a BERT export?).");
        }
        if (layerIndices.Count == 0) throw new PretrainedModelException($"{source}: no encoder layers (encoder.layer.N.…) found; is this a BERT export?");
        if (layerIndices.Min != 0 || layerIndices.Max != layerIndices.Count - 1)
            throw new PretrainedModelException($"{source}: encoder layers are not numbered 0..{layerIndices.Count - 1}.");

        var (word, tokenType, position) = FindEmbeddings(walk, source);
        int heads = FindHeads(walk, Find(linears, "encoder.layer.0.attention.self.query", source), (int)word.Dims[1], source);
        CheckGeluErf(walk, Find(linears, "encoder.layer.0.intermediate.dense", source), source);
        return new Parts { Word = word, Position = position, TokenType = tokenType, Linears = linears, Norms = norms, Heads = heads, Layers = layerIndices.Count };
    }

    private static Dictionary<string, Linear> FindLinears(GraphWalk walk, string source)
    {
        var linears = new Dictionary<string, Linear>(StringComparer.Ordinal);
        foreach (var node in walk.Graph.Nodes)
        {
            if (node.OpType is not ("MatMul" or "Gemm") || node.Inputs.Count < 2) continue;
            // The right operand: an initializer stored (in, out), or a Transpose of one stored (out, in).
            OnnxTensor? weight = walk.FloatInitializer(node.Inputs[1], rank: 2);
            bool transposed = weight is not null;
            if (weight is null && walk.Producer(node.Inputs[1]) is { OpType: "Transpose" } t && walk.FloatInitializer(t.Inputs[0], rank: 2) is { } w)
                (weight, transposed) = (w, false);
            if (weight is null) continue;  // attention's Q·Kᵀ and P·V multiply activations
            if (node.OpType == "Gemm" && node.Attribute("transB")?.I == 1) transposed = !transposed;

            OnnxTensor? bias;
            string biasOutput;
            if (node.OpType == "Gemm" && node.Inputs.Count > 2 && walk.FloatInitializer(node.Inputs[2], rank: 1) is { } gemmBias)
                (bias, biasOutput) = (gemmBias, node.Outputs[0]);
            else
            {
                var add = walk.Consumers(node.Outputs[0]).FirstOrDefault(c => c.OpType == "Add");
                string? other = add?.Inputs.FirstOrDefault(i => i != node.Outputs[0]);
                bias = other is null ? null : walk.FloatInitializer(other, rank: 1);
                biasOutput = add?.Outputs[0] ?? "";
            }
            if (bias is null)
                throw new PretrainedModelException($"{source}: the {node.OpType} consuming weight '{weight.Name}' adds no bias initializer; BERT Linears all carry a bias.");
            string biasName = bias.Name ?? "";
            if (!biasName.EndsWith(".bias", StringComparison.Ordinal))
                throw new PretrainedModelException($"{source}: bias '{biasName}' of weight '{weight.Name}' does not name its module (expected '<module>.bias').");
            string module = biasName[..^5];
            if (linears.ContainsKey(module)) throw new PretrainedModelException($"{source}: Linear '{module}' appears twice in the graph.");
            linears[module] = new Linear(module, weight, transposed, bias, biasOutput);
        }
        return linears;
    }

    private static Dictionary<string, Norm> FindNorms(GraphWalk walk, string source)
    {
        var norms = new Dictionary<string, Norm>(StringComparer.Ordinal);
        void Add(OnnxTensor scale, OnnxTensor shift, double epsilon)
        {
            string name = scale.Name ?? "";
            if (!name.EndsWith(".weight", StringComparison.Ordinal))
                throw new PretrainedModelException($"{source}: LayerNorm scale '{name}' does not name its module (expected '<module>.weight').");
            norms[name[..^7]] = new Norm(name[..^7], scale, shift, epsilon);
        }
        foreach (var node in walk.Graph.Nodes)
        {
            if (node.OpType == "LayerNormalization" && node.Inputs.Count >= 3
                && walk.FloatInitializer(node.Inputs[1], rank: 1) is { } scale && walk.FloatInitializer(node.Inputs[2], rank: 1) is { } shift)
            {
                Add(scale, shift, node.Attribute("epsilon")?.F ?? 1e-5f);
                continue;
            }
            // Decomposed: y = (x − mean) / Sqrt(var + ε) · γ + β.
            if (node.OpType != "Sqrt") continue;
            var epsAdd = walk.Producer(node.Inputs[0]);
            if (epsAdd?.OpType != "Add") continue;
            double? eps = epsAdd.Inputs.Select(walk.ScalarConstant).FirstOrDefault(v => v is not null);
            var div = walk.Consumers(node.Outputs[0]).FirstOrDefault(c => c.OpType == "Div");
            var mul = div is null ? null : walk.Consumers(div.Outputs[0]).FirstOrDefault(c => c.OpType == "Mul");
            var gamma = mul?.Inputs.Select(i => walk.FloatInitializer(i, rank: 1)).FirstOrDefault(t => t is not null);
            var addBeta = mul is null ? null : walk.Consumers(mul.Outputs[0]).FirstOrDefault(c => c.OpType == "Add");
            var beta = addBeta?.Inputs.Select(i => walk.FloatInitializer(i, rank: 1)).FirstOrDefault(t => t is not null);
            if (eps is null || gamma is null || beta is null)
                throw new PretrainedModelException($"{source}: Sqrt node '{node.Name}' looks like a LayerNorm but its ε, scale or shift is not a constant.");
            Add(gamma, beta, eps.Value);
        }
        return norms;
    }

    private static (OnnxTensor Word, OnnxTensor TokenType, OnnxTensor Position) FindEmbeddings(GraphWalk walk, string source)
    {
        OnnxTensor? word = null, tokenType = null, position = null;
        foreach (var node in walk.Graph.Nodes)
        {
            if (node.OpType != "Gather" || node.Inputs.Count < 2 || walk.FloatInitializer(node.Inputs[0], rank: 2) is not { } table) continue;
            switch (node.Inputs[1])
            {
                case "input_ids": word = table; break;
                case "token_type_ids": tokenType = table; break;
                default:
                    if (position is not null && position != table)
                        throw new PretrainedModelException($"{source}: more than one embedding table besides words and token types ('{position.Name}', '{table.Name}').");
                    position = table;
                    break;
            }
        }
        if (word is null) throw new PretrainedModelException($"{source}: no word-embedding Gather indexed by the 'input_ids' input.");
        if (tokenType is null) throw new PretrainedModelException($"{source}: no token-type Gather indexed by the 'token_type_ids' input.");
        if (position is null) throw new PretrainedModelException($"{source}: no position-embedding Gather.");
        if (position.Dims[1] != word.Dims[1] || tokenType.Dims[1] != word.Dims[1])
            throw new PretrainedModelException($"{source}: embedding widths differ (words {word.Dims[1]}, positions {position.Dims[1]}, token types {tokenType.Dims[1]}).");
        return (word, tokenType, position);
    }

    /// <summary>Heads from the Reshape of the query to (B, T, heads, head size): its shape is a constant or a Concat ending in two constants.</summary>
    private static int FindHeads(GraphWalk walk, Linear query, int width, string source)
    {
        var reshape = walk.Consumers(query.BiasOutput).FirstOrDefault(c => c.OpType == "Reshape");
        long[]? shape = null;
        if (reshape is not null)
        {
            shape = walk.IntsConstant(reshape.Inputs[1]);
            if (shape is null && walk.Producer(reshape.Inputs[1]) is { OpType: "Concat" } concat && concat.Inputs.Count == 4)
            {
                var parts = concat.Inputs.Skip(2).Select(walk.IntsConstant).ToArray();
                if (parts.All(p => p is { Length: 1 })) shape = [0, 0, parts[0]![0], parts[1]![0]];
            }
        }
        if (shape is not { Length: 4 } || shape[2] <= 0 || shape[3] <= 0 || shape[2] * shape[3] != width)
            throw new PretrainedModelException($"{source}: cannot read the number of heads from the Reshape after '{query.Module}' (need (B, T, heads, head size) with heads × head size = {width}).");
        return (int)shape[2];
    }

    /// <summary>BertEncoder computes exact GELU; the intermediate output must reach an Erf (x · ½ · (1 + erf(x / √2))).</summary>
    private static void CheckGeluErf(GraphWalk walk, Linear intermediate, string source)
    {
        var frontier = new List<string> { intermediate.BiasOutput };
        for (int hop = 0; hop < 3; hop++)
        {
            var next = frontier.SelectMany(walk.Consumers).ToList();
            if (next.Any(n => n.OpType == "Erf")) return;
            frontier = next.SelectMany(n => n.Outputs).ToList();
        }
        throw new PretrainedModelException($"{source}: the MLP activation after '{intermediate.Module}' is not GELU (erf); only that activation is supported.");
    }

    /// <summary>Indexes of a graph for walking it: initializers by name, the producer and consumers of each value, Constant values.</summary>
    private sealed class GraphWalk
    {
        private readonly Dictionary<string, OnnxTensor> _initializers = new(StringComparer.Ordinal);
        private readonly Dictionary<string, OnnxNode> _producers = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<OnnxNode>> _consumers = new(StringComparer.Ordinal);

        public GraphWalk(OnnxGraph graph)
        {
            Graph = graph;
            foreach (var t in graph.Initializers) if (t.Name is not null) _initializers[t.Name] = t;
            foreach (var node in graph.Nodes)
            {
                foreach (var o in node.Outputs) _producers[o] = node;
                foreach (var i in node.Inputs)
                {
                    if (!_consumers.TryGetValue(i, out var list)) _consumers[i] = list = [];
                    list.Add(node);
                }
            }
        }

        public OnnxGraph Graph { get; }

        public OnnxNode? Producer(string value) => _producers.GetValueOrDefault(value);

        public IReadOnlyList<OnnxNode> Consumers(string value) => _consumers.TryGetValue(value, out var list) ? list : [];

        public OnnxTensor? FloatInitializer(string name, int rank) =>
            _initializers.TryGetValue(name, out var t) && t.DataType == OnnxDataType.Float && t.Dims.Count == rank ? t : null;

        /// <summary>The tensor behind a value that is an initializer or a Constant node's output, or null.</summary>
        private OnnxTensor? ConstantTensor(string name) =>
            _initializers.TryGetValue(name, out var t) ? t
            : Producer(name) is { OpType: "Constant" } c ? c.Attribute("value")?.T : null;

        public double? ScalarConstant(string name) =>
            ConstantTensor(name) is { ElementCount: 1 } t && t.DataType is OnnxDataType.Float or OnnxDataType.Double
                ? (t.DataType == OnnxDataType.Float ? BitConverter.ToSingle(t.GetDataBytes().Span) : BitConverter.ToDouble(t.GetDataBytes().Span))
                : null;

        public long[]? IntsConstant(string name)
        {
            if (ConstantTensor(name) is not { DataType: OnnxDataType.Int64 } t) return null;
            var bytes = t.GetDataBytes().Span;
            var values = new long[t.ElementCount];
            for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 * i)..]);
            return values;
        }
    }
}
