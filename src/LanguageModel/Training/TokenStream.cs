using RLAgents.Environments;
using RLAgents.LanguageModel.Tokenization;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Training;

/// <summary>A tokenised corpus split into a training and a held-out stream; batches are random windows.</summary>
internal sealed class TokenStream
{
    private TokenStream(int[] train, int[] validation) => (Train, Validation) = (train, validation);

    public int[] Train { get; }
    public int[] Validation { get; }

    public static TokenStream Build(IEnumerable<string> corpus, ITokenizer tokenizer, bool linesAreDocuments, double validationFraction, int blockSize)
    {
        var tokens = new List<int>();
        if (linesAreDocuments)
        {
            foreach (string line in corpus)
            {
                if (line.Length == 0) continue;
                tokens.AddRange(tokenizer.Encode(line));
                tokens.Add(tokenizer.Special.Eos);
            }
        }
        else
        {
            // Encode line by line, keeping the newline, so memory stays bounded on large files.
            foreach (string line in corpus) tokens.AddRange(tokenizer.Encode(line + "\n"));
        }
        int split = (int)(tokens.Count * (1 - validationFraction));
        if (split < blockSize + 1 || tokens.Count - split < blockSize + 1)
            throw new InvalidDataException(
                $"corpus: {tokens.Count} tokens are too few for blockSize {blockSize} with validationFraction {validationFraction} (each split needs at least {blockSize + 1}).");
        return new TokenStream(tokens.Take(split).ToArray(), tokens.Skip(split).ToArray());
    }

    /// <summary>Inputs and next-token targets, both int64 (B, T), from random windows of <paramref name="data"/>.</summary>
    public static (Tensor Inputs, Tensor Targets) Batch(int[] data, int batchSize, int blockSize, Rng rng)
    {
        var inputs = new long[batchSize * blockSize];
        var targets = new long[batchSize * blockSize];
        for (int b = 0; b < batchSize; b++)
        {
            int start = rng.NextInt(data.Length - blockSize);
            for (int t = 0; t < blockSize; t++)
            {
                inputs[b * blockSize + t] = data[start + t];
                targets[b * blockSize + t] = data[start + t + 1];
            }
        }
        return (tensor(inputs, batchSize, blockSize), tensor(targets, batchSize, blockSize));
    }
}
