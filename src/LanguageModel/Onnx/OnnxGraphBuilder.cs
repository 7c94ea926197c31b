using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Onnx;

/// <summary>
/// A module's forward pass that cannot be written as ONNX (a plug-in encoder, a causal mask, an
/// opset out of range). The message is one line naming the module path and what is missing.
/// </summary>
public sealed class OnnxExportException(string message) : Exception(message);

/// <summary>
/// Marks a module whose inference pass has an ONNX twin written through <see cref="OnnxGraphBuilder"/>
/// (its <c>ExportOnnx</c> method). Exporters check every module of a model for it before writing,
/// so a module without one (a plug-in encoder, a newer module) is named in one line up front.
/// </summary>
public interface IOnnxExportable;

/// <summary>
/// Writes an ONNX graph op by op: the exporter's one code path from TorchSharp modules to
/// <see cref="OnnxModel"/>. Modules emit their forward pass through it (value names in, value
/// names out); weights become initializers under the module's qualified name; shapes stay dynamic
/// where the module's forward is (the batch axis always), so no dummy pass or shape inference is
/// needed. Ops are those of the default domain whose semantics did not change between opsets
/// <see cref="MinOpset"/> and <see cref="MaxOpset"/>, except LayerNormalization (opset 17), which is
/// written as its definition (mean, variance, normalise, scale, shift) below 17.
/// </summary>
public sealed class OnnxGraphBuilder
{
    /// <summary>Lowest opset written: Unsqueeze, Squeeze, ReduceSum and Split take their axes as inputs from 13 on.</summary>
    public const long MinOpset = 13;

    /// <summary>Highest opset written (ReduceMean's axes and Split's outputs change at 18).</summary>
    public const long MaxOpset = 17;

    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string), string> _parameters = [];
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly List<string> _scope = [];
    private int _counter;

    /// <summary>Starts an empty graph named <paramref name="name"/> for <paramref name="opset"/>.</summary>
    /// <exception cref="OnnxExportException">The opset is outside [<see cref="MinOpset"/>, <see cref="MaxOpset"/>].</exception>
    public OnnxGraphBuilder(string name, long opset = MaxOpset)
    {
        if (opset < MinOpset || opset > MaxOpset)
            throw new OnnxExportException($"opset {opset} is not supported: the exporter writes opsets {MinOpset} to {MaxOpset}");
        Opset = opset;
        Graph = new OnnxGraph { Name = name };
    }

    /// <summary>The default-domain opset the graph is written for.</summary>
    public long Opset { get; }

    /// <summary>The graph being written.</summary>
    public OnnxGraph Graph { get; }

    /// <summary>The qualified name of the module being written (e.g. <c>actor.backbone.h.0</c>); empty at the top.</summary>
    public string ScopePath => string.Join('.', _scope);

    /// <summary>Enters a submodule: names written until the returned scope is disposed are prefixed with <paramref name="name"/>.</summary>
    public ModuleScope Enter(string name)
    {
        _scope.Add(name);
        return new ModuleScope(this);
    }

    /// <summary>A module scope; disposing it leaves the module.</summary>
    public readonly struct ModuleScope : IDisposable
    {
        private readonly OnnxGraphBuilder _builder;

        internal ModuleScope(OnnxGraphBuilder builder) => _builder = builder;

        /// <inheritdoc/>
        public void Dispose() => _builder._scope.RemoveAt(_builder._scope.Count - 1);
    }

    /// <summary>
    /// An exception for the module being written: "<c>path (Type): problem</c>", one line.
    /// </summary>
    public OnnxExportException Unsupported(object module, string problem) =>
        new($"{(ScopePath.Length == 0 ? "policy" : ScopePath)} ({module.GetType().Name}): {problem}");

    /// <summary>Declares a graph input; <paramref name="dims"/> are sizes (int, long) or symbolic names (string).</summary>
    public string AddInput(string name, OnnxDataType type, params object[] dims)
    {
        if (!_names.Add(name)) throw new ArgumentException($"The graph already has a value named '{name}'.", nameof(name));
        Graph.Inputs.Add(OnnxValueInfo.Tensor(name, type, dims));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> a graph output named <paramref name="name"/> (an Identity node renames it).</summary>
    public void AddOutput(string value, string name, OnnxDataType type, params object[] dims)
    {
        if (value != name)
        {
            if (!_names.Add(name)) throw new ArgumentException($"The graph already has a value named '{name}'.", nameof(name));
            Graph.Nodes.Add(new OnnxNode("Identity", [value], [name], name));
        }
        Graph.Outputs.Add(OnnxValueInfo.Tensor(name, type, dims));
    }

    /// <summary>An initializer holding a copy of <paramref name="value"/>, named <paramref name="name"/> inside the current scope.</summary>
    public string Initializer(string name, Tensor value)
    {
        string full = Unique(Qualified(name));
        Graph.Initializers.Add(OnnxTensor.FromTensor(full, value));
        return full;
    }

    /// <summary>
    /// The initializer of parameter <paramref name="name"/> of the current module (e.g. <c>embedding.weight</c>;
    /// qualified, it is the parameter's name in the model), or of a tensor derived from it, told apart by
    /// <paramref name="variant"/> (written as <c>&lt;name&gt;_&lt;variant&gt;</c>). Written once however often the
    /// module runs: a backbone applied to several modalities (late fusion) shares its weights in the graph as in
    /// the model. <paramref name="value"/> makes the tensor on first use. The parameter counts as used (<see cref="Uses"/>).
    /// </summary>
    public string Parameter(string name, string variant, Func<Tensor> value)
    {
        string qualified = Qualified(name);
        _used.Add(qualified);
        var key = (qualified, variant);
        if (_parameters.TryGetValue(key, out var existing)) return existing;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        string written = Unique(variant.Length == 0 ? qualified : qualified + "_" + variant);
        Graph.Initializers.Add(OnnxTensor.FromTensor(written, value()));
        _parameters[key] = written;
        return written;
    }

    /// <summary>The initializer of parameter (or buffer) <paramref name="name"/> of the current module, as it is, written once.</summary>
    public string Parameter(string name, Tensor value) => Parameter(name, "", () => value.detach());

    /// <summary>
    /// Records that parameters <paramref name="names"/> of the current module are accounted for without an
    /// initializer of their own (LoRA factors folded into their base weight, a token table no text reads).
    /// </summary>
    public void MarkUsed(params string[] names)
    {
        foreach (var name in names) _used.Add(Qualified(name));
    }

    /// <summary>True when the parameter named <paramref name="qualifiedName"/> (as the model names it) went into the graph.</summary>
    public bool Uses(string qualifiedName) => _used.Contains(qualifiedName);

    /// <summary>An initializer from an array, named <paramref name="name"/> inside the current scope.</summary>
    public string Initializer<T>(string name, long[] dims, T[] values) where T : unmanaged
    {
        string full = Unique(Qualified(name));
        Graph.Initializers.Add(OnnxTensor.FromArray(full, dims, values));
        return full;
    }

    /// <summary>A 1-D int64 constant (shapes, axes, indices).</summary>
    public string Ints(params long[] values) => Constant([values.Length], values);

    /// <summary>A float32 scalar constant.</summary>
    public string Scalar(float value) => Constant([], [value]);

    /// <summary>A scalar constant of <typeparamref name="T"/>'s element type (int64 indices, uint8 comparisons).</summary>
    public string Scalar<T>(T value) where T : unmanaged => Constant([], [value]);

    /// <summary>A constant of shape <paramref name="dims"/>; equal constants (same type, shape, values) are written once.</summary>
    public string Constant<T>(long[] dims, T[] values) where T : unmanaged
    {
        string key = typeof(T).Name + ":" + string.Join(',', dims) + ":" + string.Join(',', values.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)));
        if (_constants.TryGetValue(key, out var name)) return name;
        name = Unique($"const_{_constants.Count}");
        Graph.Initializers.Add(OnnxTensor.FromArray(name, dims, values));
        _constants[key] = name;
        return name;
    }

    /// <summary>Appends one node of <paramref name="opType"/> and returns the name of its output.</summary>
    public string Op(string opType, string[] inputs, params OnnxAttribute[] attributes) => Op(opType, inputs, 1, attributes)[0];

    /// <summary>Appends one node with <paramref name="outputs"/> outputs and returns their names.</summary>
    public string[] Op(string opType, string[] inputs, int outputs, params OnnxAttribute[] attributes)
    {
        string node = Unique(Qualified($"{opType}_{_counter++}"));
        var names = new string[outputs];
        for (int i = 0; i < outputs; i++) names[i] = outputs == 1 ? node : Unique($"{node}:{i}");
        Graph.Nodes.Add(new OnnxNode(opType, inputs, names, node, attributes));
        return names;
    }

    // ---- Elementwise and shape ops (opset 13–17 forms) ----

    /// <summary>a + b (broadcasting).</summary>
    public string Add(string a, string b) => Op("Add", [a, b]);

    /// <summary>a − b (broadcasting).</summary>
    public string Sub(string a, string b) => Op("Sub", [a, b]);

    /// <summary>a · b (broadcasting).</summary>
    public string Mul(string a, string b) => Op("Mul", [a, b]);

    /// <summary>a / b (broadcasting).</summary>
    public string Div(string a, string b) => Op("Div", [a, b]);

    /// <summary>Matrix product over the last two axes (batched, broadcasting).</summary>
    public string MatMul(string a, string b) => Op("MatMul", [a, b]);

    /// <summary>tanh.</summary>
    public string Tanh(string x) => Op("Tanh", [x]);

    /// <summary>max(x, 0).</summary>
    public string Relu(string x) => Op("Relu", [x]);

    /// <summary>Converts the element type.</summary>
    public string Cast(string x, OnnxDataType to) => Op("Cast", [x], OnnxAttribute.Of("to", (long)to));

    /// <summary>Reshape to <paramref name="shape"/> (−1 infers one axis, 0 copies the input's axis).</summary>
    public string Reshape(string x, params long[] shape) => Op("Reshape", [x, Ints(shape)]);

    /// <summary>Permutes axes.</summary>
    public string Transpose(string x, params long[] perm) => Op("Transpose", [x], OnnxAttribute.Of("perm", perm));

    /// <summary>Inserts size-1 axes.</summary>
    public string Unsqueeze(string x, params long[] axes) => Op("Unsqueeze", [x, Ints(axes)]);

    /// <summary>Removes size-1 axes.</summary>
    public string Squeeze(string x, params long[] axes) => Op("Squeeze", [x, Ints(axes)]);

    /// <summary>Concatenates along <paramref name="axis"/>; a single input is returned as is.</summary>
    public string Concat(long axis, params string[] inputs) =>
        inputs.Length == 1 ? inputs[0] : Op("Concat", inputs, OnnxAttribute.Of("axis", axis));

    /// <summary>Rows of <paramref name="table"/> at <paramref name="indices"/> (an embedding lookup): indices (…) → (…, C).</summary>
    public string Gather(string table, string indices, long axis = 0) => Op("Gather", [table, indices], OnnxAttribute.Of("axis", axis));

    /// <summary>Sum over <paramref name="axes"/>.</summary>
    public string ReduceSum(string x, bool keepDims, params long[] axes) =>
        Op("ReduceSum", [x, Ints(axes)], OnnxAttribute.Of("keepdims", keepDims ? 1L : 0L));

    /// <summary>Mean over <paramref name="axes"/> (axes as an attribute, as opsets below 18 take them).</summary>
    public string ReduceMean(string x, bool keepDims, params long[] axes) =>
        Op("ReduceMean", [x], OnnxAttribute.Of("axes", axes), OnnxAttribute.Of("keepdims", keepDims ? 1L : 0L));

    /// <summary>Maximum over <paramref name="axes"/> (axes as an attribute, as opsets below 18 take them).</summary>
    public string ReduceMax(string x, bool keepDims, params long[] axes) =>
        Op("ReduceMax", [x], OnnxAttribute.Of("axes", axes), OnnxAttribute.Of("keepdims", keepDims ? 1L : 0L));

    /// <summary>Softmax over the last axis.</summary>
    public string Softmax(string x) => Op("Softmax", [x], OnnxAttribute.Of("axis", -1L));

    /// <summary>Elementwise a == b (bool).</summary>
    public string EqualTo(string a, string b) => Op("Equal", [a, b]);

    /// <summary>Elementwise a != b (bool).</summary>
    public string NotEqualTo(string a, string b) => Op("Not", [EqualTo(a, b)]);

    /// <summary>The leading (batch) size of <paramref name="x"/> as int64 [1].</summary>
    public string BatchSize(string x) => Op("Slice", [Op("Shape", [x]), Ints(0), Ints(1), Ints(0)]);

    /// <summary>Size of axis <paramref name="axis"/> of <paramref name="x"/> as int64 [1].</summary>
    public string Size(string x, long axis) => Op("Slice", [Op("Shape", [x]), Ints(axis), Ints(axis + 1), Ints(0)]);

    /// <summary>The int64 shape [B, <paramref name="rest"/>…] with B the batch size of <paramref name="like"/>.</summary>
    public string BatchShape(string like, params long[] rest) => Concat(0, BatchSize(like), Ints(rest));

    /// <summary>All-true bool [B, <paramref name="n"/>] with B the batch size of <paramref name="like"/>.</summary>
    public string TrueMask(string like, long n) => Op("Expand", [Constant([1, 1], new[] { true }), BatchShape(like, n)]);

    // ---- Layers ----

    /// <summary>
    /// y = x Wᵀ + b for W (out, in) as torch.nn.Linear stores it; x (…, in) → (…, out). Wᵀ is written
    /// as the initializer <c>&lt;name&gt;.weight_t</c> so the graph is one MatMul (plus an Add).
    /// </summary>
    public string Linear(string x, Tensor weight, Tensor? bias, string name) =>
        Linear(x, "", () => weight, bias, name);

    /// <summary>
    /// As <see cref="Linear(string, Tensor, Tensor?, string)"/> with the weight computed by
    /// <paramref name="effectiveWeight"/> (e.g. a LoRA adapter folded in), written once per <paramref name="variant"/>.
    /// </summary>
    public string Linear(string x, string variant, Func<Tensor> effectiveWeight, Tensor? bias, string name)
    {
        string w = Parameter(name + ".weight", variant.Length == 0 ? "t" : variant + "_t", () => effectiveWeight().detach().t().contiguous());
        var y = MatMul(x, w);
        return bias is null ? y : Add(y, Parameter(name + ".bias", bias));
    }

    /// <summary>
    /// LayerNorm over the last axis: LayerNormalization from opset 17, below it its definition
    /// (x − E[x]) / √(Var[x] + ε) · γ + β with the biased variance, as torch computes it.
    /// </summary>
    public string LayerNorm(string x, Tensor weight, Tensor? bias, double epsilon, string name)
    {
        string gamma = Parameter(name + ".weight", weight);
        string? beta = bias is null ? null : Parameter(name + ".bias", bias);
        if (Opset >= 17)
        {
            var inputs = beta is null ? new[] { x, gamma } : new[] { x, gamma, beta };
            return Op("LayerNormalization", inputs, OnnxAttribute.Of("axis", -1L), OnnxAttribute.Of("epsilon", (float)epsilon));
        }
        var centred = Sub(x, ReduceMean(x, true, -1));
        var variance = ReduceMean(Mul(centred, centred), true, -1);
        var normalised = Div(centred, Op("Sqrt", [Add(variance, Scalar((float)epsilon))]));
        var scaled = Mul(normalised, gamma);
        return beta is null ? scaled : Add(scaled, beta);
    }

    /// <summary>GELU: exact x·½(1 + erf(x/√2)), or with <paramref name="tanhApproximation"/> ½x(1 + tanh(√(2/π)(x + 0.044715x³))).</summary>
    public string Gelu(string x, bool tanhApproximation)
    {
        string half = Mul(x, Scalar(0.5f));
        if (!tanhApproximation)
            return Mul(half, Add(Op("Erf", [Mul(x, Scalar((float)(1 / Math.Sqrt(2))))]), Scalar(1f)));
        var cube = Mul(Mul(x, x), x);
        var inner = Mul(Add(x, Mul(cube, Scalar(0.044715f))), Scalar((float)Math.Sqrt(2 / Math.PI)));
        return Mul(half, Add(Tanh(inner), Scalar(1f)));
    }

    /// <summary>
    /// Scaled dot-product attention, softmax(q kᵀ · <paramref name="scale"/>) v, with q (B, H, Lq, d),
    /// k and v (B, H, Lk, d); <paramref name="mask"/> (bool, broadcastable to (B, H, Lq, Lk), true =
    /// may attend) sets the other scores to −∞ (every row must keep one key). → (B, H, Lq, d).
    /// </summary>
    public string Attention(string q, string k, string v, string? mask, double scale)
    {
        var scores = Mul(MatMul(q, Transpose(k, 0, 1, 3, 2)), Scalar((float)scale));
        if (mask is not null) scores = Op("Where", [mask, scores, Scalar(float.NegativeInfinity)]);
        return MatMul(Softmax(scores), v);
    }

    /// <summary>
    /// A model of this graph: IR version 8 (which every opset written here fits), the opset import,
    /// producer and the given metadata.
    /// </summary>
    public OnnxModel ToModel(string producer, string producerVersion, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        var model = new OnnxModel { IrVersion = 8, ProducerName = producer, ProducerVersion = producerVersion, Graph = Graph };
        model.OpsetImports.Add(new OnnxOperatorSetId("", Opset));
        foreach (var (key, value) in metadata) model.MetadataProps.Add(new OnnxStringEntry(key, value));
        return model;
    }

    private string Qualified(string name) => _scope.Count == 0 ? name : ScopePath + "." + name;

    private string Unique(string name)
    {
        if (_names.Add(name)) return name;
        for (int i = 1; ; i++)
            if (_names.Add($"{name}_{i}")) return $"{name}_{i}";
    }
}
