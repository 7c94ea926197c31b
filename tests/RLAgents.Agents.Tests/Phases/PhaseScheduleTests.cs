using RLAgents.Agents.Phases;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Policies.Multimodal;
using static RLAgents.Agents.Tests.Phases.PhaseTestKit;

namespace RLAgents.Agents.Tests.Phases;

public sealed class PhaseScheduleTests
{
    [Fact]
    public void Phases_switch_at_their_step_counts_and_repeat_in_order()
    {
        string dir = TempDirectory();
        try
        {
            var options = Options(PolicyArchitecture.Mlp, Sft(botEpisodes: 3, updates: 10), Ppo(steps: 128));
            options.Repeat = 2;
            var result = PhaseRunner.Run(options, dir);

            Assert.Equal([PhaseKind.Sft, PhaseKind.Ppo, PhaseKind.Sft, PhaseKind.Ppo], result.Phases.Select(p => p.Kind));
            Assert.Equal([0L, 128L, 0L, 128L], result.Phases.Select(p => p.EnvSteps));
            Assert.Equal([3L, 0L, 3L, 0L], result.Phases.Select(p => p.Demonstrations));
            Assert.Equal(256, result.EnvSteps);
            Assert.Equal(6, result.Demonstrations);

            var rows = Rows(dir);
            // Rows are in phase order; each carries its phase; PPO rows advance 64 steps (4 envs × 16) per iteration.
            Assert.Equal(rows.Select(r => r["phaseIndex"]!.GetValue<int>()).Order(), rows.Select(r => r["phaseIndex"]!.GetValue<int>()));
            Assert.Equal([0, 1, 2, 3], rows.Select(r => r["phaseIndex"]!.GetValue<int>()).Distinct());
            var ppoSteps = rows.Where(r => r["phaseIndex"]!.GetValue<int>() == 3 && r["phaseStep"] is not null).Select(r => r["phaseStep"]!.GetValue<long>());
            Assert.Equal([64L, 128L], ppoSteps);
            var lastPpo = rows.Last(r => r["phaseIndex"]!.GetValue<int>() == 3);
            Assert.Equal(256, lastPpo["step"]!.GetValue<long>());
            Assert.Equal("ppo", lastPpo["kind"]!.GetValue<string>());
            Assert.NotNull(lastPpo["eval_success"]);
            Assert.All(rows.Where(r => r["kind"]!.GetValue<string>() == "sft" && r["update"] is not null), r => Assert.NotNull(r["loss/bc"]));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void A_phase_trains_only_its_trainable_groups()
    {
        string dir = TempDirectory();
        try
        {
            var options = Options(PolicyArchitecture.Transformer, Ppo(steps: 64, trainable: ["heads"]));
            PhaseRunner.Run(options, dir);
            var after = LatestPolicy(dir);
            // The same seed rebuilds the initial weights.
            using var env = Training.AgentFactory.MakeEnv(new Training.ExperimentOptions { Env = options.Env }, 1);
            using var fresh = new PhasedAgent(options, env.SingleObservationSpace, env.SingleActionSpace.AsDiscrete("this test"), new Rng(Rng.DeriveSeed(5, "policy")));
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
    public void Resuming_at_a_phase_boundary_reproduces_the_uninterrupted_run()
    {
        string full = TempDirectory(), resumed = TempDirectory();
        try
        {
            var options = Options(PolicyArchitecture.Mlp, Ppo(steps: 64), Sft(botEpisodes: 2, updates: 8), Ppo(steps: 64, klAnchor: 0.5));
            var complete = PhaseRunner.Run(options, full);
            // Interrupted after phase 0: keep only what existed then.
            CopyRunUpTo(full, resumed, "phase-001-start");
            var result = PhaseRunner.Run(options, resumed, resume: true);

            Assert.Equal(complete.EnvSteps, result.EnvSteps);
            Assert.Equal(complete.Phases.Select(p => (p.Kind, p.EnvSteps, p.Demonstrations)), result.Phases.Select(p => (p.Kind, p.EnvSteps, p.Demonstrations)));
            var a = LatestPolicy(full);
            var b = LatestPolicy(resumed);
            foreach (var (name, values) in a) Assert.True(values.SequenceEqual(b[name]), $"{name} differs after resume");
            var rowsA = Rows(full).Select(r => (r["phaseIndex"]!.GetValue<int>(), r["step"]!.GetValue<long>()));
            var rowsB = Rows(resumed).Select(r => (r["phaseIndex"]!.GetValue<int>(), r["step"]!.GetValue<long>()));
            Assert.Equal(rowsA, rowsB);
        }
        finally { Directory.Delete(full, true); Directory.Delete(resumed, true); }
    }

    [Fact]
    public void Resuming_inside_an_rl_phase_continues_from_its_step()
    {
        string full = TempDirectory(), resumed = TempDirectory();
        try
        {
            var options = Options(PolicyArchitecture.Mlp, Ppo(steps: 192), Sft(botEpisodes: 2, updates: 4));
            options.Training.CheckpointInterval = 64;
            PhaseRunner.Run(options, full);
            CopyRunUpTo(full, resumed, "phase-000-step-0000000128");
            var result = PhaseRunner.Run(options, resumed, resume: true);

            Assert.Equal([192L, 0L], result.Phases.Select(p => p.EnvSteps));
            Assert.Equal(192, result.EnvSteps);
            var steps = Rows(resumed).Where(r => r["phaseIndex"]!.GetValue<int>() == 0 && r["phaseStep"] is not null).Select(r => r["phaseStep"]!.GetValue<long>());
            Assert.Equal([64L, 128L, 192L], steps); // rows up to 128 kept, 192 written after the resume
            Assert.Equal(1, Rows(resumed).Select(r => r["phaseIndex"]!.GetValue<int>()).Max());
        }
        finally { Directory.Delete(full, true); Directory.Delete(resumed, true); }
    }

    [Fact]
    public void A_stop_request_checkpoints_at_the_next_iteration_and_resume_finishes_the_schedule()
    {
        string dir = TempDirectory(), boundary = TempDirectory();
        try
        {
            var options = Options(PolicyArchitecture.Mlp, Ppo(steps: 192), Sft(botEpisodes: 2, updates: 4));
            using var stop = new CancellationTokenSource();
            stop.Cancel();
            // Already requested: the call still does one iteration (64 steps), then evaluates and checkpoints mid-phase.
            var first = PhaseRunner.Run(options, dir, cancellation: stop.Token);
            Assert.True(first.Interrupted);
            Assert.False(first.Solved);
            Assert.Empty(first.Phases);
            Assert.Equal(64, first.EnvSteps);
            var last = Rows(dir)[^1];
            Assert.Equal(64, last["phaseStep"]!.GetValue<long>());
            Assert.NotNull(last["eval_success"]);
            Assert.True(File.Exists(Path.Combine(dir, "checkpoints", "phase-000-step-0000000064.safetensors")));

            var rest = PhaseRunner.Run(options, dir, resume: true);
            Assert.False(rest.Interrupted);
            Assert.Equal([PhaseKind.Ppo, PhaseKind.Sft], rest.Phases.Select(p => p.Kind));
            Assert.Equal([192L, 0L], rest.Phases.Select(p => p.EnvSteps));
            Assert.Equal([64L, 128L, 192L], Rows(dir).Where(r => r["phaseStep"] is not null).Select(r => r["phaseStep"]!.GetValue<long>()));

            // An SFT phase is never cut short: the request is honoured at the boundary after it.
            var sftFirst = Options(PolicyArchitecture.Mlp, Sft(botEpisodes: 2, updates: 4), Ppo(steps: 64));
            var atBoundary = PhaseRunner.Run(sftFirst, boundary, cancellation: stop.Token);
            Assert.True(atBoundary.Interrupted);
            Assert.Equal([PhaseKind.Sft], atBoundary.Phases.Select(p => p.Kind));
            Assert.Equal(0, atBoundary.EnvSteps);
            Assert.Equal([PhaseKind.Sft, PhaseKind.Ppo], PhaseRunner.Run(sftFirst, boundary, resume: true).Phases.Select(p => p.Kind));
        }
        finally { Directory.Delete(dir, true); Directory.Delete(boundary, true); }
    }

    [Fact]
    public void A_schedule_mixing_dqn_with_actor_critic_phases_is_rejected_naming_the_phase()
    {
        var options = Options(PolicyArchitecture.Mlp, new PhaseOptions { Kind = PhaseKind.Dqn, Steps = 10 }, Ppo(10));
        var error = Assert.Throws<ConfigurationException>(options.Validate);
        Assert.Contains("phases[1].kind", error.Message);
        var noData = Options(PolicyArchitecture.Mlp, new PhaseOptions { Kind = PhaseKind.Sft });
        Assert.Contains("phases[0].sft", Assert.Throws<ConfigurationException>(noData.Validate).Message);
    }

    /// <summary>Recreates the run directory as it was when checkpoint <paramref name="stem"/> was the latest.</summary>
    private static void CopyRunUpTo(string source, string destination, string stem)
    {
        Directory.CreateDirectory(Path.Combine(destination, "checkpoints"));
        File.Copy(Path.Combine(source, "config.json"), Path.Combine(destination, "config.json"));
        File.Copy(Path.Combine(source, PhaseRunner.MetricsFile), Path.Combine(destination, PhaseRunner.MetricsFile));
        foreach (var ext in new[] { ".json", ".safetensors" })
            File.Copy(Path.Combine(source, "checkpoints", stem + ext), Path.Combine(destination, "checkpoints", stem + ext));
        File.WriteAllText(Path.Combine(destination, "checkpoints", "latest.json"), $$"""{"stem":"{{stem}}"}""");
    }
}
