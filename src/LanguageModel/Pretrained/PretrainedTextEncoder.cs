using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Pretrained;

/// <summary>Token states of a batch of texts.</summary>
/// <param name="Hidden">Last hidden states (B, T, C); rows past a text's length are padding, to be masked.</param>
/// <param name="Mask">bool (B, T), true = real token ([CLS] and [SEP] included).</param>
public sealed record TextEncoding(Tensor Hidden, Tensor Mask) : IDisposable
{
    /// <summary>One vector per text (B, C), pooled over the real tokens, optionally L2-normalised.</summary>
    public Tensor Pool(TextPooling pooling, bool normalize = false)
    {
        using var scope = NewDisposeScope();
        var pooled = BertEncoder.Pool(Hidden, Mask, pooling);
        if (normalize) pooled = nn.functional.normalize(pooled, p: 2, dim: 1);
        return pooled.MoveToOuterDisposeScope();
    }

    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        Hidden.Dispose();
        Mask.Dispose();
    }
}

/// <summary>
/// A loaded pretrained text encoder: the <see cref="BertEncoder"/> with its weights, the matching
/// tokenizer, and the SHA-256 of the base weights as stored in the package
/// (<see cref="BertOnnxImport.WeightsSha256"/>), which an agent checkpoint records so that resuming
/// can check it starts from the same base. Made by <see cref="PretrainedTextEncoders.Load(string, string?, int?, double)"/>.
/// </summary>
public sealed class PretrainedTextEncoder : IDisposable
{
    internal PretrainedTextEncoder(PretrainedTextEncoderInfo info, BertEncoder encoder, BertTextTokenizer tokenizer, string weightsSha256)
    {
        Info = info;
        Encoder = encoder;
        Tokenizer = tokenizer;
        WeightsSha256 = weightsSha256;
    }

    /// <summary>The catalog entry it was loaded from.</summary>
    public PretrainedTextEncoderInfo Info { get; }

    /// <summary>The encoder module (owned: disposed with this object).</summary>
    public BertEncoder Encoder { get; }

    /// <summary>The tokenizer of the model's vocabulary.</summary>
    public BertTextTokenizer Tokenizer { get; }

    /// <summary>SHA-256 (lower-case hex) of the base weights as loaded, before any fine-tuning.</summary>
    public string WeightsSha256 { get; }

    /// <summary>Width C of the token states and pooled vectors.</summary>
    public int Width => Encoder.Width;

    /// <summary>
    /// Throws <see cref="PretrainedModelException"/> unless the base weights hash to
    /// <paramref name="expectedSha256"/> (as recorded when a checkpoint was written).
    /// </summary>
    public void VerifyWeights(string expectedSha256)
    {
        if (!string.Equals(expectedSha256, WeightsSha256, StringComparison.OrdinalIgnoreCase))
            throw new PretrainedModelException($"Pretrained text encoder '{Info.Name}': base weights hash to {WeightsSha256}, the checkpoint expects {expectedSha256} (another package version?).");
    }

    /// <summary>
    /// Tokenizes and encodes <paramref name="texts"/> (padded to the longest, or to <paramref name="padTo"/>)
    /// in one batched forward, under the caller's grad mode: with a trainable encoder the result carries gradients.
    /// </summary>
    public TextEncoding Encode(IReadOnlyList<string> texts, int? padTo = null)
    {
        using var batch = Tokenizer.EncodeBatch(texts, padTo);
        var hidden = Encoder.forward(new BertInput(TokenIds: batch.Ids, AttentionMask: batch.Mask));  // (B, T, C)
        return new TextEncoding(hidden, batch.Mask.to(@bool));
    }

    /// <summary>
    /// Sentence embeddings (B, C): <see cref="Encode"/>, pooled with <paramref name="pooling"/>
    /// (default: the model's own, <see cref="PretrainedTextEncoderInfo.Pooling"/>), optionally L2-normalised
    /// (sentence-transformers normalises all-MiniLM-L6-v2's embeddings).
    /// </summary>
    public Tensor Embed(IReadOnlyList<string> texts, TextPooling? pooling = null, bool normalize = false)
    {
        using var encoding = Encode(texts);
        return encoding.Pool(pooling ?? Info.Pooling, normalize);
    }

    /// <summary>
    /// A second encoder with this one's base weights (copied, so the two train apart), tokenizer and hash, frozen
    /// and in eval mode, for another module to configure (<see cref="BertEncoder.ConfigureFineTuning"/>): cheaper
    /// than loading the package again. This encoder must carry no adapters.
    /// </summary>
    public PretrainedTextEncoder Copy()
    {
        if (Encoder.Projections().Any(p => p.Layer.HasAdapter)) throw new InvalidOperationException($"'{Info.Name}': copy the encoder before attaching adapters.");
        var copy = new BertEncoder(Encoder.Config);
        try
        {
            using (no_grad())
            {
                var source = Encoder.state_dict();
                foreach (var (name, target) in copy.state_dict()) target.copy_(source[name]);
            }
            copy.ConfigureFineTuning(TextEncoderFineTuning.Frozen);
            copy.eval();
            return new PretrainedTextEncoder(Info, copy, Tokenizer, WeightsSha256);
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    /// <summary>Disposes the encoder.</summary>
    public void Dispose() => Encoder.Dispose();
}
