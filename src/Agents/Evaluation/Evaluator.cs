using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.EpisodeLogs;
using RLAgents.Environments.Vector;
using RLAgents.Policies;
using RLAgents.Policies.Selection;
using static TorchSharp.torch;

namespace RLAgents.Agents.Evaluation;

/// <summary>What an evaluation measured.</summary>
/// <param name="Checkpoint">The checkpoint evaluated (null for an in-training evaluation).</param>
/// <param name="Step">Training step of the weights.</param>
/// <param name="Seed">Evaluation seed (episode seeds derive from it).</param>
/// <param name="Returns">Undiscounted return of each episode.</param>
/// <param name="Lengths">Length of each episode.</param>
/// <param name="Summary">Mean, median, IQM with 95% bootstrap CIs over episodes.</param>
public sealed record EvaluationReport(string? Checkpoint, long Step, long Seed, double[] Returns, int[] Lengths, ScoreSummary Summary);

/// <summary>Greedy evaluation of a policy or a checkpoint.</summary>
public static class Evaluator
{
    /// <summary>
    /// Runs exactly <paramref name="episodes"/> episodes with <paramref name="selection"/>. Each env
    /// plays a fixed quota of episodes (no bias toward short episodes); the envs are reset with
    /// <paramref name="seed"/>. Draws for stochastic selection come from a generator derived from it.
    /// With <paramref name="recorders"/> (the group wrapping <paramref name="env"/>'s sub-envs), each
    /// step's action distribution and value estimate go to the episode log with the step, and
    /// exactly the evaluated episodes are recorded (a slot stops recording once it has played its quota).
    /// </summary>
    public static (double[] Returns, int[] Lengths) RunEpisodes(Policy policy, IVectorEnv env, int episodes, long seed, ActionSelection selection,
        EpisodeRecorderGroup? recorders = null)
    {
        if (episodes < 1) throw new ArgumentOutOfRangeException(nameof(episodes), episodes, "Evaluate at least one episode.");
        if (env.AutoresetMode != AutoresetMode.SameStep) throw new ArgumentException("Evaluation needs a SameStep vector env.");
        int n = env.NumEnvs;
        var quota = Enumerable.Range(0, n).Select(i => episodes / n + (i < episodes % n ? 1 : 0)).ToArray();
        var returns = new List<double>(episodes);
        var lengths = new List<int>(episodes);
        var ret = new double[n];
        var len = new int[n];
        var act = new ActResult(n, recorders is null ? 0 : env.SingleActionSpace.AsDiscrete("Recording action probabilities").N);
        var rng = new Rng(Rng.DeriveSeed(unchecked((ulong)seed), "eval-actions"));
        env.Reset(seed);
        for (int i = 0; i < n; i++)
            if (quota[i] == 0) recorders?.Stop(i);
        while (returns.Count < episodes)
        {
            using (var scope = NewDisposeScope())
                policy.Act(policy.Tensorizer.ToInput(env.Observations), selection, rng, act, withValues: recorders is not null);
            if (recorders is not null)
                for (int i = 0; i < n; i++) recorders.AttachAgentOutput(i, act.ProbabilitiesOf(i), act.Values[i]);
            env.Step(act.Actions.AsSpan(0, n));
            for (int i = 0; i < n; i++)
            {
                ret[i] += env.Rewards[i];
                len[i]++;
                if (!env.Terminated[i] && !env.Truncated[i]) continue;
                if (quota[i] > 0)
                {
                    returns.Add(ret[i]);
                    lengths.Add(len[i]);
                    // A slot past its quota keeps stepping until the others finish; the log holds only the evaluated episodes.
                    if (--quota[i] == 0) recorders?.Stop(i);
                }
                ret[i] = 0;
                len[i] = 0;
            }
        }
        return (returns.ToArray(), lengths.ToArray());
    }

    /// <summary>
    /// Loads a checkpoint (a <c>.safetensors</c> file written by the runner, or a run directory for
    /// its latest checkpoint), rebuilds the policy and environment from the configuration stored
    /// with it, and evaluates the greedy policy for <paramref name="episodes"/> episodes. With
    /// <paramref name="recordTo"/>, every evaluation episode is written to that episode log
    /// (phase <c>eval</c>, checkpoint id set), which <c>rlagents replay --verify</c> re-simulates.
    /// </summary>
    public static EvaluationReport Evaluate(string checkpointPath, int episodes = 10, long seed = 0, int? numEnvs = null, string? recordTo = null)
    {
        var checkpoint = Checkpoint.Load(checkpointPath);
        using var scope = NewDisposeScope();
        var options = checkpoint.Experiment;
        if (recordTo is not null)
        {
            // Recording wraps each sub-env, which a natively batched env does not have: step them one by one.
            options.Recording ??= new EpisodeRecorderOptions();
            if (options.Env.Vectorization == VectorizationMode.Batched) options.Env.Vectorization = VectorizationMode.Sync;
        }
        using var episodeLog = recordTo is null ? null : AgentFactory.OpenEpisodeLog(options, recordTo, append: false);
        var recorders = episodeLog is null ? null : new EpisodeRecorderGroup(episodeLog, options.Recording)
        {
            Phase = "eval",
            Evaluation = true,
            CheckpointId = Path.GetFileNameWithoutExtension(checkpoint.WeightsPath),
        };
        using var env = AgentFactory.MakeEnv(options, numEnvs ?? Math.Min(episodes, 16), recorders);
        using var policy = AgentFactory.CreatePolicy(options, env.SingleObservationSpace, env.SingleActionSpace.AsDiscrete("The policy heads (categorical, Q-value)"), new Rng(0UL));
        Policies.Serialization.ModuleWeights.Load(policy, checkpoint.Tensors, "policy.", checkpoint.WeightsPath);
        checkpoint.DisposeTensors();
        var (returns, lengths) = RunEpisodes(policy, env, episodes, seed, ActionSelection.Greedy, recorders);
        var summary = EvaluationStatistics.Summarize(returns, new Rng(Rng.DeriveSeed(unchecked((ulong)seed), "bootstrap")));
        return new EvaluationReport(checkpoint.WeightsPath, checkpoint.State.Algorithm.Steps, seed, returns, lengths, summary);
    }
}
