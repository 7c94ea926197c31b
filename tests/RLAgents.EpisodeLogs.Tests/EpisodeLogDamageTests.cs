using RLAgents.Environments;
using RLAgents.EpisodeLogs;

namespace RLAgents.EpisodeLogs.Tests;

public sealed class EpisodeLogDamageTests
{
    /// <summary>Byte offsets where each episode's message starts, and the end of the last one, found by reading prefixes.</summary>
    private static (long[] starts, long end) Boundaries(string path)
    {
        using var r = EpisodeLogReader.Open(path);
        var starts = new List<long> { r.EndOfLastCompleteMessage };
        foreach (var _ in r.ReadEpisodes()) starts.Add(r.EndOfLastCompleteMessage);
        long end = starts[^1];
        starts.RemoveAt(starts.Count - 1);
        return (starts.ToArray(), end);
    }

    [Fact]
    public void TruncationAnywhereKeepsEveryCompleteEpisodeAndReportsTheOffset()
    {
        string path = LogTestKit.Record("Beacon-v2", 4, seed: 5);
        var (starts, end) = Boundaries(path);
        Assert.Equal(4, starts.Length);
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(end + 8, bytes.Length); // end-of-stream marker after the last batch
        var rng = new Rng(99);
        for (int trial = 0; trial < 40; trial++)
        {
            long cut = starts[0] + rng.NextInt((int)(end - starts[0]));
            string damaged = TempDirectory.ForProcess.NewFile("cut.arrows");
            File.WriteAllBytes(damaged, bytes[..(int)cut]);
            int complete = starts.Count(s => s < cut) - 1; // the episode containing the cut is torn
            var log = EpisodeLogReader.ReadAll(damaged);
            bool atBoundary = starts.Contains(cut);
            Assert.Equal(atBoundary ? complete + 1 : complete, log.Episodes.Count);
            if (atBoundary)
            {
                Assert.Null(log.Damage); // a writer killed between episodes leaves a valid stream without end marker
                continue;
            }
            Assert.NotNull(log.Damage);
            Assert.Equal(starts[complete], log.Damage!.Offset);
            Assert.Equal(complete, log.Damage.CompleteEpisodes);
            Assert.Contains("truncated", log.Damage.Reason);
            var ex = Assert.Throws<EpisodeLogFormatException>(() => log.ThrowIfDamaged());
            Assert.StartsWith($"episode log damaged at byte {starts[complete]}: truncated", ex.Message);
        }
    }

    [Fact]
    public void CorruptedMessageAndTrailingGarbageAreReportedWithOffsets()
    {
        string path = LogTestKit.Record("Beacon-v2", 3, seed: 6);
        var (starts, end) = Boundaries(path);
        byte[] bytes = File.ReadAllBytes(path);

        // Overwrite the marker of episode 2's message.
        var badMarker = (byte[])bytes.Clone();
        badMarker[starts[2]] = 0x12;
        var log = EpisodeLogReader.ReadAll(Write(badMarker));
        Assert.Equal(2, log.Episodes.Count);
        Assert.Equal(starts[2], log.Damage!.Offset);
        Assert.Contains("marker", log.Damage.Reason);

        // Scramble episode 1's flatbuffer metadata: reading resumes at episode 2, found by its marker and checksum.
        var badMeta = (byte[])bytes.Clone();
        for (long i = starts[1] + 8; i < starts[1] + 40; i++) badMeta[i] ^= 0x5A;
        log = EpisodeLogReader.ReadAll(Write(badMeta));
        Assert.Equal([0L, 2], log.Episodes.Select(e => e.Index));
        Assert.Equal(starts[1], log.Damage!.Offset);
        Assert.Equal(starts[2] - starts[1], log.Damage.Length);

        // Bytes after the end-of-stream marker.
        var tail = bytes.Concat(new byte[] { 1, 2, 3 }).ToArray();
        log = EpisodeLogReader.ReadAll(Write(tail));
        Assert.Equal(3, log.Episodes.Count);
        Assert.Equal(end + 8, log.Damage!.Offset);
    }

    [Fact]
    public void NotALogEmptyFileAndMissingFileFailWithOneLineMessages()
    {
        var empty = Assert.Throws<EpisodeLogFormatException>(() => EpisodeLogReader.ReadAll(Write([])));
        Assert.Equal("episode log damaged at byte 0: the file is empty", empty.Message);
        var text = Assert.Throws<EpisodeLogFormatException>(() => EpisodeLogReader.ReadAll(Write("hello, this is not arrow"u8.ToArray())));
        Assert.Contains("byte 0", text.Message);
        var missing = Assert.Throws<FileNotFoundException>(() => EpisodeLogReader.ReadAll("/nonexistent/x.arrows"));
        Assert.Contains("/nonexistent/x.arrows", missing.Message);
    }

    [Fact]
    public void AppendingRepairsATornTailAndContinuesTheStream()
    {
        string path = LogTestKit.Record("Beacon-v2", 3, seed: 8);
        var (starts, _) = Boundaries(path);
        var original = EpisodeLogReader.ReadAll(path);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(int)(starts[2] + 20)]); // tear episode 2
        var env = LogTestKit.Registry().Make("Beacon-v2");
        using (var writer = EpisodeLogWriter.Append(path, original.Header, out var repaired))
        {
            Assert.Equal(starts[2], repaired!.TornTail!.Offset);
            Assert.Empty(repaired.Damaged);
            var recorder = new EpisodeRecorder(env, writer);
            recorder.Reset(100);
            while (!recorder.Step(0).Done) { }
        }
        var log = EpisodeLogReader.ReadAll(path);
        Assert.True(log.IsIntact);
        Assert.Equal(3, log.Episodes.Count);
        Assert.Equal(original.Episodes[1].Actions, log.Episodes[1].Actions);
        Assert.Equal(100, log.Episodes[2].Seed);
        Assert.All(log.Episodes[2].Actions, a => Assert.Equal(0, a));
    }

    private static string Write(byte[] bytes)
    {
        string p = TempDirectory.ForProcess.NewFile("x.arrows");
        File.WriteAllBytes(p, bytes);
        return p;
    }
}
