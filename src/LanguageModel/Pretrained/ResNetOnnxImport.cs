using RLAgents.LanguageModel.Checkpoints;
using RLAgents.LanguageModel.Onnx;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Pretrained;

/// <summary>
/// Reads an ImageNet ResNet of basic blocks exported to ONNX without folded batch norms (ML.NET's
/// <c>ResNet18.onnx</c>, a CNTK export: Conv → BatchNormalization → Relu, residual Adds; 2, 2, 2, 3
/// blocks per stage) into a <see cref="ResNetImageEncoder"/> of the same layout, and its preprocessing graph (<c>ResNetPreprocess.onnx</c>:
/// RGB → BGR, minus a mean image) into the encoder's mean. Initializer names are generated
/// (<c>Parameter91</c>), so every weight is found by following the graph: the stem is the
/// convolution that reads the graph input, and each residual Add names a block: the branch whose
/// convolution reads a ReLU of another convolution is the main path, the other is either the block's
/// input (identity) or a 1×1 convolution (projection). Each BatchNormalization is folded into the
/// convolution before it: W' = W·γ/√(σ² + ε), b' = β − μ·γ/√(σ² + ε), computed in float64.
/// </summary>
public static class ResNetOnnxImport
{
    private sealed record ConvBn(OnnxNode Conv, OnnxNode Norm, int Kernel, int Stride);

    /// <summary>
    /// A <see cref="ResNetImageEncoder"/> for H × W inputs with the layout and weights of <paramref name="model"/> and the
    /// mean image of <paramref name="preprocess"/> (area-resampled to H × W). A graph that is not a
    /// ResNet of basic blocks of this shape throws <see cref="PretrainedModelException"/> naming <paramref name="source"/> and what differs.
    /// </summary>
    public static ResNetImageEncoder Load(OnnxGraph model, OnnxGraph preprocess, int height, int width, string source)
    {
        var stem = Stem(model, source);
        var blocks = Blocks(model, source);
        // Blocks per stage from the widths of their convolutions (64, 128, 256, 512).
        var channels = ResNetImageEncoder.StageChannels;
        var perStage = channels.Select(c => blocks.Count(b => Width(b.A, model) == c)).ToArray();
        if (perStage.Sum() != blocks.Count || perStage.Any(n => n == 0))
            throw new PretrainedModelException($"{source}: block widths [{string.Join(", ", blocks.Select(b => Width(b.A, model)))}] are not four stages of {string.Join(", ", channels)} channels.");
        // The encoder's tensors are made outside the scope, which disposes the imported values after copying.
        var encoder = new ResNetImageEncoder(perStage, height, width);
        try
        {
            using var scope = NewDisposeScope();
            var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            Add(weights, "conv1", stem, model, source);
            for (int i = 0, stage = 0, inStage = 0; i < blocks.Count; i++, inStage++)
            {
                if (inStage == perStage[stage]) (stage, inStage) = (stage + 1, 0);
                var (a, b, projection) = blocks[i];
                int expectedStride = stage > 0 && inStage == 0 ? 2 : 1;
                if (Width(a, model) != channels[stage] || a.Stride != expectedStride || (projection is null) == (expectedStride == 2))
                    throw new PretrainedModelException($"{source}: block {i} ({Width(a, model)} channels) has stride {a.Stride} and {(projection is null ? "an identity" : "a projection")} shortcut; block {inStage} of stage {stage + 1} has {channels[stage]} channels, stride {expectedStride}.");
                Add(weights, $"blocks.{i}.conv_a", a, model, source);
                Add(weights, $"blocks.{i}.conv_b", b, model, source);
                if (projection is not null) Add(weights, $"blocks.{i}.downsample", projection, model, source);
            }
            weights["mean"] = MeanImage(preprocess, height, width, source);
            ModelWeights.Load(encoder, weights, source);
            return encoder;
        }
        catch (CheckpointException e)
        {
            encoder.Dispose();
            throw new PretrainedModelException(e.Message);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    private static long Width(ConvBn layer, OnnxGraph graph) => graph.Initializer(layer.Conv.Inputs[1])?.Dims[0] ?? 0;

    private static ConvBn Stem(OnnxGraph graph, string source)
    {
        var input = graph.Inputs.FirstOrDefault(i => graph.Initializer(i.Name ?? "") is null)?.Name
            ?? throw new PretrainedModelException($"{source}: the graph has no data input.");
        var conv = graph.Consumers(input).FirstOrDefault(n => n.OpType == "Conv")
            ?? throw new PretrainedModelException($"{source}: no convolution reads the input '{input}'; is this a ResNet?");
        var stem = Follow(graph, conv, source);
        if (stem.Kernel != 7 || stem.Stride != 2) throw new PretrainedModelException($"{source}: the stem is a {stem.Kernel}×{stem.Kernel} stride-{stem.Stride} convolution; a ResNet stem is 7×7 stride 2.");
        return stem;
    }

    /// <summary>Each residual Add in file order (the graph's topological order): its main path (conv a, conv b) and projection, if any.</summary>
    private static List<(ConvBn A, ConvBn B, ConvBn? Projection)> Blocks(OnnxGraph graph, string source)
    {
        var blocks = new List<(ConvBn, ConvBn, ConvBn?)>();
        foreach (var add in graph.Nodes.Where(n => n.OpType == "Add"))
        {
            ConvBn? main = null, projection = null, first = null;
            foreach (var operand in add.Inputs)
            {
                if (graph.Producer(operand) is not { OpType: "BatchNormalization" } norm || graph.Producer(norm.Inputs[0]) is not { OpType: "Conv" } conv) continue;
                var branch = Follow(graph, conv, source);
                // The main path's second convolution reads ReLU(BatchNorm(Conv(...))), the block's first.
                if (graph.Producer(conv.Inputs[0]) is { OpType: "Relu" } relu && graph.Producer(relu.Inputs[0]) is { OpType: "BatchNormalization" } n2
                    && graph.Producer(n2.Inputs[0]) is { OpType: "Conv" } convA && branch.Kernel == 3)
                {
                    main = branch;
                    first = Follow(graph, convA, source);
                }
                else projection = branch;
            }
            if (main is null || first is null)
                throw new PretrainedModelException($"{source}: residual Add {add} has no conv → relu → conv main path; is this a ResNet of basic blocks?");
            if (projection is { Kernel: not 1 }) throw new PretrainedModelException($"{source}: the shortcut of {add} is a {projection.Kernel}×{projection.Kernel} convolution; the projections here are 1×1.");
            blocks.Add((first, main, projection));
        }
        return blocks;
    }

    private static ConvBn Follow(OnnxGraph graph, OnnxNode conv, string source)
    {
        var consumers = graph.Consumers(conv.Outputs[0]).ToList();
        if (consumers is not [{ OpType: "BatchNormalization" } norm])
            throw new PretrainedModelException($"{source}: {conv} is not followed by exactly one BatchNormalization; this importer folds Conv + BatchNormalization pairs.");
        var kernel = conv.Attribute("kernel_shape")?.Ints ?? [];
        var strides = conv.Attribute("strides")?.Ints ?? [];
        if (kernel.Count != 2 || kernel[0] != kernel[1] || (strides.Count == 2 && strides[0] != strides[1]) || (conv.Attribute("group")?.I ?? 1) != 1)
            throw new PretrainedModelException($"{source}: {conv} is not a square, ungrouped 2-D convolution.");
        int k = (int)kernel[0], stride = strides.Count == 2 ? (int)strides[0] : 1;
        // ResNet pads every convolution by ⌊k/2⌋ at the start of each side; the export's pads may end one short at stride 2
        // (the same windows on even sides), which the symmetric padding of ResNetImageEncoder reproduces.
        var pads = conv.Attribute("pads")?.Ints ?? [];
        if (pads.Count == 4 && (pads[0] != k / 2 || pads[1] != k / 2 || pads[2] < k / 2 - (stride - 1) || pads[3] < k / 2 - (stride - 1)))
            throw new PretrainedModelException($"{source}: {conv} pads [{string.Join(", ", pads)}]; expected ⌊{k}/2⌋ = {k / 2} at the start of each side.");
        return new ConvBn(conv, norm, k, stride);
    }

    private static void Add(Dictionary<string, Tensor> weights, string name, ConvBn layer, OnnxGraph graph, string source)
    {
        OnnxTensor Init(string value) => graph.Initializer(value) ?? throw new PretrainedModelException($"{source}: '{value}' of {layer.Conv} is not an initializer.");
        if (layer.Conv.Inputs.Count > 2) throw new PretrainedModelException($"{source}: {layer.Conv} has its own bias; this importer folds a BatchNormalization into a bias-free convolution.");
        var w = Init(layer.Conv.Inputs[1]).ToTensor().to(float64);                     // [out, in, k, k]
        var norm = layer.Norm;
        var gamma = Init(norm.Inputs[1]).ToTensor().to(float64);
        var beta = Init(norm.Inputs[2]).ToTensor().to(float64);
        var mu = Init(norm.Inputs[3]).ToTensor().to(float64);
        var variance = Init(norm.Inputs[4]).ToTensor().to(float64);
        double epsilon = norm.Attribute("epsilon")?.F ?? 1e-5;
        var scale = gamma.div(variance.add(epsilon).sqrt());                           // [out]
        weights[name + ".weight"] = w.mul(scale.view(-1, 1, 1, 1)).to(float32);
        weights[name + ".bias"] = beta.sub(mu.mul(scale)).to(float32);
    }

    /// <summary>The preprocessing graph's mean image [1, 3, 224, 224] (BGR), area-resampled to H × W.</summary>
    private static Tensor MeanImage(OnnxGraph preprocess, int height, int width, string source)
    {
        var sub = preprocess.Nodes.FirstOrDefault(n => n.OpType == "Sub")
            ?? throw new PretrainedModelException($"{source}: the preprocessing graph subtracts no mean image.");
        var mean = preprocess.Initializer(sub.Inputs[1]) ?? throw new PretrainedModelException($"{source}: the mean image '{sub.Inputs[1]}' is not an initializer.");
        if (mean.Dims is not [1, 3, _, _]) throw new PretrainedModelException($"{source}: the mean image is [{string.Join(", ", mean.Dims)}], not [1, 3, H, W].");
        var concat = preprocess.Nodes.FirstOrDefault(n => n.OpType == "Concat");
        var split = preprocess.Nodes.FirstOrDefault(n => n.OpType == "Split");
        // The encoder flips RGB to BGR before subtracting; check that the graph does the same.
        if (split is null || concat is null || concat.Inputs.Count != 3 || !concat.Inputs.SequenceEqual(split.Outputs.AsEnumerable().Reverse()))
            throw new PretrainedModelException($"{source}: the preprocessing graph does not reverse the channel order (RGB → BGR) before subtracting its mean.");
        var image = mean.ToTensor();
        return image.shape[2] == height && image.shape[3] == width ? image : nn.functional.adaptive_avg_pool2d(image, [height, width]);
    }
}
