using System.Text.Json;
using RLAgents.Agents.Phases;
using RLAgents.Agents.Collection;
using RLAgents.Agents.Evaluation;
using RLAgents.Agents.Tests.Phases;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.Vector;
using RLAgents.Policies;
using RLAgents.Policies.Selection;

namespace RLAgents.Agents.Tests.Training;

/// <summary>One agent on a mixture of levels: per-level evaluation metrics and a curriculum that adds levels as success grows.</summary>
public sealed class TaskMixtureRunTests
{
    private static readonly string[] Levels = ["BabyAI-GoToRedBallNoDists-v0", "BabyAI-GoToRedBallGrey-v0", "BabyAI-GoToLocal-v0"];

    private static ExperimentOptions Mixture(params PhaseOptions[] phases)
    {
        var options = PhaseTestKit.Options(PolicyArchitecture.Mlp, phases);
        options.Env.Id = BabyAILevels.MixtureId.ToString();
        options.Env.Options = JsonDocument.Parse(JsonSerializer.Serialize(new { ids = Levels, envOptions = new { includeDescription = false } })).RootElement;
        options.Training.EvalEpisodes = 30;
        return options;
    }

    [Fact]
    public void EvaluationReportsTheSuccessOfEveryLevelUnderItsOwnKey()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");
        try
        {
            var result = TrainingRunner.Run(Mixture(PhaseTestKit.Ppo(128)), run);
            var last = PhaseTestKit.Rows(run).Last(r => r.ContainsKey("eval_success"));
            var keys = new[] { "eval_success_go_to_red_ball_no_dists", "eval_success_go_to_red_ball_grey", "eval_success_go_to_local" };
            foreach (var key in keys) Assert.True(last.ContainsKey(key), $"no {key} in {last.ToJsonString()}");
            // The per-level rates are the overall rate split by level: they average back to it, weighted by episodes.
            double overall = (double)last["eval_success"]!;
            Assert.InRange(overall, 0, 1);
            Assert.All(keys, k => Assert.InRange((double)last[k]!, 0, 1));
            Assert.Single(result.Phases);
        }
        finally
        {
            if (Directory.Exists(run)) Directory.Delete(run, true);
        }
    }

    [Fact]
    public void EvaluatedEpisodesNameTheirLevelAndSplitTheSuccessRate()
    {
        var options = Mixture(PhaseTestKit.Ppo(16));
        using var env = AgentFactory.MakeEnv(options, 6);
        using var agent = AgentFactory.CreateAgent(options, env);
        var outcomes = Evaluator.RunEpisodes(agent.Policy, env, 60, seed: 3, ActionSelection.Sample);
        var byTask = outcomes.ByTask();
        Assert.Equal(["GoToLocal", "GoToRedBallGrey", "GoToRedBallNoDists"], byTask.Select(t => t.Task));
        Assert.Equal(60, byTask.Sum(t => t.Episodes));
        Assert.Equal(outcomes.SuccessRate!.Value * 60, byTask.Sum(t => t.SuccessRate!.Value * t.Episodes), 6);
    }

    [Fact]
    public void TheCurriculumAddsTheNextLevelOnlyWhenEveryActiveLevelReachesTheThreshold()
    {
        var options = Mixture(PhaseTestKit.Ppo(16));
        using var env = AgentFactory.MakeEnv(options, 2);
        var curriculum = TaskCurriculum.For(new CurriculumOptions { StartTasks = 1, Threshold = 0.75, Window = 4 }, env, null);
        Assert.Equal(1, curriculum.Active);
        Assert.All(VectorEnvs.FindAll<ITaskMixture>(env), m => Assert.Equal(3, m.ActiveTasks));
        curriculum.Apply(env);
        Assert.All(VectorEnvs.FindAll<ITaskMixture>(env), m => Assert.Equal(1, m.ActiveTasks));

        void Play(string task, params bool[] successes) { foreach (var s in successes) curriculum.Observe(new EpisodeRecord(s ? 1 : 0, 5, s, task)); }
        Play("GoToRedBallNoDists", true, true, true);
        Assert.False(curriculum.TryAdvance()); // a window of 4 is not full yet
        Play("GoToRedBallNoDists", false);
        Assert.True(curriculum.TryAdvance()); // 3 of 4 = 0.75
        Assert.Equal(2, curriculum.Active);
        Play("GoToRedBallGrey", true, true, false, false);
        Assert.False(curriculum.TryAdvance());
        Play("GoToRedBallGrey", true, true);
        Assert.False(curriculum.TryAdvance()); // the latest 4: 2 of 4
        Play("GoToRedBallGrey", true);
        Assert.True(curriculum.TryAdvance());
        Assert.False(curriculum.TryAdvance()); // every level is in
        Assert.Contains(curriculum.Metrics(), m => m.Key == "rolling_success_go_to_red_ball_grey" && m.Value == 0.75);

        var resumed = TaskCurriculum.For(new CurriculumOptions { StartTasks = 1, Threshold = 0.75, Window = 4 }, env, curriculum.State);
        Assert.Equal(3, resumed.Active);
        Assert.Equal(curriculum.Metrics(), resumed.Metrics());
    }

    [Fact]
    public void ACurriculumRunStartsOnTheFirstLevelsAndSavesItsStateInCheckpoints()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");
        try
        {
            var options = Mixture(PhaseTestKit.Ppo(1024));
            options.Env.Curriculum = new CurriculumOptions { StartTasks = 2, Threshold = 0, Window = 1 };
            TrainingRunner.Run(options, run);
            var rows = PhaseTestKit.Rows(run).Where(r => r.ContainsKey("curriculum_tasks")).ToList();
            Assert.NotEmpty(rows);
            // Threshold 0: the third level joins as soon as both starting levels have played an episode.
            Assert.Equal(3.0, (double)rows[^1]["curriculum_tasks"]!);
            var checkpoint = Checkpoint.Load(run);
            Assert.Equal(3, checkpoint.State.Runner.Curriculum!.Active);
            checkpoint.DisposeTensors();
        }
        finally
        {
            if (Directory.Exists(run)) Directory.Delete(run, true);
        }
    }

    [Fact]
    public void ACurriculumOnAnEnvThatMixesNoTasksIsAConfigurationError()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");
        try
        {
            var options = PhaseTestKit.Options(PolicyArchitecture.Mlp, PhaseTestKit.Ppo(32));
            options.Env.Curriculum = new CurriculumOptions();
            var e = Assert.Throws<ConfigurationException>(() => TrainingRunner.Run(options, run));
            Assert.StartsWith("env.curriculum", e.Message);
        }
        finally
        {
            if (Directory.Exists(run)) Directory.Delete(run, true);
        }
    }
}
