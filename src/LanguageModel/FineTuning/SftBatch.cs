using RLAgents.LanguageModel.Tokenization;
using RLAgents.LanguageModel.Training;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.FineTuning;

/// <summary>
/// A right-padded batch for supervised fine-tuning. Sequence layout per example:
/// <c>&lt;bos&gt; prompt &lt;sep&gt; target &lt;eos&gt;</c>; inputs are all but the last token, labels
/// all but the first, and labels that predict prompt tokens or padding are <see cref="CausalLanguageModeling.IgnoreIndex"/>.
/// </summary>
/// <param name="Inputs">Token ids, int64 (B, T).</param>
/// <param name="Labels">Next-token labels, int64 (B, T), ignore index where no loss is taken.</param>
/// <param name="AttentionMask">bool (B, T), true at real tokens.</param>
public sealed record SftBatch(Tensor Inputs, Tensor Labels, Tensor AttentionMask) : IDisposable
{
    /// <summary>
    /// Builds a batch. Examples longer than <paramref name="blockSize"/> + 1 tokens lose prompt tokens
    /// from the left (just after &lt;bos&gt;); an example whose target alone does not fit is an error naming it.
    /// </summary>
    public static SftBatch Collate(IReadOnlyList<SftExample> examples, ITokenizer tokenizer, int blockSize)
    {
        if (examples.Count == 0) throw new ArgumentException("An SFT batch needs at least one example.", nameof(examples));
        var special = tokenizer.Special;
        var sequences = new List<(int[] Ids, int PromptLength)>(examples.Count);
        for (int i = 0; i < examples.Count; i++)
        {
            int[] prompt = tokenizer.Encode(examples[i].Prompt);
            int[] target = tokenizer.Encode(examples[i].Target);
            // <bos> prompt <sep> | target <eos>
            int overflow = 1 + prompt.Length + 1 + target.Length + 1 - (blockSize + 1);
            if (overflow > prompt.Length)
                throw new ArgumentException($"examples[{i}]: target of {target.Length} tokens does not fit blockSize {blockSize} with its prompt markers.", nameof(examples));
            if (overflow > 0) prompt = prompt[overflow..];
            int[] ids = [special.Bos, .. prompt, special.Sep, .. target, special.Eos];
            sequences.Add((ids, prompt.Length + 2));
        }

        int b = sequences.Count, t = sequences.Max(s => s.Ids.Length) - 1;
        var inputs = new long[b * t];
        var labels = new long[b * t];
        var mask = new bool[b * t];
        for (int row = 0; row < b; row++)
        {
            var (ids, promptLength) = sequences[row];
            for (int col = 0; col < t; col++)
            {
                int at = row * t + col;
                bool real = col < ids.Length - 1;
                inputs[at] = real ? ids[col] : special.Pad;
                mask[at] = real;
                // Position col predicts ids[col + 1]; only target tokens (and <eos>) are learned.
                labels[at] = real && col + 1 >= promptLength ? ids[col + 1] : CausalLanguageModeling.IgnoreIndex;
            }
        }
        return new SftBatch(tensor(inputs, b, t), tensor(labels, b, t), tensor(mask, b, t));
    }

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Inputs.Dispose();
        Labels.Dispose();
        AttentionMask.Dispose();
    }
}
