using RLAgents.Environments;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.LanguageModel.Model;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.LanguageModel.Training;
using RLAgents.Policies.Multimodal;

namespace RLAgents.Benchmarks.Multimodal;

/// <summary>
/// Makes the tiny text-pretrained backbone the <c>*-pretrained</c> and <c>*-lora</c> configs load: a
/// causal GPT (2 layers, 64 wide) trained on a grounded GridWorld corpus — each line a mission
/// followed by the descriptions of views met on a short random walk — with the GridWorld word tokenizer.
/// </summary>
public static class GroundedPretraining
{
    /// <summary>Pretrains into a temporary run folder and copies the final checkpoint to <paramref name="destination"/>.</summary>
    public static void Make(string destination, int steps = 200, Action<string>? log = null)
    {
        string run = Path.Combine(Path.GetTempPath(), "rlagents-pretrain-" + Guid.NewGuid().ToString("N"));
        string tokenizerDir = Path.Combine(run, "word-tokenizer");
        Directory.CreateDirectory(tokenizerDir);
        TextTokenizers.ForVocabulary(GridWorldVocabulary.Words).Save(tokenizerDir);
        var options = new PretrainOptions
        {
            Model = new GptConfig { BlockSize = 64, NLayer = 2, NHead = 4, NEmbd = 64, Causal = true },
            TokenizerDirectory = tokenizerDir,
            BatchSize = 16, Steps = steps, LearningRate = 1e-3, MinLearningRate = 1e-4, WarmupSteps = 40,
            EvalInterval = steps, LogInterval = Math.Max(1, steps / 4), CheckpointInterval = steps, Seed = 1, Threads = 1,
        };
        var result = Pretrainer.Run(options, Corpus(2000, seed: 7), run, resume: false,
            new Progress<PretrainMetrics>(m => log?.Invoke($"pretrain step {m.Step}: loss {m.TrainLoss?.ToString("F3") ?? "-"} eval {m.EvalLoss?.ToString("F3") ?? "-"}")));
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.GetFiles(result.CheckpointDirectory)) File.Copy(file, Path.Combine(destination, Path.GetFileName(file)), overwrite: true);
        log?.Invoke($"pretrained backbone written to {destination} (eval loss {result.FinalEvalLoss:F3})");
        Directory.Delete(run, recursive: true);
    }

    /// <summary><paramref name="lines"/> lines: "mission . description description …" from random walks in BabyAI GoTo levels.</summary>
    public static IEnumerable<string> Corpus(int lines, long seed)
    {
        string[] levels = ["BabyAI-GoToRedBallGrey-v0", "BabyAI-GoToRedBall-v0", "BabyAI-GoToObj-v0", "BabyAI-GoToLocal-v0", "BabyAI-PickupLoc-v0"];
        var rng = new Rng(seed);
        var envs = levels.Select(l => BabyAILevels.Make(l, new GridWorldOptions { IncludeDescription = true })).ToArray();
        try
        {
            var result = new List<string>(lines);
            for (int i = 0; i < lines; i++)
            {
                var env = envs[i % envs.Length];
                var obs = env.Reset(rng.NextInt(int.MaxValue)).Observation;
                var text = new List<string> { obs.GetText("mission") + " .", obs.GetText("description") };
                for (int s = 0; s < 3; s++)
                {
                    var step = env.Step(rng.NextInt(3)); // left, right, forward
                    text.Add(step.Observation.GetText("description"));
                    if (step.Terminated || step.Truncated) break;
                }
                result.Add(string.Join(' ', text));
            }
            return result;
        }
        finally
        {
            foreach (var e in envs) e.Dispose();
        }
    }
}
