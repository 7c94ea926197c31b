using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Phases;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.Policies;
using RLAgents.Policies.Networks;

namespace RLAgents.Agents.Tests.Phases;

/// <summary>
/// DAgger episodes (<see cref="DemonstrationSet.FromExpertLabels"/>): the agent's states labelled by the expert, checked
/// against a fresh expert replaying the applied actions.
/// </summary>
public sealed class DaggerTests
{
    private static readonly ObservationSpace Space = GridWorldEnv.CreateObservationSpace(includeDescription: false);

    private static IEnv Env() => BabyAILevels.Make(PhaseTestKit.Level, new GridWorldOptions { IncludeDescription = false });

    // An untrained policy: it wanders, so the expert has to replan from states its own plan never reaches.
    private static ActorCriticPolicy Policy(ulong seed) => new(Space, new DiscreteSpace(7), new PolicyOptions { HiddenSizes = [32], ShareStateEstimator = true },
        new MlpStateEstimatorFactory(new PolicyOptions { HiddenSizes = [32] }, TextTokenizers.ForVocabulary(GridWorldVocabulary.Words)), new Rng(seed));

    [Fact]
    public void EveryStateTheAgentReachesIsLabelledWithTheActionTheExpertTakesThere()
    {
        using var policy = Policy(1);
        var result = DemonstrationSet.FromExpertLabels(policy, Env, numEnvs: 3, episodes: 6, expertFraction: 0, seed: 9, gamma: 0.99);
        var set = result.Set;
        Assert.Equal(6, set.Episodes);
        Assert.Equal(6, result.Episodes.Count);
        Assert.Equal(set.Count, result.Steps);
        int deviations = 0;
        for (int e = 0; e < set.Episodes; e++)
        {
            var (seed, applied, expertFailed) = result.Episodes[e];
            int start = set.EpisodeStarts[e];
            int length = (e + 1 < set.Episodes ? set.EpisodeStarts[e + 1] : set.Count) - start;
            Assert.Equal(length, applied.Length);
            // A fresh env and expert, driven by the actions the run applied, must give the same label at every step.
            using var env = Env();
            var expert = Experts.For(env);
            env.Reset(seed);
            int? taken = null;
            for (int t = 0; t < length; t++)
            {
                int label = expert.Act(taken);
                Assert.Equal(label, set.Actions[start + t]);
                var step = env.Step(applied[t]);
                Assert.Equal(t == length - 1 && !expertFailed, step.Done);
                taken = applied[t] == label ? null : applied[t];
                if (taken is not null) deviations++;
            }
            // A cut episode ends where the expert gives up (the agent opened a box, say).
            if (expertFailed) Assert.ThrowsAny<ExpertFailedException>(() => expert.Act(taken));
        }
        // The agent left the expert's path often, so the labels above were replans, not the expert's own episode.
        Assert.True(deviations > set.Count / 3, $"{deviations} of {set.Count} steps deviated");
        Assert.Equal(1 - (double)deviations / set.Count, result.Agreement, 9);
    }

    [Fact]
    public void WithTheExpertActingAtEveryStepTheEpisodesAreTheExpertsOwn()
    {
        using var policy = Policy(2);
        var result = DemonstrationSet.FromExpertLabels(policy, Env, numEnvs: 2, episodes: 4, expertFraction: 1, seed: 4, gamma: 0.99);
        Assert.Equal(1.0, result.Agreement);
        for (int e = 0; e < result.Episodes.Count; e++)
        {
            var (seed, applied, expertFailed) = result.Episodes[e];
            Assert.False(expertFailed);
            using var env = Env();
            var own = Experts.Play(env, Experts.For(env), seed)!;
            Assert.Equal(own.Actions, applied);
            Assert.True(own.Success);
            int start = result.Set.EpisodeStarts[e];
            Assert.Equal(own.Actions, result.Set.Actions.Skip(start).Take(own.Length));
            // The success reward arrives at the last step: its return is the reward itself.
            Assert.Equal((float)own.Rewards[^1], result.Set.Returns[start + own.Length - 1], 5);
        }
    }

    [Fact]
    public void TheSameSeedGivesTheSameEpisodesAndAnotherSeedOtherOnes()
    {
        using var policy = Policy(3);
        var a = DemonstrationSet.FromExpertLabels(policy, Env, 2, 3, 0.5, seed: 21, gamma: 0.99);
        var b = DemonstrationSet.FromExpertLabels(policy, Env, 2, 3, 0.5, seed: 21, gamma: 0.99);
        var c = DemonstrationSet.FromExpertLabels(policy, Env, 2, 3, 0.5, seed: 22, gamma: 0.99);
        Assert.Equal(a.Set.Actions, b.Set.Actions);
        Assert.Equal(a.Episodes.SelectMany(p => p.Applied), b.Episodes.SelectMany(p => p.Applied));
        Assert.Equal(a.Episodes.Select(p => p.Seed), b.Episodes.Select(p => p.Seed));
        Assert.NotEqual(a.Episodes.Select(p => p.Seed), c.Episodes.Select(p => p.Seed));
    }

    [Fact]
    public void AnSftPhaseWithDaggerEpisodesCountsTheirStepsAndReportsHowOftenTheAgentAgreed()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");
        var dagger = PhaseTestKit.Sft(expertEpisodes: 0, updates: 5);
        dagger.Sft.DaggerEpisodes = 6;
        var options = PhaseTestKit.Options(PolicyArchitecture.Mlp, PhaseTestKit.Sft(expertEpisodes: 4, updates: 5), dagger);
        options.Validate();
        var result = TrainingRunner.Run(options, run);
        var last = PhaseTestKit.Rows(run)[^1];
        double steps = last["dagger_steps"]!.GetValue<double>();
        Assert.True(steps > 0);
        Assert.InRange(last["dagger_agreement"]!.GetValue<double>(), 0, 1);
        Assert.InRange(last["dagger_expert_failures"]!.GetValue<double>(), 0, 6);
        // DAgger episodes are env interaction (the evaluations are not counted); the bot demonstrations are not.
        Assert.Equal(6, result.EnvEpisodes);
        Assert.Equal((long)steps, result.EnvSteps);
        Assert.Equal(4, result.Demonstrations);
        // The phase trained on the DAgger episodes alone: every step of them.
        Assert.Equal(steps, last["data_steps"]!.GetValue<double>());
    }

    [Fact]
    public void ReplayingTheSeedsAndAppliedActionsGivesTheSameLabelledSetWithoutThePolicy()
    {
        using var policy = Policy(4);
        var played = DemonstrationSet.FromExpertLabels(policy, Env, numEnvs: 3, episodes: 8, expertFraction: 0.2, seed: 31, gamma: 0.9);
        Assert.Contains(played.Episodes, e => e.ExpertFailed); // the cut-short case replays too
        var again = DemonstrationSet.ReplayExpertLabels(Env, Space, played.Episodes, 0.9, "test");
        Assert.Equal(played.Set.Actions, again.Actions);
        Assert.Equal(played.Set.Returns, again.Returns);
        Assert.Equal(played.Set.EpisodeStarts, again.EpisodeStarts);
        var (a, b) = (played.Set.ToBatch(), again.ToBatch());
        var (oa, ob) = (new Observation(Space), new Observation(Space));
        for (int i = 0; i < played.Set.Count; i++)
        {
            a.Get(i, oa);
            b.Get(i, ob);
            Assert.True(oa.ContentEquals(ob), $"step {i} differs");
        }
        // Another env (a different level) does not replay: one line naming the episode and step.
        var wrong = played.Episodes.Select(e => e with { Applied = [.. e.Applied.Take(e.Applied.Length - 1)], ExpertFailed = false }).First(e => e.Applied.Length > 0);
        var error = Assert.Throws<InvalidDataException>(() => DemonstrationSet.ReplayExpertLabels(Env, Space, [wrong], 0.9, "saved.json"));
        Assert.StartsWith("saved.json: DAgger episode 0", error.Message);
    }

    [Fact]
    public void ARunResumedAfterADaggerPhaseTrainsLaterPhasesOnTheSameEpisodesAsTheUninterruptedRun()
    {
        using var temp = new TempDirectory();
        string full = temp.Combine("full"), resumed = temp.Combine("resumed"), unsaved = temp.Combine("unsaved");
        var bot = PhaseTestKit.Sft(expertEpisodes: 3, updates: 4);
        var dagger = PhaseTestKit.Sft(expertEpisodes: 0, updates: 4);
        dagger.Sft.DaggerEpisodes = 4;
        var more = PhaseTestKit.Sft(expertEpisodes: 0, updates: 6);
        foreach (var p in new[] { bot, dagger, more }) p.Sft.KeepEarlierData = true;
        var options = PhaseTestKit.Options(PolicyArchitecture.Mlp, bot, dagger, more);
        TrainingRunner.Run(options, full);
        string saved = Path.Combine(full, TrainingRunner.DaggerFolder, "phase-001.json");
        Assert.True(File.Exists(saved));

        // The checkpoint after the DAgger phase (its id carries the env steps the DAgger episodes took).
        string afterDagger = Path.GetFileNameWithoutExtension(Directory.GetFiles(Path.Combine(full, Checkpoint.Folder), "phase-001-step-*.safetensors").Single());
        PhaseTestKit.CopyRunUpTo(full, resumed, afterDagger);
        Directory.CreateDirectory(Path.Combine(resumed, TrainingRunner.DaggerFolder));
        File.Copy(saved, Path.Combine(resumed, TrainingRunner.DaggerFolder, "phase-001.json"));
        TrainingRunner.Run(options, resumed, resume: true);
        var lastFull = PhaseTestKit.Rows(full)[^1];
        var lastResumed = PhaseTestKit.Rows(resumed)[^1];
        Assert.Equal(lastFull["data_steps"]!.GetValue<double>(), lastResumed["data_steps"]!.GetValue<double>());
        var a = PhaseTestKit.LatestPolicy(full);
        var b = PhaseTestKit.LatestPolicy(resumed);
        foreach (var (name, values) in a) Assert.True(values.SequenceEqual(b[name]), $"{name} differs after resume");

        // Without the saved episodes the resume stops before training, naming the key; a damaged file is named with
        // where it breaks, and is left as it was.
        PhaseTestKit.CopyRunUpTo(full, unsaved, afterDagger);
        var error = Assert.Throws<ConfigurationException>(() => TrainingRunner.Run(options, unsaved, resume: true));
        Assert.Contains("daggerEpisodes", error.Message);
        string damaged = Path.Combine(unsaved, TrainingRunner.DaggerFolder, "phase-001.json");
        Directory.CreateDirectory(Path.GetDirectoryName(damaged)!);
        string text = File.ReadAllText(saved)[..40];
        File.WriteAllText(damaged, text);
        var broken = Assert.Throws<InvalidDataException>(() => TrainingRunner.Run(options, unsaved, resume: true));
        Assert.StartsWith(damaged + ": ", broken.Message);
        Assert.Contains("byte", broken.Message);
        Assert.Equal(text, File.ReadAllText(damaged));
    }

    [Fact]
    public void AskingAnEnvWithoutAnExpertForDaggerEpisodesIsAConfigurationErrorBeforeTheRunDirectoryExists()
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run");
        var dagger = PhaseTestKit.Sft(expertEpisodes: 0, updates: 2);
        dagger.Sft.DaggerEpisodes = 2;
        var options = PhaseTestKit.Options(PolicyArchitecture.Mlp, dagger);
        options.Env = new EnvironmentOptions { Id = "CartPole-v1", NumEnvs = 2 };
        var error = Assert.Throws<ConfigurationException>(() => TrainingRunner.Run(options, run));
        Assert.Equal("phases[0].sft.daggerEpisodes", error.Path);
        Assert.Contains("CartPole-v1 has no expert", error.Message);
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void AnSftPhaseOfNothingButZeroDaggerEpisodesIsAConfigurationError()
    {
        var options = PhaseTestKit.Options(PolicyArchitecture.Mlp, PhaseTestKit.Sft(expertEpisodes: 0, updates: 5));
        var error = Assert.Throws<ConfigurationException>(options.Validate);
        Assert.Contains("daggerEpisodes", error.Message);
    }
}
