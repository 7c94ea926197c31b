using RLAgents.Agents.Algorithms;
using RLAgents.Environments;
using RLAgents.LanguageModel.Training;
using RLAgents.Policies;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RLAgents.Agents.Phases;

/// <summary>
/// Supervised fine-tuning by behaviour cloning: minimise −log π(a*|s) over demonstration steps
/// (the Q-network's Q(s,·) are read as logits), plus, for actor-critic agents, a value regression
/// onto each step's discounted return. Minibatches are drawn with replacement; only parameters
/// with <c>requires_grad</c> are optimised.
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
        using var outer = NewDisposeScope();
        var observations = policy.Tensorizer.ToInput(data.ToBatch());
        var actions = tensor(data.Actions.Select(a => (long)a).ToArray());
        var returns = tensor(data.Returns.ToArray());
        for (int update = 1; update <= options.Updates; update++)
        {
            using var scope = NewDisposeScope();
            for (int i = 0; i < batchSize; i++) index[i] = rng.NextInt(data.Count);
            var rows = tensor(index);
            var batch = observations.Select(rows);
            var targets = actions.index_select(0, rows);
            Tensor? logits = null;
            Tensor loss;
            bool logging = update % logEvery == 0 || update == options.Updates;
            var metrics = new Dictionary<string, double>();
            if (policy is ActorCriticPolicy ac)
            {
                var eval = ac.EvaluateActions(batch, targets);
                var bc = eval.LogProbs.mean().neg();
                loss = bc;
                metrics["bc_loss"] = bc.item<float>();
                if (options.ValueCoefficient > 0)
                {
                    var value = F.mse_loss(eval.Values, returns.index_select(0, rows));
                    loss = loss.add(value.mul(options.ValueCoefficient));
                    metrics["value_loss"] = value.item<float>();
                }
                // Accuracy needs the full logits: one more forward pass, on logged updates only.
                if (logging) using (no_grad()) logits = ac.Logits(batch);
            }
            else
            {
                logits = ((QNetworkPolicy)policy).QValues(batch);
                loss = F.cross_entropy(logits, targets);
                metrics["bc_loss"] = loss.item<float>();
            }
            adam.ZeroGrad();
            loss.backward();
            metrics["grad_norm"] = adam.Step();
            foreach (var (k, v) in metrics) sums[k] = sums.GetValueOrDefault(k) + v;
            counted++;
            if (logging)
            {
                last = sums.ToDictionary(p => p.Key, p => p.Value / counted);
                // Accuracy on the latest minibatch (before its update), not an average.
                last["accuracy"] = logits!.argmax(-1).eq(targets).to_type(ScalarType.Float32).mean().item<float>();
                log?.Invoke(update, last);
                sums.Clear();
                counted = 0;
            }
        }
        return last;
    }
}
