using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

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
        string weights = Directory.GetFiles(dir, "*.safetensors", SearchOption.AllDirectories).Single();
        var bytes = File.ReadAllBytes(weights);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength));
        var hashes = header.RootElement.EnumerateObject().Where(p => p.Name.EndsWith("base_sha256", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(hashes);
        foreach (var hash in hashes)
        {
            long offset = 8 + headerLength + hash.Value.GetProperty("data_offsets")[0].GetInt64();
            bytes[offset] ^= 0xFF;
        }
        File.WriteAllBytes(weights, bytes);

        var r = CliRunner.Run("eval", dir, "--episodes", "2");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Error.Trim().Split('\n'));
        Assert.Contains("the text encoder was trained on all-MiniLM-L6-v2 base weights with SHA-256", r.Error);
        Directory.Delete(dir, true);
    }
}
