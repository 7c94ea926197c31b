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
}
