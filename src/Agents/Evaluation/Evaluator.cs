using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;
using RLAgents.EpisodeLogs;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.Policies;
using RLAgents.Policies.Networks;
using RLAgents.Policies.Selection;
using static TorchSharp.torch;

namespace RLAgents.Agents.Evaluation;

/// <summary>Outcomes of evaluation episodes, one entry per episode.</summary>
/// <param name="Returns">Undiscounted return of each episode.</param>
/// <param name="Lengths">Length of each episode.</param>
/// <param name="Successes">Each episode's success (its last step's <see cref="StepInfo.IsSuccess"/>), null where the env does not report it.</param>
/// <param name="Tasks">Each episode's task (its last step's <see cref="StepInfo.Task"/>) in a mixture of tasks; null entries (or a null array) elsewhere.</param>
public sealed record EpisodeOutcomes(double[] Returns, int[] Lengths, bool?[] Successes, string?[]? Tasks = null)
{
    /// <summary>Fraction of successful episodes, or null when the env reports success for none of them.</summary>
    public double? SuccessRate => Rate(Successes);

    /// <summary>Per task (ordered by name): episodes and success rate (null where the env does not report success); empty when no episode names a task.</summary>
    public IReadOnlyList<(string Task, int Episodes, double? SuccessRate)> ByTask()
    {
        if (Tasks is null) return [];
        return [.. Tasks.Select((t, i) => (Task: t, Index: i)).Where(x => x.Task is not null)
            .GroupBy(x => x.Task!, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count(), Rate([.. g.Select(x => Successes[x.Index])])))];
    }

    private static double? Rate(bool?[] successes) => successes.All(s => s is null) ? null : successes.Count(s => s == true) / (double)successes.Length;
}

/// <summary>What an evaluation measured.</summary>
/// <param name="Checkpoint">The checkpoint evaluated (null for an in-training evaluation).</param>
/// <param name="Step">Env steps of training behind the weights.</param>
/// <param name="Seed">Evaluation seed (episode seeds derive from it).</param>
/// <param name="Outcomes">Per-episode returns, lengths and successes.</param>
/// <param name="Summary">Mean, median, IQM of the returns with 95% bootstrap CIs over episodes.</param>
public sealed record EvaluationReport(string? Checkpoint, long Step, long Seed, EpisodeOutcomes Outcomes, ScoreSummary Summary)
{
    /// <summary>Fraction of successful episodes, or null when the env does not report success.</summary>
    public double? SuccessRate => Outcomes.SuccessRate;

    /// <summary>The same episode seeds played with the text reworded by a paraphrase table, when one was given.</summary>
    public EvaluationReport? Paraphrased { get; init; }

    /// <summary>On a paraphrased report: the share of episodes whose text the table changed (the rest read as the original).</summary>
    public double? RewordedShare { get; init; }

    /// <summary>The figures a run keeps of this evaluation.</summary>
    public EvaluationSummary ToSummary() => new(Outcomes.Returns.Length, Summary.Mean.Value, Summary.InterquartileMean.Value, SuccessRate);

    /// <summary>Summarises <paramref name="outcomes"/> with bootstrap CIs drawn from <c>DeriveSeed(seed, "bootstrap")</c>.</summary>
    public static EvaluationReport Of(string? checkpoint, long step, long seed, EpisodeOutcomes outcomes) =>
        new(checkpoint, step, seed, outcomes, EvaluationStatistics.Summarize(outcomes.Returns, new Rng(Rng.DeriveSeed(unchecked((ulong)seed), "bootstrap"))));
}

/// <summary>Evaluation of a policy or a checkpoint.</summary>
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
    public static EpisodeOutcomes RunEpisodes(Policy policy, IVectorEnv env, int episodes, long seed, ActionSelection selection,
        EpisodeRecorderGroup? recorders = null, Action<int>? episodesDone = null)
    {
        if (episodes < 1) throw new ArgumentOutOfRangeException(nameof(episodes), episodes, "Evaluate at least one episode.");
        if (env.AutoresetMode != AutoresetMode.SameStep) throw new ArgumentException("Evaluation needs a SameStep vector env.");
        int n = env.NumEnvs;
        var quota = Enumerable.Range(0, n).Select(i => episodes / n + (i < episodes % n ? 1 : 0)).ToArray();
        var returns = new List<double>(episodes);
        var lengths = new List<int>(episodes);
        var successes = new List<bool?>(episodes);
        var tasks = new List<string?>(episodes);
        var ret = new double[n];
        var len = new int[n];
        var act = new ActResult(n, env.SingleActionSpace.ActionLayout, describe: recorders is not null);
        var actions = new ActionBatch(env.SingleActionSpace, n);
        var rng = new Rng(Rng.DeriveSeed(unchecked((ulong)seed), "eval-actions"));
        var memory = RecurrentMemory.For(policy, n);
        env.Reset(seed);
        for (int i = 0; i < n; i++)
            if (quota[i] == 0) recorders?.Stop(i);
        while (returns.Count < episodes)
        {
            using (var scope = NewDisposeScope())
            {
                var input = policy.Tensorizer.ToInput(env.Observations);
                memory?.Attach(input, n);
                policy.Act(input, selection, rng, act, withValues: recorders is not null);
                memory?.Commit(input);
            }
            if (recorders is not null)
                for (int i = 0; i < n; i++) recorders.AttachAgentOutput(i, act.ProbabilitiesOf(i), act.Values[i]);
            act.CopyTo(actions);
            env.Step(actions);
            for (int i = 0; i < n; i++)
            {
                ret[i] += env.Rewards[i];
                len[i]++;
                if (!env.Terminated[i] && !env.Truncated[i]) continue;
                memory?.EndEpisode(i);
                if (quota[i] > 0)
                {
                    returns.Add(ret[i]);
                    lengths.Add(len[i]);
                    successes.Add(env.Infos[i].IsSuccess);
                    episodesDone?.Invoke(returns.Count);
                    tasks.Add(env.Infos[i].Task);
                    // A slot past its quota keeps stepping until the others finish; the log holds only the evaluated episodes.
                    if (--quota[i] == 0) recorders?.Stop(i);
                }
                ret[i] = 0;
                len[i] = 0;
            }
        }
        return new EpisodeOutcomes([.. returns], [.. lengths], [.. successes], tasks.Any(t => t is not null) ? [.. tasks] : null);
    }

    /// <summary>
    /// Plays <paramref name="episodes"/> episodes on <paramref name="env"/> (owned: disposed here) with its text
    /// reworded by <paramref name="paraphrases"/>, from the same <paramref name="seed"/> as the original evaluation,
    /// so the episodes (layouts and goals) are the same and only the wording differs.
    /// </summary>
    public static EvaluationReport RunParaphrased(Policy policy, IVectorEnv env, ParaphraseTable paraphrases, int episodes, long seed, ActionSelection selection,
        string? checkpoint = null, long step = 0)
    {
        using var reworded = new ParaphrasedVectorEnv(env, paraphrases);
        var outcomes = RunEpisodes(policy, reworded, episodes, seed, selection);
        return EvaluationReport.Of(checkpoint, step, seed, outcomes) with { RewordedShare = reworded.EpisodesRewritten / (double)Math.Max(1, reworded.EpisodesStarted) };
    }

    /// <summary>
    /// Loads a checkpoint (a <c>.safetensors</c> file written by the runner, or a run directory for
    /// its latest checkpoint), rebuilds the agent and environment from the experiment stored with
    /// it (after <paramref name="overrides"/>, <c>key.path=value</c>, e.g. an env option), and evaluates
    /// <paramref name="episodes"/> episodes acting greedily (or by sampling, with
    /// <paramref name="greedy"/> false; Q-networks always act greedily). With <paramref name="recordTo"/>, every
    /// evaluation episode is written to that episode log (phase <c>eval</c>, checkpoint id set), which
    /// <c>rlagents replay --verify</c> re-simulates. With <paramref name="paraphrases"/>, the same episode seeds are
    /// played again with the text reworded (<see cref="EvaluationReport.Paraphrased"/>; not recorded).
    /// </summary>
    public static EvaluationReport Evaluate(string checkpointPath, int episodes = 10, long seed = 0, int? numEnvs = null, string? recordTo = null, bool greedy = true,
        ParaphraseTable? paraphrases = null, IReadOnlyList<string>? overrides = null, Action<int>? episodesDone = null)
    {
        var checkpoint = Checkpoint.Load(checkpointPath);
        ExperimentOptions options;
        try
        {
            options = overrides is { Count: > 0 } ? checkpoint.ExperimentWith(overrides) : checkpoint.Experiment;
        }
        catch
        {
            checkpoint.DisposeTensors();
            throw;
        }
        if (recordTo is not null && checkpoint.RunDirectory is { } run
            && Path.GetFullPath(recordTo).StartsWith(Path.GetFullPath(run).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            checkpoint.DisposeTensors();
            throw new Core.InputException($"--record {recordTo} is inside the run directory {run} being evaluated (its files, the training log among them, are never overwritten); write the evaluation log elsewhere");
        }
        if (recordTo is not null)
        {
            // Recording wraps each sub-env, which a natively batched env does not have: step them one by one.
            options.Recording ??= new EpisodeRecorderOptions();
            if (options.Env.Vectorization == VectorizationMode.Batched) options.Env.Vectorization = VectorizationMode.Sync;
        }
        using var episodeLog = recordTo is null ? null : AgentFactory.OpenEpisodeLog(options, recordTo, append: false, out _);
        var recorders = episodeLog is null ? null : new EpisodeRecorderGroup(episodeLog, options.Recording)
        {
            Phase = "eval",
            Evaluation = true,
            CheckpointId = checkpoint.Id,
        };
        // The run's thread count: libtorch's default of one per core spin-waits on a shared machine.
        TorchSharp.torch.set_num_threads(options.Training.Threads);
        int envs = numEnvs ?? Math.Min(episodes, 16);
        using var env = AgentFactory.MakeEnv(options, envs, recorders, evaluation: true);
        // Observations normalised as the checkpointed training run normalised them, frozen.
        checkpoint.State.Normalization?.ApplyFrozen(env);
        using var agent = AgentFactory.CreateAgent(options, env);
        try
        {
            ModelWeights.Load(agent.Policy, checkpoint.Tensors, checkpoint.WeightsPath, _ => true, "policy.");
        }
        finally
        {
            checkpoint.DisposeTensors();
        }
        agent.Policy.eval();
        var selection = greedy || agent.Policy is QNetworkPolicy ? ActionSelection.Greedy : ActionSelection.Sample;
        var outcomes = RunEpisodes(agent.Policy, env, episodes, seed, selection, recorders, episodesDone);
        long step = checkpoint.State.EnvSteps;
        var paraphrased = paraphrases is null ? null
            : RunParaphrased(agent.Policy, AgentFactory.MakeEnv(options, envs), paraphrases, episodes, seed, selection, checkpoint.WeightsPath, step);
        return EvaluationReport.Of(checkpoint.WeightsPath, step, seed, outcomes) with { Paraphrased = paraphrased };
    }
}
