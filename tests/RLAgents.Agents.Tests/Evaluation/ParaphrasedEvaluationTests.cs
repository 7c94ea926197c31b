using RLAgents.Agents.Evaluation;
using RLAgents.Agents.Tests.Phases;
using RLAgents.Agents.Training;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.Wrappers;
using RLAgents.Policies;

namespace RLAgents.Agents.Tests.Evaluation;

public sealed class ParaphrasedEvaluationTests
{
    private static string Table(string directory, string json)
    {
        string file = Path.Combine(directory, $"table-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, json);
        return file;
    }

    [Fact]
    public void EvaluationsAlsoPlayTheSameSeedsWithRewordedMissionsAndLogBoth()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run"), tables = temp.Combine("tables");
        Directory.CreateDirectory(tables);
        try
        {
            var options = PhaseTestKit.Options(PolicyArchitecture.Mlp, PhaseTestKit.Sft(expertEpisodes: 6, updates: 10));
            options.Training.Paraphrases = Table(tables, """{"replace": {"go to": ["zoom toward", "whizz by"], "red": ["scarlet"]}}""");
            options.Training.EvalEpisodes = 8;
            TrainingRunner.Run(options, run);
            var last = PhaseTestKit.Rows(run)[^1];
            Assert.InRange(last["eval_paraphrased_success"]!.GetValue<double>(), 0, 1);
            Assert.True(last.ContainsKey("eval_paraphrased_return_mean"));

            // A table that rewords every mission: all episodes reworded. One whose key never occurs: the very same episodes and outcomes.
            var reworded = Evaluator.Evaluate(run, 8, seed: 3, greedy: false, paraphrases: ParaphraseTable.Load(options.Training.Paraphrases));
            Assert.Equal(1.0, reworded.Paraphrased!.RewordedShare);
            var same = Evaluator.Evaluate(run, 8, seed: 3, greedy: false, paraphrases: ParaphraseTable.Load(Table(tables, """{"replace": {"purple": ["violet"]}}""")));
            Assert.Equal(0.0, same.Paraphrased!.RewordedShare);
            Assert.Equal(same.Outcomes.Returns, same.Paraphrased.Outcomes.Returns);
            Assert.Equal(same.Outcomes.Lengths, same.Paraphrased.Outcomes.Lengths);
            Assert.Equal(reworded.Outcomes.Returns, same.Outcomes.Returns);
        }
        finally
        {
            if (Directory.Exists(run)) Directory.Delete(run, true);
            Directory.Delete(tables, true);
        }
    }

    [Fact]
    public void AMissingTableFailsBeforeTheRunDirectoryExists()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");
        var options = PhaseTestKit.Options(PolicyArchitecture.Mlp, PhaseTestKit.Sft(expertEpisodes: 2, updates: 1));
        options.Training.Paraphrases = "/nonexistent/table.json";
        var error = Assert.Throws<ConfigurationException>(() => TrainingRunner.Run(options, run));
        Assert.Equal("/nonexistent/table.json: paraphrase table not found", error.Message);
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void OverridesChangeTheStoredExperimentForOneEvaluation()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");
        try
        {
            TrainingRunner.Run(PhaseTestKit.Options(PolicyArchitecture.Mlp, PhaseTestKit.Sft(expertEpisodes: 2, updates: 1)), run);
            // GoToRedBallGrey's mission is always the red ball: holding it out leaves the level nothing to generate.
            // An env whose reset throws is an env fault: one line naming the env and the slot.
            var error = Assert.Throws<RLAgents.Environments.EnvFaultException>(() => Evaluator.Evaluate(run, 2, overrides: ["env.options.heldOut=[\"red ball\"]"]));
            Assert.StartsWith("BabyAI-GoToRedBallGrey-v0 (env 0): Reset threw", error.Message);
            Assert.Contains("no episode in 10000 avoids the held-out pairs red ball", error.Message);
            var only = Evaluator.Evaluate(run, 2, overrides: ["env.options.heldOut=[\"red ball\"]", "env.options.heldOutMode=only"]);
            Assert.Equal(2, only.Outcomes.Returns.Length);
            var bad = Assert.Throws<ConfigurationException>(() => Evaluator.Evaluate(run, 2, overrides: ["env.options.heldOutMode=sometimes"]));
            Assert.StartsWith("env.options.heldOutMode", bad.Message);
            // The stored experiment is untouched: a plain evaluation plays the level as trained.
            Assert.Equal(2, Evaluator.Evaluate(run, 2).Outcomes.Returns.Length);
        }
        finally
        {
            Directory.Delete(run, true);
        }
    }
}
