using RLAgents.Agents.Evaluation;
using RLAgents.Agents.Tests.Phases;
using RLAgents.Agents.Training;
using RLAgents.EpisodeLogs;
using RLAgents.Policies;
using RLAgents.Policies.Selection;

namespace RLAgents.Agents.Tests.Evaluation;

/// <summary>Recording an evaluation (<c>eval --record</c>) writes the episodes it evaluates and changes none of them.</summary>
public sealed class RecordedEvaluationTests
{
    [Fact]
    public void ARecordedBabyAIEvaluationPlaysTheSameEpisodesAsAnUnrecordedOneAndReplays()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("eval.arrows");
        var options = PhaseTestKit.Options(PolicyArchitecture.Mlp, PhaseTestKit.Ppo(16));
        options.Recording = new EpisodeRecorderOptions();
        const int episodes = 40; // 10 per env: nine autoresets each, which a reseeding recorder would change
        EpisodeOutcomes plain, recorded;
        using (var env = AgentFactory.MakeEnv(options, 4))
        using (var agent = AgentFactory.CreateAgent(options, env))
        {
            plain = Evaluator.RunEpisodes(agent.Policy, env, episodes, seed: 3, ActionSelection.Sample);
            using var log = AgentFactory.OpenEpisodeLog(options, path, append: false, out _);
            var recorders = new EpisodeRecorderGroup(log, options.Recording) { Phase = "eval", Evaluation = true };
            using var recordedEnv = AgentFactory.MakeEnv(options, 4, recorders, evaluation: true);
            recorded = Evaluator.RunEpisodes(agent.Policy, recordedEnv, episodes, seed: 3, ActionSelection.Sample, recorders);
        }
        // The untrained policy's episodes vary in length (some reach the ball by chance), so equal lists mean equal episodes.
        Assert.True(plain.Lengths.Distinct().Count() > 3, string.Join(",", plain.Lengths));
        Assert.Equal(plain.Lengths, recorded.Lengths);
        Assert.Equal(plain.Returns, recorded.Returns);

        var written = EpisodeLogReader.ReadAll(path).Episodes;
        Assert.Equal(episodes, written.Count);
        Assert.Equal(plain.Lengths.Order(), written.Select(e => e.Length).Order());
        Assert.All(written.Where(e => e.Seed is null), e => Assert.NotNull(e.StartState));
        var report = new Replayer().Verify(path);
        Assert.True(report.Success, report.Summary());
    }
}
