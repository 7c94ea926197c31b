using System.ComponentModel.DataAnnotations;
using RLAgents.LanguageModel.Pretrained;

namespace RLAgents.Policies.Multimodal;

/// <summary>How the modality tokens meet in the Transformer state estimator.</summary>
public enum FusionMode
{
    /// <summary>One sequence [CLS, image cells, vectors, text] through the backbone with bidirectional attention; the state is the CLS output.</summary>
    Early,
    /// <summary>Each modality through the backbone on its own, masked mean pooling per modality, then an MLP over the concatenated pools.</summary>
    Late,
    /// <summary>"Interactive": [CLS, text] through the backbone, then a cross-attention block in which the text tokens attend to the image and vector tokens; the state is the CLS output.</summary>
    CrossAttention,
}

/// <summary>Which backbone parameters train by default (a phase's <c>trainable</c> list can override it).</summary>
public enum FineTuneMode
{
    /// <summary>Every backbone parameter trains.</summary>
    Full,
    /// <summary>LoRA adapters are added to every attention and MLP projection; only they train in the backbone.</summary>
    Lora,
    /// <summary>The backbone is frozen; encoders, fusion and heads train.</summary>
    Frozen,
}

/// <summary>The GPT backbone of the multimodal state estimator (bound from <c>policy.multimodal.backbone</c>).</summary>
public sealed class BackboneOptions
{
    /// <summary>
    /// A pretraining checkpoint folder (the LanguageModel format: <c>config.json</c>, <c>model.safetensors</c> and
    /// the tokenizer files). Null builds a backbone from scratch with the sizes below and a word-level
    /// tokenizer over the GridWorld vocabulary.
    /// </summary>
    public string? Checkpoint { get; set; }

    /// <summary>Transformer blocks (scratch backbones only).</summary>
    [Range(1, 64)] public int NLayer { get; set; } = 2;

    /// <summary>Attention heads per block (scratch backbones only); must divide <see cref="NEmbd"/>.</summary>
    [Range(1, 64)] public int NHead { get; set; } = 4;

    /// <summary>Width C of the residual stream and of every token (scratch backbones only).</summary>
    [Range(8, 4096)] public int NEmbd { get; set; } = 64;

    /// <summary>Rows of the position table (scratch backbones only); must cover the longest token sequence (early fusion: 1 + image cells + vectors + text tokens).</summary>
    [Range(1, 65536)] public int BlockSize { get; set; } = 128;

    /// <summary>Which backbone parameters train.</summary>
    public FineTuneMode FineTune { get; set; } = FineTuneMode.Full;

    /// <summary>LoRA rank r (with <see cref="FineTuneMode.Lora"/>).</summary>
    [Range(1, 256)] public int LoraRank { get; set; } = 8;

    /// <summary>LoRA scale α (the adapter's output is multiplied by α/r).</summary>
    [Range(0.0, 4096.0)] public double LoraAlpha { get; set; } = 16;

    /// <summary>
    /// A real pretrained language model that reads the text modalities, by catalog name and fine-tune mode (e.g.
    /// <c>{ "name": "all-MiniLM-L6-v2", "fineTune": "lora" }</c>; see <see cref="PretrainedTextEncoders.Known"/>).
    /// Its token states are projected to <see cref="NEmbd"/> and meet the other modalities' tokens in this
    /// backbone's fusion (see <see cref="PretrainedTextTokens"/>): the pretrained model reads text only, once per
    /// distinct string, because running every image cell through a 384-wide, 6-layer BERT would cost tens of
    /// times the acting budget. Its <c>maxTokens</c> defaults to <see cref="MultimodalOptions.MaxTextTokens"/>.
    /// Null: text goes through this backbone's own tokenizer and embedding. Exclusive with <see cref="Checkpoint"/>.
    /// </summary>
    public PretrainedTextEncoderOptions? Pretrained { get; set; }
}

/// <summary>
/// The multimodal Transformer state estimator (bound from <c>policy.multimodal</c>): one token
/// encoder per modality, a GPT backbone and a fusion mode.
/// </summary>
public sealed class MultimodalOptions
{
    /// <summary>How modalities are fused.</summary>
    public FusionMode Fusion { get; set; } = FusionMode.Early;

    /// <summary>The backbone.</summary>
    public BackboneOptions Backbone { get; set; } = new();

    /// <summary>
    /// Tokens kept per text modality (padded to this length, masked; longer texts are cut after
    /// this many tokens; with <see cref="BackboneOptions.Pretrained"/>, WordPieces with [CLS] and [SEP]). BabyAI missions
    /// up to GoToLocal take at most 7 words.
    /// </summary>
    [Range(1, 1024)] public int MaxTextTokens { get; set; } = 12;

    /// <summary>The default <see cref="PatchSize"/>: Minigrid's tile size, one patch per cell of its 56×56 view.</summary>
    public const int DefaultPatchSize = 8;

    /// <summary>
    /// Side in pixels of the ViT-style patches a pixel image is cut into (⌈H/P⌉·⌈W/P⌉ tokens with
    /// 2-D positions; see <see cref="PatchTokenEncoder"/>). Symbolic grids keep one token per cell.
    /// </summary>
    [Range(1, 256)] public int PatchSize { get; set; } = DefaultPatchSize;

    /// <summary>Hidden widths of the fusion MLP of <see cref="FusionMode.Late"/>; the last one is the state size.</summary>
    [MinLength(1)] public int[] FusionHiddenSizes { get; set; } = [128];

    /// <summary>
    /// While acting (no gradients recorded), keep what depends only on a mission and the weights, per key, recomputed whenever
    /// a weight that shapes it changes (an exact comparison on every call): cross-attention keeps the [CLS, text] backbone pass
    /// and, with <see cref="CellTextMatching"/>, the code scores, keyed by the token ids or, with a frozen or LoRA pretrained
    /// text encoder, by the strings; late fusion keeps each text's and each discrete value's pool. Training forwards are
    /// never cached. Off: acting computes them every step (once per distinct key in the batch, as training does).
    /// </summary>
    public bool ActingCache { get; set; } = true;

    /// <summary>
    /// Adds to each symbolic grid cell's token how strongly its values are mentioned by the text (per channel and head,
    /// the best match over the text tokens; see <see cref="CellTextMatching"/>): scores that say "this cell's colour is
    /// named" without saying which colour, so the agent can go to a colour–object pair it never saw as a target
    /// (held-out compositions). Early and cross-attention fusion; needs a symbolic grid and a text modality. Default off.
    /// </summary>
    public bool CellTextMatching { get; set; }

    /// <summary>
    /// With <see cref="CellTextMatching"/>, each code's match also says where in the text it matched (a learned embedding of
    /// the text position, softmax-weighted by the match), so the agent can bind a colour to its object and tell an
    /// instruction's objects apart: in "put the grey box next to the yellow ball" the grey box's colour and type match in
    /// one phrase and a grey ball's in two, and the first-named object is the one to move. Positions carry no word, so the
    /// compositional bias of the scores is kept. Default off.
    /// </summary>
    public bool CellTextRoles { get; set; }
}
