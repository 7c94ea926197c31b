using System.Text.Json;
using RLAgents.EpisodeLogs;

namespace RLAgents.Experiments.Tests.Cli;

public class LanguageAndDemosVerbTests
{
    [Fact]
    public void PretrainTrainsOnACorpusFileAndResumes()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path;
        var words = new[] { "go", "to", "the", "red", "ball", "open", "door", "pick", "up", "a", "blue", "key" };
        var rng = new Random(3);
        File.WriteAllLines(Path.Combine(dir, "corpus.txt"),
            Enumerable.Range(0, 400).Select(_ => string.Join(' ', Enumerable.Range(0, 8).Select(_ => words[rng.Next(words.Length)]))));
        File.WriteAllText(Path.Combine(dir, "pretrain.json"), """
            {
              "model": { "vocabSize": 300, "blockSize": 32, "nLayer": 1, "nHead": 2, "nEmbd": 32 },
              "corpusPath": "corpus.txt",
              "batchSize": 8, "steps": 20, "warmupSteps": 2, "evalInterval": 10, "evalBatches": 2,
              "logInterval": 5, "checkpointInterval": 10, "seed": 1, "threads": 1
            }
            """);
        string output = Path.Combine(dir, "runs");
        var r = CliRunner.Run("pretrain", Path.Combine(dir, "pretrain.json"), "--output", output);
        Assert.True(r.ExitCode == 0, r.Out + r.Error);
        Assert.Contains("perplexity", r.Out);
        string runDir = Assert.Single(Directory.GetDirectories(output));

        var resumed = CliRunner.Run("pretrain", "--resume", runDir);
        Assert.True(resumed.ExitCode == 0, resumed.Out + resumed.Error);
        Assert.Contains("done: step 20", resumed.Out);
    }

    [Fact]
    public void PretrainRejectsAMissingCorpusAndUnknownKeys()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path;
        File.WriteAllText(Path.Combine(dir, "p.json"), """{ "corpusPath": "missing.txt" }""");
        var missing = CliRunner.Run("pretrain", Path.Combine(dir, "p.json"), "--output", dir);
        Assert.Equal(2, missing.ExitCode);
        Assert.StartsWith("error: corpusPath: file", missing.Error);
        var unknown = CliRunner.Run("pretrain", Path.Combine(dir, "p.json"), "--set", "model.layers=2");
        Assert.Equal(2, unknown.ExitCode);
        Assert.StartsWith("error: model.layers: unknown key", unknown.Error);
    }

    [Fact]
    public void DemosGenerateWritesSolvedExpertEpisodesToAnEpisodeLog()
    {
        using var temp = new TempDirectory();
        string file = temp.Combine("demos.arrows");
        var r = CliRunner.Run("demos", "generate", "--env", "BabyAI-GoToRedBallGrey-v0", "--episodes", "5", "--out", file, "--seed", "7");
        Assert.True(r.ExitCode == 0, r.Out + r.Error);
        var log = EpisodeLogReader.ReadAll(file);
        Assert.Equal(5, log.Episodes.Count);
        Assert.All(log.Episodes, e => Assert.True(e.Success == true && e.Length > 0 && e.Phase == "expert"));
        var bad = CliRunner.Run("demos", "generate", "--env", "BabyAI-Nope-v0", "--out", file);
        Assert.Equal(2, bad.ExitCode);
    }
}
