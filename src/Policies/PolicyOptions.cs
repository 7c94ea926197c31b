using System.ComponentModel.DataAnnotations;
using RLAgents.Policies.Multimodal;

namespace RLAgents.Policies;

/// <summary>The state estimator's family.</summary>
public enum PolicyArchitecture
{
    /// <summary>One encoder per modality (text as a bag of tokens), concatenated, then an MLP backbone: CleanRL's networks and the BabyAI baseline.</summary>
    Mlp,
    /// <summary>The multimodal Transformer state estimator on a GPT backbone (<see cref="PolicyOptions.Multimodal"/>).</summary>
    Transformer,
}

/// <summary>Nonlinearity between the layers of an MLP backbone.</summary>
public enum Activation
{
    /// <summary>tanh, CleanRL's and SB3's default for policy-gradient MLPs.</summary>
    Tanh,
    /// <summary>ReLU, the usual choice for Q-networks.</summary>
    Relu,
}

/// <summary>How uint8 image modalities are encoded by the MLP architecture (the Transformer tokenizes them, see <see cref="MultimodalOptions.PatchSize"/>).</summary>
public enum ImageEncoding
{
    /// <summary>
    /// Symbolic grids (few distinct values, e.g. Minigrid's 7×7×3 object/colour/state codes) get a
    /// learned embedding per channel value; pixel images get <see cref="NatureCnn"/> when they are
    /// large enough for it (36×36) and are scaled to [0, 1] otherwise.
    /// </summary>
    Auto,
    /// <summary>A learned embedding per (channel, value) pair, summed over channels, one vector per cell.</summary>
    Embedding,
    /// <summary>Values divided by the modality's upper bound and flattened.</summary>
    Scaled,
    /// <summary>The DQN Nature CNN (Stable-Baselines3's <c>NatureCNN</c>), <see cref="PolicyOptions.ImageFeatures"/> wide (512 by default).</summary>
    NatureCnn,
    /// <summary>The IMPALA ResNet torso (three conv/pool/residual stacks), <see cref="PolicyOptions.ImageFeatures"/> wide (256 by default).</summary>
    Impala,
    /// <summary>
    /// The pretrained ImageNet ResNet from the <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> package, 512
    /// pooled features of an RGB image; fine-tuned, or frozen with <see cref="PolicyOptions.FreezeImageEncoder"/>.
    /// </summary>
    ResNet18,
}

/// <summary>
/// Network options of a policy: the state estimator (modality encoders and an MLP backbone, or the
/// multimodal Transformer) and the heads. Bound from an experiment file's <c>policy</c> section.
/// </summary>
public sealed class PolicyOptions : IValidatableObject
{
    /// <summary>MLP (per-modality encoders and an MLP backbone) or the multimodal Transformer.</summary>
    public PolicyArchitecture Architecture { get; set; } = PolicyArchitecture.Mlp;

    /// <summary>The Transformer state estimator (with <c>architecture: transformer</c>).</summary>
    public MultimodalOptions Multimodal { get; set; } = new();

    /// <summary>Widths of the MLP backbone's hidden layers; the last one is the state size D. CleanRL's PPO uses [64, 64].</summary>
    [MinLength(1)]
    public int[] HiddenSizes { get; set; } = [64, 64];

    /// <summary>Nonlinearity after each hidden layer.</summary>
    public Activation Activation { get; set; } = Activation.Tanh;

    /// <summary>
    /// Actor-critic policies only: true shares one state estimator between the action selector and
    /// the value evaluator; false (CleanRL's PPO) gives the critic its own encoders and backbone;
    /// null shares it for the Transformer and recurrent policies and not for the MLP.
    /// </summary>
    public bool? ShareStateEstimator { get; set; }

    /// <summary>Whether actor and critic share one state estimator (<see cref="ShareStateEstimator"/> resolved).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool SharesStateEstimator => ShareStateEstimator ?? (Architecture == PolicyArchitecture.Transformer || Recurrent);

    /// <summary>Orthogonal weight initialisation with zero biases (gain √2 hidden, 0.01 policy head, 1 value head), as in CleanRL; false keeps TorchSharp's default init.</summary>
    public bool OrthogonalInit { get; set; } = true;

    /// <summary>Continuous actions of actor-critic policies: the initial log σ of the Gaussian's learned state-independent std (CleanRL: 0).</summary>
    [Range(-20.0, 5.0)]
    public double InitialLogStd { get; set; }

    /// <summary>Embedding width for discrete modalities and symbolic image cells.</summary>
    [Range(1, 4096)]
    public int EmbeddingSize { get; set; } = 8;

    /// <summary>How uint8 image modalities are encoded (MLP architecture).</summary>
    public ImageEncoding ImageEncoding { get; set; } = ImageEncoding.Auto;

    /// <summary>Feature width of a NatureCNN or IMPALA image encoder; null takes the encoder's published width (NatureCNN 512, IMPALA 256).</summary>
    [Range(1, 65536)]
    public int? ImageFeatures { get; set; }

    /// <summary>
    /// Actor-critic agents: a GRU cell between the (shared) state estimator and the heads keeps a memory across an
    /// episode's steps (<see cref="Networks.RecurrentCore"/>). Rollouts keep each env's memory at their start and PPO
    /// trains on whole env sequences; SFT trains on whole demonstration episodes; the ONNX export reads and writes the
    /// memory (inputs <c>memory</c>, output <c>memory_out</c>), and <c>rlagents serve</c> hands it to the client with each answer.
    /// Distributed rollout workers keep each env's memory and ship it with their batches. Not for Q-networks (replay keeps no sequences).
    /// </summary>
    public bool Recurrent { get; set; }

    /// <summary>
    /// Units H of the recurrent memory (<see cref="Recurrent"/>); null makes it the state size D. A memory wider than the
    /// state carries more of what left the view (BabyAI's large model, which it trains on BossLevel, has --memory-dim 2048); when H ≠ D the heads
    /// read s + P·h through a learned projection P [D, H].
    /// </summary>
    [Range(1, 65536)]
    public int? MemorySize { get; set; }

    /// <summary>Keep a pretrained image encoder's (<c>resNet18</c>) weights fixed: they start outside the trainable set.</summary>
    public bool FreezeImageEncoder { get; set; }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ImageFeatures is not null && ImageEncoding is not (ImageEncoding.NatureCnn or ImageEncoding.Impala or ImageEncoding.Auto))
            yield return new ValidationResult($"imageFeatures sets the width of natureCnn and impala encoders; {ImageEncoding} has its own", [nameof(ImageFeatures)]);
        if (FreezeImageEncoder && ImageEncoding != ImageEncoding.ResNet18)
            yield return new ValidationResult("freezeImageEncoder applies to the pretrained resNet18 encoder", [nameof(FreezeImageEncoder)]);
        if (Recurrent && ShareStateEstimator == false)
            yield return new ValidationResult("recurrent needs one state estimator shared by the actor and the critic (shareStateEstimator: true): the memory is one", [nameof(Recurrent)]);
        if (MemorySize is not null && !Recurrent)
            yield return new ValidationResult($"memorySize = {MemorySize} sizes the recurrent memory; set recurrent: true or leave memorySize out", [nameof(MemorySize)]);
        for (int i = 0; i < HiddenSizes.Length; i++)
            if (HiddenSizes[i] < 1 || HiddenSizes[i] > 65536)
                yield return new ValidationResult($"hiddenSizes[{i}] = {HiddenSizes[i]} must be in [1, 65536]", [nameof(HiddenSizes)]);
    }
}
