
namespace RLAgents.Experiments.Tests.Cli;

/// <summary>The CLI's one-line answers to a wrong pretrained model name and to a checkpoint trained on other base weights.</summary>
public sealed class PretrainedBackboneVerbTests
{
    private static readonly string LoraConfig = Path.Combine(CliRunner.RepoRoot, "experiments", "configs", "babyai-gotolocal-sft-ppo-minilm-lora.json");
    private static readonly string Shipped = Path.Combine(CliRunner.RepoRoot, "experiments", "checkpoints", "babyai-gotolocal-minilm-lora");

    [Fact]
    public void AnUnknownPretrainedNameIsOneLineListingTheKnownOnes()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path;
        var r = CliRunner.Run("run", LoraConfig, "--output", Path.Combine(dir, "run"), "--set", "policy.multimodal.backbone.pretrained.name=bert-large-uncased");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Error.Trim().Split('\n'));
        Assert.Contains("policy.multimodal.backbone.pretrained", r.Error);
        Assert.Contains("'bert-large-uncased'", r.Error);
        Assert.Contains("known: all-MiniLM-L6-v2, arctic-embed-xs", r.Error);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void ACheckpointTrainedOnOtherBaseWeightsIsOneLineNamingTheHashes()
    {
        // A copy of the shipped checkpoint whose stored base hash differs in one byte.
        using var temp = new TempDirectory();
        string dir = temp.Path;
        foreach (var file in Directory.GetFiles(Shipped, "*", SearchOption.AllDirectories))
        {
            string to = Path.Combine(dir, Path.GetRelativePath(Shipped, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        // Rewritten through the checkpoint writer, so the file's own CRCs are right and only the recorded base hash is wrong.
        string weights = Directory.GetFiles(dir, "*.safetensors", SearchOption.AllDirectories).Single();
        using (var contents = LanguageModel.Checkpoints.Safetensors.Read(weights))
        {
            var hashes = contents.Tensors.Where(t => t.Key.EndsWith("base_sha256", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(hashes);
            foreach (var (_, hash) in hashes) hash[0] = hash[0].bitwise_xor(0xFF);
            var metadata = contents.Metadata.Where(m => !m.Key.StartsWith("rlagents.crc32c.", StringComparison.Ordinal)).ToDictionary();
            LanguageModel.Checkpoints.Safetensors.Write(weights, contents.Tensors.ToList(), metadata);
        }

        var r = CliRunner.Run("eval", dir, "--episodes", "2");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Error.Trim().Split('\n'));
        Assert.Contains("the text encoder was trained on all-MiniLM-L6-v2 base weights with SHA-256", r.Error);
        Directory.Delete(dir, true);
    }
}
