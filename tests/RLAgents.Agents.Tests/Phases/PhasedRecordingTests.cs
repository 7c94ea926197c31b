using RLAgents.Agents.Phases;
using RLAgents.Agents.Training;
using RLAgents.Environments.Configuration;
using RLAgents.EpisodeLogs;
using RLAgents.Policies;
using RLAgents.Policies.Multimodal;

namespace RLAgents.Agents.Tests.Phases;

/// <summary>A phased run records its RL phases and evaluations into one episode log that replays exactly.</summary>
public class PhasedRecordingTests
{
    [Fact]
    public void RlPhasesAndEvaluationsAreRecordedWithTheirPhaseAndReplayExactly()
    {
        using var dir = new TempDirectory();
        var first = PhaseTestKit.Ppo(320); // 80 steps per env: past the level's 64-step limit
        first.Name = "ppo-warmup";
        var options = PhaseTestKit.Options(PolicyArchitecture.Mlp, PhaseTestKit.Sft(expertEpisodes: 4, updates: 2), first, PhaseTestKit.Ppo(320));
        options.Recording = new EpisodeRecorderOptions { ObservationHashes = true };
        var result = TrainingRunner.Run(options, dir.Combine("run"));
        string path = Path.Combine(result.RunDirectory, TrainingRunner.EpisodeLogFile);

        var episodes = EpisodeLogReader.ReadAll(path).ThrowIfDamaged().Episodes;
        // Training episodes carry their phase's name (given, or kind-index) and the schedule checkpoint id.
        Assert.Contains(episodes, e => e.Phase == "ppo-warmup" && !e.Evaluation);
        Assert.Contains(episodes, e => e.Phase == "ppo-2" && !e.Evaluation);
        Assert.All(episodes.Where(e => !e.Evaluation), e => Assert.StartsWith("phase-00", e.CheckpointId));
        // After each of the three phases, EvalEpisodes (4) greedy evaluation episodes.
        var evaluations = episodes.Where(e => e.Evaluation).ToList();
        Assert.Equal(3 * options.Training.EvalEpisodes, evaluations.Count);
        Assert.All(evaluations, e => Assert.Equal("eval", e.Phase));
        Assert.Equal(episodes.Count, episodes.Select(e => e.Index).Distinct().Count());

        var report = new Replayer().Verify(path);
        Assert.True(report.Success, report.Summary());
        Assert.Equal(episodes.Count, report.Episodes.Count);
    }

    [Fact]
    public void RecordingABatchedEnvIsAConfigurationErrorNamingTheKey()
    {
        var options = PhaseTestKit.Options(PolicyArchitecture.Mlp, PhaseTestKit.Ppo(64));
        options.Recording = new EpisodeRecorderOptions();
        options.Env.Vectorization = Environments.Vector.VectorizationMode.Batched;
        var e = Assert.Throws<ConfigurationException>(options.Validate);
        Assert.Contains("env.vectorization", e.Message);
    }
}
