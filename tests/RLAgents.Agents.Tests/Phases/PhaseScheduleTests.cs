using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Phases;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Policies;
using RLAgents.Policies.Multimodal;
using static RLAgents.Agents.Tests.Phases.PhaseTestKit;

namespace RLAgents.Agents.Tests.Phases;

public sealed class PhaseScheduleTests
{
    [Fact]
    public void PhasesSwitchAtTheirStepCountsAndRepeatInOrder()
    {
        using var temp = new TempDirectory();
        string dir = temp.Combine("dir");
        try
        {
            var options = Options(PolicyArchitecture.Mlp, Sft(expertEpisodes: 3, updates: 10), Ppo(steps: 128));
            options.Repeat = 2;
            var result = TrainingRunner.Run(options, dir);

            Assert.Equal([AlgorithmKind.Sft, AlgorithmKind.Ppo, AlgorithmKind.Sft, AlgorithmKind.Ppo], result.Phases.Select(p => p.Kind));
            Assert.Equal([0L, 128L, 0L, 128L], result.Phases.Select(p => p.EnvSteps));
            Assert.Equal([3L, 0L, 3L, 0L], result.Phases.Select(p => p.Demonstrations));
            Assert.Equal(256, result.EnvSteps);
            Assert.Equal(6, result.Demonstrations);

            var rows = Rows(dir);
            // Rows are in phase order; each carries its phase; PPO rows advance 64 steps (4 envs × 16) per iteration.
            Assert.Equal(rows.Select(r => r["phase_index"]!.GetValue<int>()).Order(), rows.Select(r => r["phase_index"]!.GetValue<int>()));
            Assert.Equal([0, 1, 2, 3], rows.Select(r => r["phase_index"]!.GetValue<int>()).Distinct());
            var ppoSteps = rows.Where(r => r["phase_index"]!.GetValue<int>() == 3 && r["phase_step"] is not null).Select(r => r["phase_step"]!.GetValue<long>());
            Assert.Equal([64L, 128L], ppoSteps);
            var lastPpo = rows.Last(r => r["phase_index"]!.GetValue<int>() == 3);
            Assert.Equal(256, lastPpo["step"]!.GetValue<long>());
            Assert.Equal("ppo", lastPpo["kind"]!.GetValue<string>());
            Assert.NotNull(lastPpo["eval_success"]);
            Assert.All(rows.Where(r => r["kind"]!.GetValue<string>() == "sft" && r["update"] is not null), r => Assert.NotNull(r["bc_loss"]));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void APhaseTrainsOnlyItsTrainableGroups()
    {
        using var temp = new TempDirectory();
        string dir = temp.Combine("dir");
        try
        {
            var options = Options(PolicyArchitecture.Transformer, Ppo(steps: 64, trainable: ["heads"]));
            TrainingRunner.Run(options, dir);
            var after = LatestPolicy(dir);
            // The same seed rebuilds the initial weights.
            using var env = AgentFactory.MakeEnv(new ExperimentOptions { Env = options.Env }, 1);
            using var fresh = AgentFactory.CreateAgent(options, env);
            var before = fresh.Policy.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());
            Assert.Subset(after.Keys.ToHashSet(), before.Keys.ToHashSet());
            foreach (var (name, initial) in before)
            {
                if (ParameterGroups.Contains("heads", name)) continue;
                Assert.True(initial.SequenceEqual(after[name]), $"frozen parameter {name} changed");
            }
            Assert.False(before["policy_head.weight"].SequenceEqual(after["policy_head.weight"]), "the policy head did not train");
            Assert.False(before["value_head.weight"].SequenceEqual(after["value_head.weight"]), "the value head did not train");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ResumingAtAPhaseBoundaryReproducesTheUninterruptedRun()
    {
        using var temp = new TempDirectory();
        string full = temp.Combine("full"), resumed = temp.Combine("resumed");
        try
        {
            var options = Options(PolicyArchitecture.Mlp, Ppo(steps: 64), Sft(expertEpisodes: 2, updates: 8), Ppo(steps: 64, klAnchor: 0.5));
            var complete = TrainingRunner.Run(options, full);
            // Interrupted after phase 0: keep only what existed then.
            CopyRunUpTo(full, resumed, "phase-001-step-0000000064");
            var result = TrainingRunner.Run(options, resumed, resume: true);

            Assert.Equal(complete.EnvSteps, result.EnvSteps);
            Assert.Equal(complete.Phases.Select(p => (p.Kind, p.EnvSteps, p.Demonstrations)), result.Phases.Select(p => (p.Kind, p.EnvSteps, p.Demonstrations)));
            var a = LatestPolicy(full);
            var b = LatestPolicy(resumed);
            foreach (var (name, values) in a) Assert.True(values.SequenceEqual(b[name]), $"{name} differs after resume");
            var rowsA = Rows(full).Select(r => (r["phase_index"]!.GetValue<int>(), r["step"]!.GetValue<long>()));
            var rowsB = Rows(resumed).Select(r => (r["phase_index"]!.GetValue<int>(), r["step"]!.GetValue<long>()));
            Assert.Equal(rowsA, rowsB);
        }
        finally { Directory.Delete(full, true); Directory.Delete(resumed, true); }
    }

    [Fact]
    public void ResumingAGrowingDemonstrationSetDrawsTheEarlierRepetitionsAgainAndReproducesTheUninterruptedRun()
    {
        using var temp = new TempDirectory();
        string full = temp.Combine("full"), resumed = temp.Combine("resumed");
        try
        {
            var sft = Sft(expertEpisodes: 2, updates: 6);
            sft.Sft.KeepEarlierData = true;
            var options = Options(PolicyArchitecture.Mlp, sft);
            options.Repeat = 3;
            var complete = TrainingRunner.Run(options, full);
            // Interrupted after the first repetition: the second and third must still train on all the data drawn so far.
            CopyRunUpTo(full, resumed, "phase-000-step-0000000000");
            var result = TrainingRunner.Run(options, resumed, resume: true);

            Assert.Equal([2L, 2L, 2L], result.Phases.Select(p => p.Demonstrations));
            Assert.Equal(6, result.Demonstrations);
            var dataEpisodes = Rows(resumed).Where(r => r["data_episodes"] is not null).GroupBy(r => r["phase_index"]!.GetValue<int>()).Select(g => g.Last()["data_episodes"]!.GetValue<double>());
            Assert.Equal([2.0, 4.0, 6.0], dataEpisodes);
            var a = LatestPolicy(full);
            var b = LatestPolicy(resumed);
            foreach (var (name, values) in a) Assert.True(values.SequenceEqual(b[name]), $"{name} differs after resume");
        }
        finally { Directory.Delete(full, true); Directory.Delete(resumed, true); }
    }

    [Fact]
    public void ResumingInsideAnRlPhaseContinuesFromItsStep()
    {
        using var temp = new TempDirectory();
        string full = temp.Combine("full"), resumed = temp.Combine("resumed");
        try
        {
            var options = Options(PolicyArchitecture.Mlp, Ppo(steps: 192), Sft(expertEpisodes: 2, updates: 4));
            options.Training.CheckpointInterval = 64;
            TrainingRunner.Run(options, full);
            CopyRunUpTo(full, resumed, "phase-000-step-0000000128");
            var result = TrainingRunner.Run(options, resumed, resume: true);

            Assert.Equal([192L, 0L], result.Phases.Select(p => p.EnvSteps));
            Assert.Equal(192, result.EnvSteps);
            var steps = Rows(resumed).Where(r => r["phase_index"]!.GetValue<int>() == 0 && r["phase_step"] is not null).Select(r => r["phase_step"]!.GetValue<long>());
            Assert.Equal([64L, 128L, 192L], steps); // rows up to 128 kept, 192 written after the resume
            Assert.Equal(1, Rows(resumed).Select(r => r["phase_index"]!.GetValue<int>()).Max());
        }
        finally { Directory.Delete(full, true); Directory.Delete(resumed, true); }
    }

    [Fact]
    public void AStopRequestCheckpointsAtTheNextIterationAndResumeFinishesTheSchedule()
    {
        using var temp = new TempDirectory();
        string dir = temp.Combine("dir"), boundary = temp.Combine("boundary");
        try
        {
            var options = Options(PolicyArchitecture.Mlp, Ppo(steps: 192), Sft(expertEpisodes: 2, updates: 4));
            using var stop = new CancellationTokenSource();
            stop.Cancel();
            // Already requested: the call still does one iteration (64 steps), then checkpoints mid-phase and evaluates what it reached.
            var first = TrainingRunner.Run(options, dir, cancellation: stop.Token);
            Assert.True(first.Interrupted);
            Assert.False(first.Stopped);
            Assert.Empty(first.Phases);
            Assert.Equal(64, first.EnvSteps);
            var last = Rows(dir)[^1];
            Assert.Equal(64, last["phase_step"]!.GetValue<long>());
            Assert.Null(last["eval_success"]); // the interruption's evaluation is the caller's, not the run's
            Assert.NotNull(first.FinalEvaluation?.SuccessRate);
            Assert.True(File.Exists(Path.Combine(dir, "checkpoints", "phase-000-step-0000000064.safetensors")));

            var rest = TrainingRunner.Run(options, dir, resume: true);
            Assert.False(rest.Interrupted);
            Assert.Equal([AlgorithmKind.Ppo, AlgorithmKind.Sft], rest.Phases.Select(p => p.Kind));
            Assert.Equal([192L, 0L], rest.Phases.Select(p => p.EnvSteps));
            Assert.Equal([64L, 128L, 192L], Rows(dir).Where(r => r["kind"]!.GetValue<string>() == "ppo").Select(r => r["phase_step"]!.GetValue<long>()));

            // An SFT phase is never cut short: the request is honoured at the boundary after it.
            var sftFirst = Options(PolicyArchitecture.Mlp, Sft(expertEpisodes: 2, updates: 4), Ppo(steps: 64));
            var atBoundary = TrainingRunner.Run(sftFirst, boundary, cancellation: stop.Token);
            Assert.True(atBoundary.Interrupted);
            Assert.Equal([AlgorithmKind.Sft], atBoundary.Phases.Select(p => p.Kind));
            Assert.Equal(0, atBoundary.EnvSteps);
            Assert.Equal([AlgorithmKind.Sft, AlgorithmKind.Ppo], TrainingRunner.Run(sftFirst, boundary, resume: true).Phases.Select(p => p.Kind));
        }
        finally { Directory.Delete(dir, true); Directory.Delete(boundary, true); }
    }

    [Fact]
    public void AScheduleMixingDqnWithActorCriticPhasesIsRejectedNamingThePhase()
    {
        var options = Options(PolicyArchitecture.Mlp, new PhaseOptions { Kind = AlgorithmKind.Dqn, Steps = 10 }, Ppo(10));
        var error = Assert.Throws<ConfigurationException>(options.Validate);
        Assert.Contains("phases[1].kind", error.Message);
        var noData = Options(PolicyArchitecture.Mlp, new PhaseOptions { Kind = AlgorithmKind.Sft });
        Assert.Contains("phases[0].sft", Assert.Throws<ConfigurationException>(noData.Validate).Message);
    }
}
