using RLAgents.Agents.Training;

namespace RLAgents.Agents.Tests.Training;

/// <summary>What <see cref="Checkpoint.RemoveAbandoned"/> removes from a run a kill interrupted mid-write, and what it keeps.</summary>
public class CheckpointLeftoversTests
{
    private static string Id(int phase, long step) => Checkpoint.IdAt(phase, step);

    private static string MakeRun(TempDirectory dir, string? latest, params string[] files)
    {
        string run = dir.Combine("run");
        Directory.CreateDirectory(Path.Combine(run, Checkpoint.Folder));
        File.WriteAllText(Path.Combine(run, "metrics.jsonl"), "");
        foreach (var f in files) File.WriteAllText(Path.Combine(run, f), "x");
        if (latest is not null) File.WriteAllText(Path.Combine(run, Checkpoint.Folder, "latest.json"), latest);
        return run;
    }

    private static string[] Left(string run) =>
        Directory.EnumerateFiles(run, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(run, f)).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void CheckpointsAfterTheLatestOlderReplayBuffersAndTemporaryFilesGo()
    {
        using var dir = new TempDirectory();
        string c = Checkpoint.Folder + "/";
        string run = MakeRun(dir, $"{{\"format\":2,\"id\":\"{Id(1, 256)}\",\"phase\":1,\"step\":256}}",
            c + Id(0, 128) + ".safetensors", c + Id(0, 128) + ".json", c + Id(0, 128) + ".replay",
            c + Id(1, 256) + ".safetensors", c + Id(1, 256) + ".json", c + Id(1, 256) + ".replay",
            c + Id(1, 384) + ".replay", c + Id(1, 384) + ".safetensors", c + Id(2, 0) + ".safetensors",
            c + "latest.json.tmp-77-abc", "metrics.jsonl.tmp-77-def", "notes.txt");

        var removed = Checkpoint.RemoveAbandoned(run);

        Assert.Equal(6, removed.Count);
        Assert.Equal(new[]
        {
            c + Id(0, 128) + ".json", c + Id(0, 128) + ".safetensors",
            c + Id(1, 256) + ".json", c + Id(1, 256) + ".replay", c + Id(1, 256) + ".safetensors",
            c + "latest.json", "metrics.jsonl", "notes.txt",
        }.Order(StringComparer.Ordinal), Left(run));
    }

    [Fact]
    public void WithoutLatestOnlyIncompleteCheckpointsGo()
    {
        using var dir = new TempDirectory();
        string c = Checkpoint.Folder + "/";
        string run = MakeRun(dir, null, c + Id(0, 128) + ".safetensors", c + Id(0, 128) + ".json", c + Id(0, 256) + ".safetensors", c + Id(0, 256) + ".replay");

        Checkpoint.RemoveAbandoned(run);

        Assert.Equal(new[] { c + Id(0, 128) + ".json", c + Id(0, 128) + ".safetensors", "metrics.jsonl" }.Order(StringComparer.Ordinal), Left(run));
    }

    [Fact]
    public void ADamagedLatestLeavesEveryCheckpointFileAlone()
    {
        using var dir = new TempDirectory();
        string c = Checkpoint.Folder + "/";
        string run = MakeRun(dir, "{\"format\":2,\"id\":\"../elsewhere\"}", c + Id(0, 128) + ".safetensors", c + Id(0, 256) + ".safetensors");

        Checkpoint.RemoveAbandoned(run);

        Assert.Equal(4, Left(run).Length);
    }
}
