using RLAgents.Agents.Training;

namespace RLAgents.Agents.Tests.Training;

/// <summary>
/// Training a multimodal Transformer with the acting cache on (the default) stays deterministic: the same seed writes the
/// same run, and a run interrupted mid-rollout and resumed — its cache starting empty — writes what the uninterrupted run writes.
/// </summary>
public class ActingCacheRunTests
{
    /// <summary>GoToLocal (missions change with every episode), a tiny PPO phase with evaluations, checkpoints and an episode log.</summary>
    private static ExperimentOptions Tiny(string fusion) => TestPaths.Load("babyai-gotolocal-sft-ppo.json",
        "env.numEnvs=4", "env.vectorization=sync", $"policy.multimodal.fusion={fusion}",
        "policy.multimodal.backbone={\"nLayer\":1,\"nHead\":2,\"nEmbd\":32,\"blockSize\":128}",
        "phases=[{\"name\":\"ppo\",\"steps\":384,\"kind\":\"ppo\",\"ppo\":{\"rolloutSteps\":16,\"epochs\":2,\"minibatches\":2}}]",
        "training.logInterval=64", "training.evalInterval=192", "training.evalEpisodes=2", "training.checkpointInterval=128",
        "recording={}");

    [Theory]
    [InlineData("crossAttention")]
    [InlineData("late")]
    public void SameSeedRunsAndAResumedRunWriteTheSameMetricsCheckpointsAndEpisodes(string fusion)
    {
        using var dir = new TempDirectory();
        var full = TrainingRunner.Run(Tiny(fusion), dir.Combine("full"));
        var again = TrainingRunner.Run(Tiny(fusion), dir.Combine("again"));
        RunComparison.AssertSameRun(full.RunDirectory, again.RunDirectory);

        using var cancel = new CancellationTokenSource();
        var part = TrainingRunner.Run(Tiny(fusion), dir.Combine("part"), progress: p => { if (p.EnvSteps >= 208) cancel.Cancel(); }, cancellation: cancel.Token);
        Assert.True(part.Interrupted);
        var resumed = TrainingRunner.Run(TrainingRunner.LoadRunConfig(part.RunDirectory), part.RunDirectory, resume: true);
        Assert.False(resumed.Interrupted);
        RunComparison.AssertSameRun(full.RunDirectory, resumed.RunDirectory);
        Assert.True(RunComparison.Rows(full.RunDirectory).Count >= 4);
    }
}
