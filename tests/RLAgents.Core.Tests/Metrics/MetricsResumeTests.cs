using RLAgents.Core.Metrics;

namespace RLAgents.Core.Tests.Metrics;

/// <summary>Resuming a metrics file: a torn last line is dropped; damage before the end refuses and leaves the file untouched.</summary>
public sealed class MetricsResumeTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string text)
    {
        string path = Path.Combine(_dir.Path, MetricsWriter.FileName);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void ATornLastLineIsDroppedAndTheRowsBeforeItAreKept()
    {
        string path = Write("{\"step\":1}\n{\"step\":2}\n{\"ste");
        using (var writer = MetricsWriter.Resume(path, _ => true, out int dropped, out var kept))
        {
            Assert.Equal(1, dropped);
            Assert.Equal([1L, 2L], kept.Select(r => r.GetProperty("step").GetInt64()));
        }
        Assert.Equal("{\"step\":1}\n{\"step\":2}\n", File.ReadAllText(path));
    }

    [Fact]
    public void RowsAfterTheCheckpointAreDropped()
    {
        string path = Write("{\"step\":1}\n{\"step\":2}\n{\"step\":3}\n");
        using (MetricsWriter.Resume(path, r => r.GetProperty("step").GetInt64() <= 2, out int dropped)) Assert.Equal(1, dropped);
        Assert.Equal("{\"step\":1}\n{\"step\":2}\n", File.ReadAllText(path));
    }

    [Theory]
    [InlineData("{\"step\":1}\n{\"st#p\":2\n{\"step\":3}\n", 2, 11)]
    [InlineData("{\"step\":1}\n[1, 2]\n{\"step\":3}\n", 2, 11)]
    [InlineData("garbage\n{\"step\":2}\n", 1, 0)]
    public void DamageBeforeTheLastLineIsOneLineNamingTheLineAndOffsetAndTheFileIsLeftAsItWas(string text, int line, int offset)
    {
        string path = Write(text);
        var e = Assert.Throws<InputException>(() => MetricsWriter.Resume(path, _ => true, out _));
        Assert.Contains($"line {line} (byte offset {offset})", e.Message);
        Assert.Contains(path, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(text, File.ReadAllText(path));
    }
}
