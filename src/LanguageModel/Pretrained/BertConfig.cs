using System.ComponentModel.DataAnnotations;
using RLAgents.LanguageModel.Model;

namespace RLAgents.LanguageModel.Pretrained;

/// <summary>
/// Size and shape of a <see cref="BertEncoder"/>. For a pretrained model every field is read from its
/// ONNX graph (<see cref="BertOnnxImport.ReadConfig"/>), never assumed; all-MiniLM-L6-v2 reads as
/// 6 layers × 384 wide, 12 heads, MLP 1536, 30,522 ids, 512 positions, 2 token types, ε = 1e-12.
/// </summary>
public sealed class BertConfig
{
    /// <summary>Rows of the word-embedding table (WordPiece vocabulary size).</summary>
    [Range(1, int.MaxValue)] public int VocabSize { get; init; }

    /// <summary>Rows of the position table: the longest sequence, [CLS] and [SEP] included.</summary>
    [Range(1, 1 << 20)] public int MaxPositions { get; init; }

    /// <summary>Rows of the token-type (segment) table.</summary>
    [Range(1, 1024)] public int TypeVocabSize { get; init; } = 2;

    /// <summary>Number of Transformer layers.</summary>
    [Range(1, 1024)] public int Layers { get; init; }

    /// <summary>Width C of the hidden states.</summary>
    [Range(1, 1 << 16)] public int Width { get; init; }

    /// <summary>Attention heads; <see cref="Width"/> must be a multiple of it.</summary>
    [Range(1, 1024)] public int Heads { get; init; }

    /// <summary>Hidden width of each layer's MLP (BERT's intermediate size).</summary>
    [Range(1, 1 << 20)] public int MlpWidth { get; init; }

    /// <summary>LayerNorm epsilon (BERT: 1e-12).</summary>
    [Range(0.0, 1.0)] public double LayerNormEpsilon { get; init; } = 1e-12;

    /// <summary>Dropout on embeddings, attention weights and residual branches while training (0 = off; BERT pretraining used 0.1).</summary>
    [Range(0.0, 0.99)] public double Dropout { get; init; }

    /// <summary>Checks every field; throws <see cref="ValidationException"/> naming the first bad one.</summary>
    public void Validate()
    {
        Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);
        if (Width % Heads != 0) throw new ValidationException($"width ({Width}) must be a multiple of heads ({Heads}).");
    }

    /// <summary>A copy with another dropout probability (the file fixes the weights, not the training-time dropout).</summary>
    public BertConfig WithDropout(double dropout) => new()
    {
        VocabSize = VocabSize, MaxPositions = MaxPositions, TypeVocabSize = TypeVocabSize, Layers = Layers, Width = Width,
        Heads = Heads, MlpWidth = MlpWidth, LayerNormEpsilon = LayerNormEpsilon, Dropout = dropout,
    };

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Layers} layers × {Width} wide, {Heads} heads, MLP {MlpWidth}, {VocabSize} ids, {MaxPositions} positions, {TypeVocabSize} token types, ε = {LayerNormEpsilon:G3}";

    /// <summary>
    /// The settings the shared Transformer block (<see cref="Block"/>: fused q/k/v attention, GELU (erf)
    /// MLP, LayerNorms with bias) takes; vocabulary and positions are BERT's own.
    /// </summary>
    internal GptConfig BlockConfig() => new()
    {
        VocabSize = VocabSize, BlockSize = MaxPositions, NLayer = Layers, NHead = Heads, NEmbd = Width, Dropout = Dropout,
        Bias = true, Causal = false, Activation = GptActivation.Gelu, LayerNormEpsilon = LayerNormEpsilon,
    };
}
