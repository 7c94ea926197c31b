using RLAgents.Core;
using RLAgents.LanguageModel.Checkpoints;

namespace RLAgents.LanguageModel.Tests.Checkpoints;

public class CheckpointStoreTests
{
    [Fact]
    public void KeepsTheNewestCompleteCheckpointsAndIgnoresUnfinishedOnes()
    {
        using var dir = new TempDirectory();
        foreach (long step in new long[] { 10, 20, 30 })
            CheckpointStore.Write(dir.Path, step, d => File.WriteAllText(Path.Combine(d, "state.txt"), step.ToString()), keep: 2);
        // A crash while writing leaves only a hidden temporary folder, which is never taken for a checkpoint.
        Directory.CreateDirectory(Path.Combine(dir.Path, ".tmp-step-000040-dead"));

        Assert.Equal([20L, 30L], CheckpointStore.List(dir.Path).Select(c => c.Step));
        var latest = CheckpointStore.Latest(dir.Path)!.Value;
        Assert.Equal(30, latest.Step);
        Assert.Equal("30", File.ReadAllText(Path.Combine(latest.Path, "state.txt")));
    }

    [Fact]
    public void AFailedWriteLeavesNoCheckpointBehind()
    {
        using var dir = new TempDirectory();
        Assert.Throws<IOException>(() => CheckpointStore.Write(dir.Path, 5, d =>
        {
            File.WriteAllText(Path.Combine(d, "model.safetensors"), "partial");
            throw new IOException("disk full");
        }, keep: 3));
        Assert.Null(CheckpointStore.Latest(dir.Path));
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void AtomicFileReplacesContentWithoutLeavingTemporaries()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "a.json");
        AtomicFile.WriteText(path, "old");
        AtomicFile.WriteText(path, "new");
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, _ => throw new InvalidOperationException("boom")));
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }
}
