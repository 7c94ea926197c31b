using RLAgents.Agents.Algorithms;
using RLAgents.Environments;
using RLAgents.LanguageModel.Training;
using RLAgents.Policies;
using RLAgents.Policies.Networks;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RLAgents.Agents.Phases;

/// <summary>
/// Supervised fine-tuning by behaviour cloning: minimise −log π(a*|s) over demonstration steps
/// (the Q-network's Q(s,·) are read as logits), plus, for actor-critic agents, a value regression
/// onto each step's discounted return. Minibatches are drawn with replacement; only parameters
/// with <c>requires_grad</c> are optimised. A recurrent policy learns from whole episodes: each minibatch is
/// episodes drawn with replacement (about as many steps as the batch size), replayed from an empty memory, the
/// shorter ones padded to the longest with steps that carry no loss.
/// </summary>
public static class BehaviourCloning
{
    /// <summary>
    /// Runs <see cref="LanguageModel.FineTuning.SupervisedOptions.Updates"/> updates on <paramref name="data"/>; <paramref name="log"/> receives
    /// (update, averaged metrics) every <paramref name="logEvery"/> updates. Returns the last metrics.
    /// </summary>
    public static Dictionary<string, double> Train(Policy policy, DemonstrationSet data, SftOptions options, Rng rng,
        int logEvery = 100, Action<int, Dictionary<string, double>>? log = null)
    {
        if (data.Count == 0) throw new InvalidOperationException("Supervised fine-tuning got no demonstration steps (did every own episode fail the return filter?).");
        var trainable = policy.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToList();
        if (trainable.Count == 0) throw new InvalidOperationException("Supervised fine-tuning: no parameter is trainable in this phase.");
        using var adam = new AdamOptimizer(trainable, new AdamOptions { LearningRate = options.LearningRate, MaxGradNorm = options.MaxGradNorm, Epsilon = 1e-8 });
        var sums = new Dictionary<string, double>();
        var last = new Dictionary<string, double>();
        int batchSize = Math.Min(options.BatchSize, data.Count), counted = 0;
        var index = new long[batchSize];
        int memorySize = (policy as ActorCriticPolicy)?.MemorySize ?? 0;
        // Recurrent: episodes per minibatch, so that a minibatch holds about batchSize steps on average.
        int episodesPer = memorySize == 0 ? 0 : Math.Max(1, (int)Math.Round(batchSize / ((double)data.Count / data.Episodes)));
        using var outer = NewDisposeScope();
        var observations = policy.Tensorizer.ToInput(data.ToBatch());
        var actions = tensor(data.Actions.Select(a => (long)a).ToArray());
        var returns = tensor(data.Returns.ToArray());
        for (int update = 1; update <= options.Updates; update++)
        {
            using var scope = NewDisposeScope();
            // Linear decay: update u (from 1) runs at lr·(1 − (u − 1)/U), as PPO's annealing does per update.
            if (options.AnnealLearningRate) adam.LearningRate = options.LearningRate * (1 - (update - 1) / (double)options.Updates);
            Tensor rows;
            Tensor? weights = null; // recurrent: 1 on real steps, 0 on padding, [T·B]
            SequenceInput? sequence = null;
            if (memorySize > 0) (rows, weights, sequence) = EpisodeBatch(data, episodesPer, memorySize, rng);
            else
            {
                for (int i = 0; i < batchSize; i++) index[i] = rng.NextInt(data.Count);
                rows = tensor(index);
            }
            var batch = observations.Select(rows);
            batch.Sequence = sequence;
            var targets = actions.index_select(0, rows);
            Tensor? logits = null;
            Tensor loss;
            bool logging = update % logEvery == 0 || update == options.Updates;
            var metrics = new Dictionary<string, double>();
            if (policy is ActorCriticPolicy ac)
            {
                var eval = ac.EvaluateActions(batch, targets);
                var bc = Mean(eval.LogProbs, weights).neg();
                loss = bc;
                metrics["bc_loss"] = bc.item<float>();
                if (options.ValueCoefficient > 0)
                {
                    var error = eval.Values.sub(returns.index_select(0, rows));
                    var value = Mean(error.mul(error), weights);
                    loss = loss.add(value.mul(options.ValueCoefficient));
                    metrics["value_loss"] = value.item<float>();
                }
                // Accuracy needs the full logits: one more forward pass, on logged updates only.
                if (logging) using (no_grad()) logits = ac.Logits(batch); // a recurrent batch replays its sequences again
            }
            else
            {
                logits = ((QNetworkPolicy)policy).QValues(batch);
                loss = F.cross_entropy(logits, targets);
                metrics["bc_loss"] = loss.item<float>();
            }
            adam.ZeroGrad();
            loss.backward();
            metrics["learning_rate"] = adam.LearningRate;
            metrics["grad_norm"] = adam.Step();
            foreach (var (k, v) in metrics) sums[k] = sums.GetValueOrDefault(k) + v;
            counted++;
            if (logging)
            {
                last = sums.ToDictionary(p => p.Key, p => p.Value / counted);
                // Accuracy on the latest minibatch (before its update), not an average.
                last["accuracy"] = Mean(logits!.argmax(-1).eq(targets).to_type(ScalarType.Float32), weights).item<float>();
                log?.Invoke(update, last);
                sums.Clear();
                counted = 0;
            }
        }
        return last;
    }

    /// <summary>The mean of <paramref name="values"/> [N], weighted by <paramref name="weights"/> [N] when given.</summary>
    private static Tensor Mean(Tensor values, Tensor? weights) => weights is null ? values.mean() : values.mul(weights).sum().div(weights.sum());

    /// <summary>
    /// <paramref name="episodes"/> episodes drawn with replacement as one time-major window: row t·B + b is step t of the
    /// b-th (its last step again past its end, weighted 0). Returns the dataset rows [T·B], the weights [T·B] and the
    /// sequence (empty memory at each episode's start).
    /// </summary>
    private static (Tensor Rows, Tensor Weights, SequenceInput Sequence) EpisodeBatch(DemonstrationSet data, int episodes, int memorySize, Rng rng)
    {
        var starts = new int[episodes];
        var lengths = new int[episodes];
        int longest = 0;
        for (int b = 0; b < episodes; b++)
        {
            int e = rng.NextInt(data.Episodes);
            starts[b] = data.EpisodeStarts[e];
            lengths[b] = (e + 1 < data.Episodes ? data.EpisodeStarts[e + 1] : data.Count) - starts[b];
            longest = Math.Max(longest, lengths[b]);
        }
        var rows = new long[longest * episodes];
        var weights = new float[longest * episodes];
        for (int t = 0; t < longest; t++)
            for (int b = 0; b < episodes; b++)
            {
                rows[t * episodes + b] = starts[b] + Math.Min(t, lengths[b] - 1);
                weights[t * episodes + b] = t < lengths[b] ? 1 : 0;
            }
        return (tensor(rows), tensor(weights), new SequenceInput(longest, zeros(episodes, memorySize)));
    }
}
