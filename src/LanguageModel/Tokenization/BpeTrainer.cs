using System.Text;

namespace RLAgents.LanguageModel.Tokenization;

/// <summary>
/// Learns byte-level BPE merges (Sennrich et al. 2016, byte-level as in GPT-2): words from the
/// GPT-2 pre-tokenisation (<see cref="Gpt2PreTokenizer"/>) start as byte sequences, and the most frequent adjacent pair is
/// merged repeatedly until the vocabulary reaches its size or no pair occurs twice. Ties between
/// equally frequent pairs go to the pair with the smaller ids, so training is deterministic.
/// </summary>
public static class BpeTrainer
{
    /// <summary>The learned vocabulary (token string → id, byte-level spelling) and merges in rank order.</summary>
    public sealed record Result(Dictionary<string, int> Vocabulary, List<(string Left, string Right)> Merges);

    /// <summary>
    /// Trains merges on <paramref name="corpus"/>. Ids: the 256 byte symbols (GPT-2 order), then
    /// one per merge, then <see cref="SpecialTokens.All"/>; the total is at most <paramref name="vocabSize"/>.
    /// Special-token strings in the corpus are cut out before counting, so no merge spans them.
    /// </summary>
    public static Result Train(IEnumerable<string> corpus, int vocabSize, int minFrequency = 2)
    {
        int specialCount = SpecialTokens.All.Count;
        if (vocabSize < 256 + specialCount)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, $"A byte-level vocabulary needs at least {256 + specialCount} entries.");
        if (minFrequency < 1) throw new ArgumentOutOfRangeException(nameof(minFrequency), minFrequency, "Must be at least 1.");

        var tokens = new List<string>(ByteToUnicode.SymbolsInGpt2Order());
        var byteToId = new int[256];
        for (int b = 0; b < 256; b++) byteToId[b] = tokens.IndexOf(ByteToUnicode.Encode((byte)b).ToString());

        // Unique pre-tokenised words with their counts; each word is a sequence of token ids.
        var wordCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string text in corpus)
            foreach (var (offset, length, special) in Gpt2PreTokenizer.Default.Split(text))
            {
                if (special) continue;
                string word = text.Substring(offset, length);
                wordCounts[word] = wordCounts.GetValueOrDefault(word) + 1;
            }
        var words = new List<int[]>(wordCounts.Count);
        var counts = new List<long>(wordCounts.Count);
        foreach (var (word, count) in wordCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            words.Add(Encoding.UTF8.GetBytes(word).Select(b => byteToId[b]).ToArray());
            counts.Add(count);
        }

        var pairCounts = new Dictionary<long, long>();
        for (int w = 0; w < words.Count; w++) AddPairs(pairCounts, words[w], counts[w], +1);

        var merges = new List<(string, string)>();
        int targetMerges = vocabSize - 256 - specialCount;
        while (merges.Count < targetMerges)
        {
            long best = -1, bestCount = 0;
            foreach (var (pair, count) in pairCounts)
                if (count > bestCount || (count == bestCount && count > 0 && pair < best)) (best, bestCount) = (pair, count);
            if (bestCount < minFrequency) break;

            int left = (int)(best >> 32), right = (int)(best & 0xFFFFFFFF), merged = tokens.Count;
            tokens.Add(tokens[left] + tokens[right]);
            merges.Add((tokens[left], tokens[right]));
            for (int w = 0; w < words.Count; w++)
            {
                if (!ContainsPair(words[w], left, right)) continue;
                AddPairs(pairCounts, words[w], counts[w], -1);
                words[w] = MergePair(words[w], left, right, merged);
                AddPairs(pairCounts, words[w], counts[w], +1);
            }
        }

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++) vocab[tokens[i]] = i;
        foreach (string special in SpecialTokens.All) vocab[special] = vocab.Count;
        return new Result(vocab, merges);
    }

    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    private static void AddPairs(Dictionary<long, long> pairCounts, int[] word, long count, int sign)
    {
        for (int i = 0; i + 1 < word.Length; i++)
        {
            long key = Key(word[i], word[i + 1]);
            long updated = pairCounts.GetValueOrDefault(key) + sign * count;
            if (updated == 0) pairCounts.Remove(key);
            else pairCounts[key] = updated;
        }
    }

    private static bool ContainsPair(int[] word, int left, int right)
    {
        for (int i = 0; i + 1 < word.Length; i++)
            if (word[i] == left && word[i + 1] == right) return true;
        return false;
    }

    private static int[] MergePair(int[] word, int left, int right, int merged)
    {
        var result = new List<int>(word.Length);
        for (int i = 0; i < word.Length; i++)
        {
            if (i + 1 < word.Length && word[i] == left && word[i + 1] == right) { result.Add(merged); i++; }
            else result.Add(word[i]);
        }
        return result.ToArray();
    }
}
