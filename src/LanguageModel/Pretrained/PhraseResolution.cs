using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Pretrained;

/// <summary>How one alternative wording was resolved: the key phrase it replaces, the key the encoder put nearest, and both cosines.</summary>
/// <param name="Key">The phrase the alternative stands for (e.g. <c>red</c>).</param>
/// <param name="Alternative">The alternative wording (e.g. <c>crimson</c>).</param>
/// <param name="Nearest">The key whose embedding is nearest the alternative's.</param>
/// <param name="OwnCosine">Cosine between the alternative's and its own key's embedding.</param>
/// <param name="NearestCosine">Cosine between the alternative's and the nearest key's embedding.</param>
public sealed record ResolvedPhrase(string Key, string Alternative, string Nearest, double OwnCosine, double NearestCosine)
{
    /// <summary>True when the nearest key is the alternative's own.</summary>
    public bool Resolved => Nearest == Key;
}

/// <summary>
/// What a pretrained text encoder itself knows of a paraphrase table: for every alternative wording, whether the
/// encoder's own sentence embedding (its pooling, L2-normalised) of the alternative lies nearer its key phrase than
/// any other key of the table. An agent that reads missions through a frozen encoder cannot be expected to treat
/// an alternative as its key when the encoder puts it nearer another key, so the share resolved here is a ceiling
/// on how much paraphrase transfer that encoder can give — measured in seconds, before any agent is trained.
/// <see cref="ReadOut"/> asks the same of a linear read-out of the encoder's token states in context, the most an agent
/// whose layers above the frozen encoder are trained on the keys alone can be expected to carry over.
/// </summary>
public static class PhraseResolution
{
    /// <summary>
    /// Resolves every alternative of <paramref name="table"/> (keys in order, each with its alternatives) against
    /// all the table's keys, one row per alternative in table order.
    /// </summary>
    public static IReadOnlyList<ResolvedPhrase> Measure(PretrainedTextEncoder encoder, IReadOnlyList<(string Key, IReadOnlyList<string> Alternatives)> table)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        if (table.Count < 2) throw new ArgumentException("Resolving wordings needs at least two keys to choose between.", nameof(table));
        using var scope = NewDisposeScope();
        using var grad = no_grad();
        var keys = table.Select(e => e.Key).ToList();
        var alternatives = table.SelectMany(e => e.Alternatives.Select(a => (e.Key, Alternative: a))).ToList();
        var keyEmbeddings = encoder.Embed(keys, normalize: true);                                        // [K, D]
        var cosines = encoder.Embed([.. alternatives.Select(a => a.Alternative)], normalize: true)      // [A, D]
            .matmul(keyEmbeddings.t()).to_type(ScalarType.Float64).data<double>().ToArray();          // [A, K] row-major
        var rows = new List<ResolvedPhrase>(alternatives.Count);
        for (int a = 0; a < alternatives.Count; a++)
        {
            var row = cosines.AsSpan(a * keys.Count, keys.Count);
            int nearest = 0;
            for (int k = 1; k < row.Length; k++) if (row[k] > row[nearest]) nearest = k;
            rows.Add(new ResolvedPhrase(alternatives[a].Key, alternatives[a].Alternative, keys[nearest], row[keys.IndexOf(alternatives[a].Key)], row[nearest]));
        }
        return rows;
    }

    /// <summary>
    /// A linear read-out's view of the table: in each of <paramref name="sentences"/> (e.g. an env's missions), every
    /// whole-word occurrence of a key gives a training example, the mean of the encoder's last states over the key's
    /// WordPieces labelled with the key; the same sentence with that occurrence replaced by each alternative gives a
    /// test example with the same label. A multinomial logistic regression (Adam, <paramref name="steps"/> full-batch
    /// steps from zero weights, so the result is deterministic) fits the training examples; returns its accuracy on
    /// them and on the alternatives, with the number of each, and the accuracy on each key's alternatives (keys that
    /// occur, in table order). Sentences without any key are skipped.
    /// </summary>
    public static (double Train, double Alternatives, int TrainCount, int AlternativeCount, IReadOnlyList<(string Key, double Accuracy)> PerKey) ReadOut(PretrainedTextEncoder encoder,
        IReadOnlyList<(string Key, IReadOnlyList<string> Alternatives)> table, IEnumerable<string> sentences, int steps = 500)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        if (table.Count < 2) throw new ArgumentException("Resolving wordings needs at least two keys to choose between.", nameof(table));
        using var scope = NewDisposeScope();
        using var grad = no_grad();
        var train = new List<Tensor>();
        var test = new List<Tensor>();
        var trainLabels = new List<long>();
        var testLabels = new List<long>();
        foreach (string sentence in sentences.Distinct(StringComparer.Ordinal))
            for (int k = 0; k < table.Count; k++)
                foreach (Match m in Regex.Matches(sentence, @"(?<![\p{L}\p{N}_])" + Regex.Escape(table[k].Key) + @"(?![\p{L}\p{N}_])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant))
                {
                    string before = sentence[..m.Index], after = sentence[(m.Index + m.Length)..];
                    train.Add(WordState(encoder, before, m.Value, after));
                    trainLabels.Add(k);
                    foreach (string alternative in table[k].Alternatives)
                    {
                        test.Add(WordState(encoder, before, alternative, after));
                        testLabels.Add(k);
                    }
                }
        if (train.Count == 0) throw new ArgumentException("No sentence contains a key of the table.", nameof(sentences));
        var x = stack(train);                                    // [N, D]
        var y = tensor(trainLabels.ToArray());                   // [N]
        var weight = new TorchSharp.Modules.Parameter(zeros(x.shape[1], table.Count));   // [D, K]
        var bias = new TorchSharp.Modules.Parameter(zeros(table.Count));                  // [K]
        using (enable_grad())
        using (var optimizer = new Training.AdamOptimizer([("weight", weight), ("bias", bias)], new Training.AdamOptions { LearningRate = 1e-2 }))
        {
            for (int i = 0; i < steps; i++)
            {
                using var step = NewDisposeScope();
                optimizer.ZeroGrad();
                nn.functional.cross_entropy(x.matmul(weight).add(bias), y).backward();
                optimizer.Step();
            }
        }
        double Accuracy(Tensor features, Tensor labels) => features.matmul(weight).add(bias).argmax(1).eq(labels).to_type(ScalarType.Float64).mean().item<double>();
        if (test.Count == 0) return (Accuracy(x, y), double.NaN, train.Count, 0, []);
        var right = stack(test).matmul(weight).add(bias).argmax(1).eq(tensor(testLabels.ToArray())).data<bool>().ToArray();
        var perKey = Enumerable.Range(0, table.Count).Where(k => testLabels.Contains(k))
            .Select(k => (table[k].Key, Enumerable.Range(0, right.Length).Where(i => testLabels[i] == k).Average(i => right[i] ? 1.0 : 0.0))).ToList();
        return (Accuracy(x, y), right.Average(r => r ? 1.0 : 0.0), train.Count, test.Count, perKey);
    }

    /// <summary>The mean last state [D] over the WordPieces of <paramref name="word"/> in the sentence before + word + after.</summary>
    private static Tensor WordState(PretrainedTextEncoder encoder, string before, string word, string after)
    {
        // [CLS] + the pieces of the text before the word; the word's pieces follow (basic tokenization splits at spaces and punctuation).
        int start = encoder.Tokenizer.Encode(before.TrimEnd()).Length - 1;
        int end = encoder.Tokenizer.Encode((before + word).TrimEnd()).Length - 1;
        using var encoding = encoder.Encode([before + word + after]);
        return encoding.Hidden[0, start..end].mean([0]);                   // [D]
    }
}
