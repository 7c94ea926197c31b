using RLAgents.Environments;
using RLAgents.Environments.Wrappers;
using RLAgents.LanguageModel.Pretrained;
using RLAgents.Policies.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RLAgents.Policies.Encoding;

/// <summary>
/// Output sizes of convolutions and poolings, so encoders size their layers from the image shape
/// alone (PyTorch's formula: ⌊(n + 2·padding − kernel) / stride⌋ + 1).
/// </summary>
public static class ConvGeometry
{
    /// <summary>Output length of a convolution or pooling over an input of length <paramref name="size"/>; 0 or less when the kernel does not fit.</summary>
    public static int Output(int size, int kernel, int stride = 1, int padding = 0) =>
        size + 2 * padding < kernel ? 0 : (size + 2 * padding - kernel) / stride + 1;
}

/// <summary>
/// Base of the convolutional encoders of pixel images: a uint8 modality [H, W, C] arrives flattened
/// as [B, H·W·C] (channels last) and is read as float planes [B, C, H, W] scaled to [0, 1] by the
/// space's upper bound. Frame stacks [H, W, N·C] are just more channels.
/// </summary>
public abstract class PixelImageEncoder : ModalityEncoder
{
    private readonly double _scale;

    /// <summary>Reads the image shape of <paramref name="box"/> (uint8 [H, W, C] or [H, W]).</summary>
    protected PixelImageEncoder(string name, BoxSpace box) : base(name)
    {
        (Height, Width, Channels) = ImageModalities.Shape(box)
            ?? throw new ArgumentException($"{name} reads uint8 images [H, W, C] or [H, W]; got {box}.", nameof(box));
        float maxHigh = 1;
        foreach (float h in box.High) maxHigh = MathF.Max(maxHigh, h);
        _scale = 1.0 / maxHigh;
    }

    /// <summary>Image rows H.</summary>
    public int Height { get; }

    /// <summary>Image columns W.</summary>
    public int Width { get; }

    /// <summary>Channels C (frames × colours for a frame stack).</summary>
    public int Channels { get; }

    /// <summary>uint8 [B, H·W·C] → float32 [B, C, H, W] in [0, 1].</summary>
    protected Tensor Planes(Tensor input) => ToPlanes(input, Height, Width, Channels, _scale);

    /// <summary>Channels-last uint8 images [B, H·W·C] as float32 planes [B, C, H, W] multiplied by <paramref name="scale"/>.</summary>
    public static Tensor ToPlanes(Tensor input, int height, int width, int channels, double scale) =>
        input.view(input.shape[0], height, width, channels).permute(0, 3, 1, 2).to_type(ScalarType.Float32).mul(scale);

    /// <summary>True for a uint8 image whose values reach beyond small codes (pixels, not a symbolic grid with bounds ≤ 32).</summary>
    public static bool IsPixelImage(BoxSpace box)
    {
        if (ImageModalities.Shape(box) is null) return false;
        float maxHigh = 0;
        foreach (float h in box.High) maxHigh = MathF.Max(maxHigh, h);
        return maxHigh > 32;
    }
}

/// <summary>
/// The DQN Nature paper's convolutional torso (Mnih et al. 2015; Stable-Baselines3's
/// <c>NatureCNN</c>): conv 8×8 stride 4 (32) → conv 4×4 stride 2 (64) → conv 3×3 stride 1 (64),
/// ReLU after each, flattened, then Linear → ReLU to <c>features</c>. uint8 [B, H·W·C] → [B, features].
/// The flattened width follows from the image: 84×84 gives 64·7·7, Minigrid's 56×56 view 64·3·3.
/// Images smaller than 36×36 leave nothing after the third convolution and are refused.
/// </summary>
public sealed class NatureCnnEncoder : PixelImageEncoder
{
    /// <summary>SB3's and the paper's feature width.</summary>
    public const int DefaultFeatures = 512;

    private readonly Conv2d conv1, conv2, conv3;
    private readonly Linear linear;
    private readonly int _features;

    /// <summary>Creates the encoder for <paramref name="box"/>; with <paramref name="orthogonalInit"/> every layer is orthogonal with gain √2 (CleanRL's Atari PPO).</summary>
    public NatureCnnEncoder(BoxSpace box, int features, bool orthogonalInit, Rng rng) : base(nameof(NatureCnnEncoder), box)
    {
        var (h, w) = OutputGrid(Height, Width);
        if (h < 1 || w < 1)
            throw new ArgumentException($"NatureCNN needs images of at least {MinimumSize}×{MinimumSize}; this one is {Height}×{Width} (use impala or scaled).");
        _features = features;
        double? gain = orthogonalInit ? Math.Sqrt(2) : null;
        conv1 = nn.Conv2d(Channels, 32, 8, stride: 4);
        conv2 = nn.Conv2d(32, 64, 4, stride: 2);
        conv3 = nn.Conv2d(64, 64, 3, stride: 1);
        linear = nn.Linear(64 * h * w, features);
        Init.Conv2d(conv1, rng, gain);
        Init.Conv2d(conv2, rng, gain);
        Init.Conv2d(conv3, rng, gain);
        Init.Linear(linear, rng, gain);
        RegisterComponents();
    }

    /// <summary>The smallest side the three convolutions accept (36).</summary>
    public static int MinimumSize { get; } = Enumerable.Range(1, 256).First(n => OutputGrid(n, n).Height >= 1);

    /// <summary>Rows and columns of the last convolution's output for an H × W image.</summary>
    public static (int Height, int Width) OutputGrid(int height, int width)
    {
        static int Side(int n) => ConvGeometry.Output(ConvGeometry.Output(ConvGeometry.Output(n, 8, 4), 4, 2), 3, 1);
        return (Side(height), Side(width));
    }

    /// <inheritdoc />
    public override int OutputSize => _features;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var x = conv1.forward(Planes(input)).relu();   // [B, 32, h1, w1]
        x = conv2.forward(x).relu();                    // [B, 64, h2, w2]
        x = conv3.forward(x).relu();                    // [B, 64, h3, w3]
        return linear.forward(x.flatten(1)).relu();     // [B, features]
    }
}

/// <summary>
/// The IMPALA ResNet torso (Espeholt et al. 2018, the Procgen baseline): three stacks of
/// conv 3×3 → max-pool 3×3 stride 2 (padding 1) → two residual blocks (ReLU, conv 3×3, ReLU, conv 3×3, + input),
/// with 16, 32 and 32 channels; then ReLU, flatten, Linear → ReLU to <c>features</c>. Each stack
/// halves the sides rounding up (56 → 28 → 14 → 7), so any image size works.
/// uint8 [B, H·W·C] → [B, features].
/// </summary>
public sealed class ImpalaEncoder : PixelImageEncoder
{
    /// <summary>The paper's feature width.</summary>
    public const int DefaultFeatures = 256;

    /// <summary>Channels of the three stacks.</summary>
    public static IReadOnlyList<int> StackChannels { get; } = [16, 32, 32];

    private readonly ModuleList<Conv2d> convs;   // per stack: entry conv, then 2 blocks × 2 convs
    private readonly Linear linear;
    private readonly int _features;

    /// <summary>Creates the encoder for <paramref name="box"/>; with <paramref name="orthogonalInit"/> every layer is orthogonal with gain √2.</summary>
    public ImpalaEncoder(BoxSpace box, int features, bool orthogonalInit, Rng rng) : base(nameof(ImpalaEncoder), box)
    {
        _features = features;
        double? gain = orthogonalInit ? Math.Sqrt(2) : null;
        convs = new ModuleList<Conv2d>();
        int input = Channels;
        foreach (int c in StackChannels)
        {
            for (int k = 0; k < 5; k++)
            {
                var conv = nn.Conv2d(k == 0 ? input : c, c, 3, stride: 1, padding: 1);
                Init.Conv2d(conv, rng, gain);
                convs.Add(conv);
            }
            input = c;
        }
        var (h, w) = OutputGrid(Height, Width);
        linear = nn.Linear(StackChannels[^1] * h * w, features);
        Init.Linear(linear, rng, gain);
        RegisterComponents();
    }

    /// <summary>Rows and columns after the three stacks for an H × W image (each pool: ⌈n / 2⌉).</summary>
    public static (int Height, int Width) OutputGrid(int height, int width)
    {
        for (int s = 0; s < StackChannels.Count; s++)
        {
            height = ConvGeometry.Output(height, 3, 2, 1);
            width = ConvGeometry.Output(width, 3, 2, 1);
        }
        return (height, width);
    }

    /// <inheritdoc />
    public override int OutputSize => _features;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var x = Planes(input); // [B, C, H, W]
        for (int s = 0, k = 0; s < StackChannels.Count; s++)
        {
            x = convs[k++].forward(x);
            x = nn.functional.max_pool2d(x, 3, stride: 2, padding: 1); // [B, c_s, ⌈h/2⌉, ⌈w/2⌉]
            for (int block = 0; block < 2; block++)
            {
                var y = convs[k++].forward(x.relu());
                y = convs[k++].forward(y.relu());
                x = x.add(y);
            }
        }
        return linear.forward(x.relu().flatten(1)).relu(); // [B, features]
    }
}

/// <summary>
/// The pretrained ImageNet ResNet of <see cref="PretrainedImageEncoders"/> (ML.NET's "ResNet18") over
/// an RGB pixel image: uint8 [B, H·W·3] → RGB planes 0..255 → [B, 512] globally pooled features.
/// Loaded from its NuGet package, not drawn from the run's seed. With <c>frozen</c> its
/// parameters start out of the trainable set (a phase's <c>trainable</c> list can still name them).
/// </summary>
public sealed class PretrainedImageEncoder : PixelImageEncoder
{
    private readonly ResNetImageEncoder resnet;
    private readonly double _toPixels;

    /// <summary>Loads the encoder for the RGB image <paramref name="box"/>.</summary>
    public PretrainedImageEncoder(BoxSpace box, bool frozen) : base(nameof(PretrainedImageEncoder), box)
    {
        if (Channels != 3) throw new ArgumentException($"The pretrained ResNet reads RGB images [H, W, 3]; this one has {Channels} channels (no grayscale or frame stack).");
        float maxHigh = 1;
        foreach (float h in box.High) maxHigh = MathF.Max(maxHigh, h);
        _toPixels = 255.0 / maxHigh;
        resnet = PretrainedImageEncoders.LoadResNet18(Height, Width);
        if (frozen)
            foreach (var p in resnet.parameters()) p.requires_grad = false;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override int OutputSize => ResNetImageEncoder.Features;

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => resnet.forward(ToPlanes(input, Height, Width, Channels, _toPixels)); // [B, 512]
}
