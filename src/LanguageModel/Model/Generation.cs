using static TorchSharp.torch;

namespace RLAgents.LanguageModel.Model;

/// <summary>Decoding from a causal <see cref="GptModel"/>.</summary>
public static class Generation
{
    /// <summary>
    /// Greedy decoding: appends the arg-max token up to <paramref name="maxNewTokens"/> times, stopping
    /// after <paramref name="stopId"/>; the context is cropped to the block size. Returns only the new ids (stop id excluded).
    /// </summary>
    public static int[] Greedy(GptModel model, IReadOnlyList<int> prompt, int maxNewTokens, int? stopId = null)
    {
        bool wasTraining = model.training;
        model.eval();
        var ids = prompt.Select(i => (long)i).ToList();
        var generated = new List<int>();
        using (no_grad())
        {
            for (int n = 0; n < maxNewTokens; n++)
            {
                using var scope = NewDisposeScope();
                var context = ids.Skip(Math.Max(0, ids.Count - model.Config.BlockSize)).ToArray();
                var logits = model.forward(new GptInput(TokenIds: tensor(context, 1, context.Length), Causal: true)).Logits!;  // (1, T, V)
                int next = (int)logits[0, -1].argmax().item<long>();
                if (next == stopId) break;
                generated.Add(next);
                ids.Add(next);
            }
        }
        if (wasTraining) model.train();
        return generated.ToArray();
    }
}
