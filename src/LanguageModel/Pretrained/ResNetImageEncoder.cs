using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Pretrained;

/// <summary>
/// A ResNet of basic blocks (He et al. 2016) as an image feature extractor, with batch normalisation
/// folded into the convolutions (inference statistics; fine-tuning then moves the folded weights and
/// biases): a 7×7 stride-2 stem, 3×3 stride-2 max-pool, four stages of basic blocks (64, 128, 256,
/// 512 channels; stages 2–4 start with stride 2 and a 1×1 projection shortcut), then global average
/// pooling. torchvision's ResNet-18 has 2, 2, 2, 2 blocks per stage; ML.NET's "ResNet18" (a CNTK
/// export) has 2, 2, 2, 3. Input: float32 RGB planes [B, 3, H, W] with values 0..255, as the ImageNet model was fed;
/// the model's own preprocessing (channels to BGR, minus the ImageNet mean image resampled to H × W
/// by area averaging) happens inside. Output: [B, 512]. Any H, W ≥ 1 runs (the 56×56 agent view
/// leaves a 2×2 grid before pooling); at 224×224 it is exactly the ONNX model it was loaded from.
/// </summary>
public sealed class ResNetImageEncoder : nn.Module<Tensor, Tensor>
{
    /// <summary>Feature width.</summary>
    public const int Features = 512;

    /// <summary>Output channels of the four stages.</summary>
    public static IReadOnlyList<int> StageChannels { get; } = [64, 128, 256, 512];

    private readonly Conv2d conv1;
    private readonly ModuleList<ResNetBlock> blocks;
    private readonly Tensor mean; // [1, 3, H, W], BGR

    /// <summary>
    /// An encoder with <paramref name="blocksPerStage"/> blocks in each of the four stages, zero weights
    /// and a zero mean image for H × W inputs (<see cref="ResNetOnnxImport.Load"/> fills them).
    /// </summary>
    public ResNetImageEncoder(IReadOnlyList<int> blocksPerStage, int height, int width) : base(nameof(ResNetImageEncoder))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (blocksPerStage.Count != StageChannels.Count || blocksPerStage.Any(n => n < 1))
            throw new ArgumentException($"A ResNet here has {StageChannels.Count} stages of at least one block; got [{string.Join(", ", blocksPerStage)}].", nameof(blocksPerStage));
        (Height, Width) = (height, width);
        BlocksPerStage = [.. blocksPerStage];
        conv1 = nn.Conv2d(3, 64, 7, stride: 2, padding: 3);
        blocks = new ModuleList<ResNetBlock>();
        int input = 64;
        for (int stage = 0; stage < StageChannels.Count; stage++)
        {
            int c = StageChannels[stage];
            for (int i = 0; i < blocksPerStage[stage]; i++) blocks.Add(new ResNetBlock(i == 0 ? input : c, c, stride: i == 0 && stage > 0 ? 2 : 1));
            input = c;
        }
        mean = zeros(1, 3, height, width);
        RegisterComponents();
    }

    /// <summary>Basic blocks in each stage.</summary>
    public IReadOnlyList<int> BlocksPerStage { get; }

    /// <summary>Input rows H.</summary>
    public int Height { get; }

    /// <summary>Input columns W.</summary>
    public int Width { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor rgb)
    {
        var x = rgb.flip(1).sub(mean);                                      // [B, 3, H, W], BGR minus the mean image
        x = conv1.forward(x).relu();                                         // [B, 64, ⌈H/2⌉, ⌈W/2⌉]
        x = nn.functional.max_pool2d(x, 3, stride: 2, padding: 1);           // [B, 64, ⌈H/4⌉, ⌈W/4⌉]
        foreach (var block in blocks) x = block.forward(x);                  // [B, 512, ⌈H/32⌉, ⌈W/32⌉]
        return nn.functional.adaptive_avg_pool2d(x, [1, 1]).flatten(1);      // [B, 512]
    }
}

/// <summary>A basic residual block: relu(conv_b(relu(conv_a(x))) + shortcut(x)), the shortcut a strided 1×1 projection when the shape changes.</summary>
public sealed class ResNetBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv_a;
    private readonly Conv2d conv_b;
    private readonly Conv2d? downsample;

    /// <summary>A block from <paramref name="input"/> to <paramref name="output"/> channels.</summary>
    public ResNetBlock(int input, int output, int stride) : base(nameof(ResNetBlock))
    {
        conv_a = nn.Conv2d(input, output, 3, stride: stride, padding: 1);
        conv_b = nn.Conv2d(output, output, 3, stride: 1, padding: 1);
        if (stride != 1 || input != output) downsample = nn.Conv2d(input, output, 1, stride: stride);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        var y = conv_b.forward(conv_a.forward(x).relu());
        var shortcut = downsample is null ? x : downsample.forward(x);
        return y.add(shortcut).relu();
    }
}
