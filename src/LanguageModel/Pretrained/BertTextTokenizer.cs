using Microsoft.ML.Tokenizers;
using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Pretrained;

/// <summary>Token ids of a batch of texts, padded: ids int64 (B, T), [CLS] … [SEP] then [PAD]; mask int64 (B, T), 1 = real token.</summary>
/// <param name="Ids">Token ids (B, T).</param>
/// <param name="Mask">Attention mask (B, T).</param>
public sealed record TokenBatch(Tensor Ids, Tensor Mask) : IDisposable
{
    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        Ids.Dispose();
        Mask.Dispose();
    }
}

/// <summary>
/// BERT's WordPiece tokenization of single texts, as Hugging Face's tokenizer does it: the special
/// tokens ([CLS], [SEP], [PAD], [UNK], [MASK]) are matched in the raw text first and kept whole; the
/// rest is normalised (clean text, CJK ideographs split, and for uncased models accents stripped and
/// lower-cased), split on whitespace and punctuation, and cut into WordPieces by greedy longest match
/// with <c>##</c> continuations, [UNK] for words it cannot cover. The WordPiece model is
/// Microsoft.ML.Tokenizers' <see cref="BertTokenizer"/>; normalisation and pre-tokenisation are
/// <see cref="BertBasicNormalizer"/> and <see cref="BertBasicPreTokenizer"/>, because the package's own
/// differ from Hugging Face's on symbols, tabs and accents. Texts become [CLS] tokens [SEP], cut to
/// <see cref="MaxTokens"/> with [SEP] kept.
/// </summary>
public sealed class BertTextTokenizer
{
    private readonly BertTokenizer _tokenizer;
    private readonly (string Token, int Id)[] _special;
    private readonly string[] _vocab;

    private BertTextTokenizer(BertTokenizer tokenizer, int maxTokens, string[] vocab)
    {
        _tokenizer = tokenizer;
        MaxTokens = maxTokens;
        _vocab = vocab;
        _special = new[] { tokenizer.ClassificationToken, tokenizer.SeparatorToken, tokenizer.PaddingToken, tokenizer.UnknownToken, tokenizer.MaskingToken }
            .Select(t => (t, tokenizer.EncodeToIds(t, addSpecialTokens: false, considerPreTokenization: false, considerNormalization: false).Single()))
            .ToArray();
    }

    /// <summary>
    /// Reads a WordPiece <c>vocab.txt</c> (one token a line, line number = id) from <paramref name="vocab"/>.
    /// <paramref name="maxTokens"/> bounds every encoding, [CLS] and [SEP] included (at least 2).
    /// </summary>
    public static BertTextTokenizer Load(Stream vocab, bool lowerCase, int maxTokens)
    {
        if (maxTokens < 2) throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, "maxTokens must leave room for [CLS] and [SEP] (at least 2).");
        // BertTokenizer.Create reads the stream to its end; the lines, id by id, are kept for Tokens.
        using var buffer = new MemoryStream();
        vocab.CopyTo(buffer);
        var lines = new List<string>();
        using (var reader = new StreamReader(new MemoryStream(buffer.GetBuffer(), 0, (int)buffer.Length, writable: false)))
            while (reader.ReadLine() is { } line) lines.Add(line);
        buffer.Position = 0;
        var tokenizer = BertTokenizer.Create(buffer, new BertOptions
        {
            Normalizer = new BertBasicNormalizer(lowerCase),
            PreTokenizer = new BertBasicPreTokenizer(),
            LowerCaseBeforeTokenization = lowerCase,
            // Special tokens are split off the raw text in Encode, before normalisation, as Hugging Face does.
            SplitOnSpecialTokens = false,
        });
        return new BertTextTokenizer(tokenizer, maxTokens, lines.ToArray());
    }

    /// <summary>Longest encoding, [CLS] and [SEP] included.</summary>
    public int MaxTokens { get; }

    /// <summary>Number of ids in the vocabulary.</summary>
    public int VocabSize => _vocab.Length;

    /// <summary>Id of [PAD].</summary>
    public int PadId => _tokenizer.PaddingTokenId;

    /// <summary>Id of [CLS], the first token of every encoding.</summary>
    public int ClsId => _tokenizer.ClassificationTokenId;

    /// <summary>Id of [SEP], the last token of every encoding.</summary>
    public int SepId => _tokenizer.SeparatorTokenId;

    /// <summary>Id of [UNK].</summary>
    public int UnknownId => _tokenizer.UnknownTokenId;

    /// <summary>[CLS] + WordPiece ids of <paramref name="text"/> (cut to <see cref="MaxTokens"/> − 2) + [SEP].</summary>
    public int[] Encode(string text)
    {
        var ids = new List<int>(16) { ClsId };
        int budget = MaxTokens - 2;
        foreach (var (segment, specialId) in Segments(text))
        {
            if (ids.Count - 1 >= budget) break;
            if (specialId is { } id) ids.Add(id);
            else ids.AddRange(_tokenizer.EncodeToIds(segment, addSpecialTokens: false).Take(budget - (ids.Count - 1)));
        }
        ids.Add(SepId);
        return ids.ToArray();
    }

    /// <summary>The text split around exact occurrences of the special tokens: (text, null) pieces and (token, id) matches, in order.</summary>
    private IEnumerable<(string Text, int? SpecialId)> Segments(string text)
    {
        int from = 0;
        while (from < text.Length)
        {
            int at = -1, which = -1;
            for (int s = 0; s < _special.Length; s++)
            {
                int i = text.IndexOf(_special[s].Token, from, StringComparison.Ordinal);
                if (i >= 0 && (at < 0 || i < at)) (at, which) = (i, s);
            }
            if (at < 0) break;
            if (at > from) yield return (text[from..at], null);
            yield return (_special[which].Token, _special[which].Id);
            from = at + _special[which].Token.Length;
        }
        if (from < text.Length) yield return (text[from..], null);
    }

    /// <summary>The WordPiece strings of <paramref name="text"/> (without [CLS] and [SEP]), for inspection.</summary>
    public IReadOnlyList<string> Tokens(string text) => Encode(text)[1..^1].Select(id => _vocab[id]).ToList();

    /// <summary>
    /// Encodes every text and pads to the longest, or to <paramref name="padTo"/> when given (it must
    /// hold the longest encoding). CPU tensors, owned by the caller's dispose scope.
    /// </summary>
    public TokenBatch EncodeBatch(IReadOnlyList<string> texts, int? padTo = null)
    {
        var encoded = texts.Select(Encode).ToList();
        int longest = encoded.Count == 0 ? 0 : encoded.Max(e => e.Length);
        int t = padTo ?? longest;
        if (t < longest) throw new ArgumentOutOfRangeException(nameof(padTo), padTo, $"padTo must hold the longest encoding ({longest} tokens).");
        var ids = new long[encoded.Count * t];
        var mask = new long[encoded.Count * t];
        for (int b = 0; b < encoded.Count; b++)
            for (int i = 0; i < t; i++)
            {
                bool real = i < encoded[b].Length;
                ids[b * t + i] = real ? encoded[b][i] : PadId;
                mask[b * t + i] = real ? 1 : 0;
            }
        return new TokenBatch(tensor(ids, [encoded.Count, t]), tensor(mask, [encoded.Count, t]));
    }
}
