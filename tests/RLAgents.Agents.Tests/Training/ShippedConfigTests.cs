using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Phases;
using RLAgents.Agents.Training;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.GridWorld;
using RLAgents.LanguageModel.Model;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.Policies.Multimodal;

namespace RLAgents.Agents.Tests.Training;

/// <summary>Every shipped experiment binds, validates and runs each of its phases for a few steps into the one run-directory format.</summary>
public sealed class ShippedConfigTests
{
    public static TheoryData<string> Configs()
    {
        var data = new TheoryData<string>();
        // pretrain-*.json are language-model pretraining configs (rlagents pretrain), run by the Experiments tests.
        foreach (var file in Directory.GetFiles(ConfigDirectory(), "*.json").Order(StringComparer.Ordinal))
            if (!Path.GetFileName(file).StartsWith("pretrain-", StringComparison.Ordinal)) data.Add(Path.GetFileName(file));
        return data;
    }

    private static string ConfigDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "experiments", "configs");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("experiments/configs not found above the test output folder.");
    }

    [Fact]
    public void EveryBabyaiExperimentIsShipped()
    {
        string[] expected =
        [
            "babyai-bosslevel-dagger", "babyai-bosslevel-sft", "babyai-gotolocal-99", "babyai-gotolocal-human-sft", "babyai-gotolocal-pixels-cnn-sft-ppo", "babyai-gotolocal-pixels-sft-ppo", "babyai-gotolocal-ppo-mlp",
            "babyai-gotolocal-sft", "babyai-gotolocal-sft-ppo", "babyai-gotolocal-sft-ppo-lora", "babyai-gotolocal-sft-ppo-minilm-frozen", "babyai-gotolocal-sft-ppo-minilm-lora", "babyai-gotolocal-sft-ppo-pretrained",
            "babyai-gotoobjmazes4r2-memory", "babyai-gotoredballgrey-dqfd", "babyai-gotoredballgrey-dqfd-memory", "babyai-gotoredballgrey-memory", "babyai-gotoredballgrey-pixels-cnn-sft-ppo", "babyai-gotoredballgrey-pixels-resnet18-sft", "babyai-gotoredballgrey-pixels-sft-ppo", "babyai-gotoredballgrey-ppo-mlp",
            "babyai-gotoredballgrey-sft", "babyai-gotoredballgrey-sft-ppo", "babyai-gotoredballgrey-transformer-dqn",
            "babyai-gotoredballgrey-transformer-ppo", "babyai-keycorridors3r2-memory", "babyai-mixture-curriculum",
            "babyai-pickuploc-99", "babyai-putnextlocal-99",
        ];
        var shipped = Directory.GetFiles(ConfigDirectory(), "babyai-*.json").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal);
        Assert.Equal(expected.Order(StringComparer.Ordinal), shipped);
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void ConfigBindsAndRunsAFewStepsOfEveryPhase(string file)
    {
        using var temp = new TempDirectory();
        string run = temp.Combine("run"), checkpoint = temp.Combine("checkpoint");
        try
        {
            // Pretrained variants point at a checkpoint the bench or `rlagents pretrain` makes; a tiny stand-in in the same format here.
            Directory.CreateDirectory(checkpoint);
            var tokenizer = TextTokenizers.ForVocabulary(GridWorldVocabulary.Words);
            var config = new GptConfig { VocabSize = tokenizer.VocabSize, BlockSize = 32, NLayer = 1, NHead = 2, NEmbd = 16 };
            using (var model = new GptModel(config, 3)) LanguageModel.Checkpoints.ModelWeights.Save(model, Path.Combine(checkpoint, "model.safetensors"));
            config.Save(Path.Combine(checkpoint, "config.json"));
            tokenizer.Save(checkpoint);

            string path = Path.Combine(ConfigDirectory(), file);
            string text = File.ReadAllText(path);
            var overrides = RepositoryFiles(path).ToList();
            if (text.Contains("\"checkpoint\"", StringComparison.Ordinal)) overrides.Add($"policy.multimodal.backbone.checkpoint={checkpoint}");
            // Paths in configs are relative to the repository root, where `rlagents run` is started.
            if (text.Contains("\"paraphrases\"", StringComparison.Ordinal))
                overrides.Add($"training.paraphrases={Path.Combine(Path.GetDirectoryName(ConfigDirectory())!, "paraphrases", "babyai-synonyms.json")}");
            var options = TrainingRunner.Load(path, overrides);
            Assert.Equal(Path.GetFileNameWithoutExtension(file), options.Name);
            Shrink(options);
            var result = TrainingRunner.Run(options, run);
            Assert.Equal(options.Schedule.Count, result.Phases.Count);
            Assert.All(result.Phases.Where(p => p.Kind != AlgorithmKind.Sft), p => Assert.True(p.EnvSteps >= 16));
            foreach (var name in new[] { TrainingRunner.ConfigFile, TrainingRunner.RunInfoFile, TrainingRunner.MetricsFile })
                Assert.True(File.Exists(Path.Combine(run, name)), $"{file}: no {name}");
            Assert.Null(Checkpoint.ForeignFormat(run));
            Assert.Equal(result.FinalCheckpoint, Checkpoint.Load(run).WeightsPath);
        }
        finally
        {
            // A run that fails before writing anything removes its own directory.
            if (Directory.Exists(run)) Directory.Delete(run, true);
            Directory.Delete(checkpoint, true);
        }
    }

    /// <summary>Overrides that point the config's demonstration files (relative to the repository root, where `rlagents run` starts) at the checkout the tests run from.</summary>
    private static IEnumerable<string> RepositoryFiles(string config)
    {
        string root = Path.GetDirectoryName(Path.GetDirectoryName(ConfigDirectory()))!;
        var phases = OptionsBinder.LoadFile(config)["phases"]?.AsArray() ?? [];
        for (int i = 0; i < phases.Count; i++)
            if (phases[i]?["sft"]?["demonstrationsFile"]?.GetValue<string>() is { } file)
            {
                Assert.True(File.Exists(Path.Combine(root, file)), $"{config}: {file} is not in the repository");
                yield return $"phases[{i}].sft.demonstrationsFile={Path.Combine(root, file)}";
            }
    }

    /// <summary>Keeps the bound configuration but cuts every budget to a few steps.</summary>
    private static void Shrink(ExperimentOptions options)
    {
        options.Env.NumEnvs = 2;
        options.Training.EvalEpisodes = 2;
        options.Training.EvalInterval = 0;
        options.Training.StopAtSuccessRate = null;
        options.Training.StopAtMeanReturn = null;
        if (options.Phases is null) options.Training.TotalSteps = 16;
        options.Repeat = Math.Min(options.Repeat, 2); // two repetitions still exercise data kept across them
        options.Env.MaxEpisodeSteps = Math.Min(options.Env.MaxEpisodeSteps ?? 64, 64);
        foreach (var phase in (IEnumerable<AlgorithmOptions>?)options.Phases ?? [options.Algorithm!])
        {
            if (phase is PhaseOptions p) p.Steps = 16;
            phase.A2c.RolloutSteps = 4;
            phase.Reinforce.RolloutSteps = 8;
            phase.Ppo.RolloutSteps = 8;
            phase.Ppo.Minibatches = 2;
            phase.Ppo.Epochs = 1;
            // 8 env steps per env: the first n-step transitions (n ≤ 5 in the shipped configs) are in replay before learning starts.
            phase.Dqn.LearningStarts = 16;
            phase.Dqn.TrainFrequency = 8;
            phase.Dqn.GradientSteps = 1;
            phase.Dqn.BatchSize = 8;
            phase.Dqn.BufferSize = 64;
            foreach (var c in new ContinuousControlOptions[] { phase.Sac, phase.Td3 })
            {
                c.LearningStarts = 8;
                c.BatchSize = 8;
                c.BufferSize = 64;
            }
            phase.Dqn.Demonstrations.ExpertEpisodes = Math.Min(phase.Dqn.Demonstrations.ExpertEpisodes, 2);
            phase.Dqn.Demonstrations.PretrainUpdates = Math.Min(phase.Dqn.Demonstrations.PretrainUpdates, 2);
            phase.Sft.ExpertEpisodes = Math.Min(phase.Sft.ExpertEpisodes, 2);
            phase.Sft.OwnEpisodes = Math.Min(phase.Sft.OwnEpisodes, 2);
            phase.Sft.DaggerEpisodes = Math.Min(phase.Sft.DaggerEpisodes, 2);
            phase.Sft.MinReturn = -1; // keep the random agent's episodes so the phase has data
            phase.Sft.Updates = 2;
            phase.Sft.BatchSize = 16;
        }
    }
}
