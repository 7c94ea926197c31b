using RLAgents.Core;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs.Tests;

/// <summary>Every record batch and the schema carry a CRC-32C: damage is reported with its place, never decoded silently.</summary>
public sealed class EpisodeLogChecksumTests
{
    /// <summary>Byte offsets where each episode's message starts.</summary>
    private static long[] Starts(string path)
    {
        using var r = EpisodeLogReader.Open(path);
        var starts = new List<long>();
        foreach (var _ in r.ReadEpisodes()) starts.Add(r.LastMessageOffset);
        return [.. starts];
    }

    private static string Write(byte[] bytes)
    {
        string p = TempDirectory.ForProcess.NewFile("flipped.arrow");
        File.WriteAllBytes(p, bytes);
        return p;
    }

    /// <summary>Everything a reader decodes of an episode, as text (observations included), to compare bit for bit.</summary>
    private static string Content(RecordedEpisode e) => string.Join("|",
        e.Index, e.Seed, e.StartState, e.CheckpointId, e.Phase, e.Evaluation, BitConverter.DoubleToInt64Bits(e.Return), e.Success,
        string.Join(",", e.Actions), string.Join(",", e.Rewards.Select(BitConverter.DoubleToInt64Bits)), string.Join(",", e.Terminated), string.Join(",", e.Truncated),
        string.Join(",", e.ActionProbabilities.Select(p => p is null ? "-" : string.Join(";", p.Select(BitConverter.SingleToInt32Bits)))),
        string.Join(",", e.Values.Select(v => v is float f ? BitConverter.SingleToInt32Bits(f).ToString() : "-")),
        string.Join("/", e.Observations.Select(o => string.Join(",", o.Floats?.Select(BitConverter.SingleToInt32Bits) ?? [])
            + string.Join(",", o.Bytes ?? []) + string.Join(",", o.Ints ?? []) + string.Join(",", o.Texts ?? []) + string.Join(",", o.Hashes ?? []))));

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    public void EveryFlipIsReportedAndNoDamagedEpisodeIsDecoded(int flippedBytes)
    {
        // A log with float, uint8 (zlib), discrete and text observations, agent outputs and start metadata.
        string path = LogTestKit.Record("Beacon-v2", 6, seed: 21, envOptions: new BeaconOptions());
        byte[] original = File.ReadAllBytes(path);
        var intact = EpisodeLogReader.ReadAll(path);
        Assert.Empty(intact.Damages);
        var truth = intact.Episodes.ToDictionary(e => e.Index, Content);
        var rng = new Rng(unchecked((ulong)(77 + flippedBytes)));
        int trials = 300, detected = 0;
        for (int trial = 0; trial < trials; trial++)
        {
            var bytes = (byte[])original.Clone();
            int at = rng.NextInt(bytes.Length - flippedBytes + 1);
            if (flippedBytes == 1) bytes[at] ^= (byte)(1 << rng.NextInt(8));
            else for (int i = 0; i < flippedBytes; i++) bytes[at + i] ^= (byte)(1 + rng.NextInt(255)); // every byte changes
            EpisodeLog log;
            try
            {
                log = EpisodeLogReader.ReadAll(Write(bytes));
            }
            catch (EpisodeLogFormatException e)
            {
                // The schema itself was hit: nothing is decoded, and the error says where.
                Assert.Equal(0, e.Offset);
                detected++;
                continue;
            }
            // Whatever was decoded is exactly what was written: damage never changes content silently.
            foreach (var e in log.Episodes) Assert.True(truth.TryGetValue(e.Index, out var c) && c == Content(e), $"trial {trial}: a flip at byte {at} changed episode {e.Index} without an error");
            Assert.True(log.Damages.Count > 0, $"trial {trial}: a flip at byte {at} of {bytes.Length} went unreported");
            // The report locates the damage: the flipped bytes lie in (or, for a hit framing, just before) the first damaged region.
            var d = log.Damages[0];
            Assert.True(d.Offset <= at + flippedBytes - 1 && at < (d.End ?? bytes.Length), $"trial {trial}: flip at {at}, damage reported at {d.Offset}..{d.End}");
            // Only the hit episode is lost: the reader resynchronises on the next intact message.
            Assert.True(log.Episodes.Count >= intact.Episodes.Count - (flippedBytes == 1 ? 1 : 2), $"trial {trial}: only {log.Episodes.Count} episodes survived a flip at {at}");
            detected++;
        }
        Assert.Equal(trials, detected);
    }

    [Fact]
    public void AppendingToALogDamagedMidFileSetsTheBytesAsideAndKeepsEveryIntactEpisode()
    {
        string path = LogTestKit.Record("Beacon-v2", 6, seed: 31);
        var original = EpisodeLogReader.ReadAll(path);
        long[] starts = Starts(path);
        byte[] bytes = File.ReadAllBytes(path);
        long from = starts[2], to = starts[3];
        bytes[from + (to - from) / 2] ^= 0x10; // damage episode 2
        File.WriteAllBytes(path, bytes);

        var env = LogTestKit.Registry().Make("Beacon-v2");
        using (var writer = EpisodeLogWriter.Append(path, original.Header, out var repair))
        {
            Assert.NotNull(repair);
            Assert.True(repair.SetAside);
            var d = Assert.Single(repair.Damaged);
            Assert.Equal(from, d.Offset);
            Assert.Contains("CRC-32C", d.Reason);
            // The side file holds exactly the damaged bytes; the message names it.
            Assert.Equal(bytes[(int)from..(int)to], File.ReadAllBytes(repair.DamagedBytesFile!));
            Assert.Contains(repair.DamagedBytesFile!, repair.ToString());
            Assert.Equal(6, writer.NextEpisodeIndex);
            var recorder = new EpisodeRecorderGroup(writer).Wrap(env, 0);
            recorder.Reset(500);
            while (!recorder.Step(1).Done) { }
        }
        var log = EpisodeLogReader.ReadAll(path);
        Assert.True(log.IsIntact);
        Assert.Equal([0L, 1, 3, 4, 5, 6], log.Episodes.Select(e => e.Index));
        foreach (var e in log.Episodes.Where(e => e.Index < 6))
            Assert.Equal(Content(original.Episodes.Single(o => o.Index == e.Index)), Content(e));
    }

    [Fact]
    public void AppendingFromACheckpointPositionRemovesOnlyTheEpisodesWrittenAfterIt()
    {
        string path = LogTestKit.Record("Beacon-v2", 5, seed: 41);
        long[] starts = Starts(path);
        var original = EpisodeLogReader.ReadAll(path);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length - 8 - 30)]); // a kill tore the last episode and left no end marker
        using (var writer = EpisodeLogWriter.Append(path, original.Header, out var repair, keepBytes: starts[3]))
        {
            Assert.NotNull(repair);
            Assert.False(repair.SetAside);
            Assert.Equal(1, repair.AbandonedEpisodes); // episode 3 was complete but belongs to the abandoned timeline
            Assert.NotNull(repair.TornTail);
            Assert.Equal(3, writer.NextEpisodeIndex);
        }
        var log = EpisodeLogReader.ReadAll(path);
        Assert.True(log.IsIntact);
        Assert.Equal([0L, 1, 2], log.Episodes.Select(e => e.Index));
        Assert.Equal(bytes[..(int)starts[3]], File.ReadAllBytes(path)[..(int)starts[3]]);
    }

    [Fact]
    public void EveryMessageCarriesTheChecksumOfItsOwnBytesWhereArrowReadersIgnoreIt()
    {
        string path = LogTestKit.Record("Beacon-v2", 2, seed: 51);
        byte[] bytes = File.ReadAllBytes(path);
        long[] starts = Starts(path);
        using var stream = File.OpenRead(path);
        using var arrow = new Apache.Arrow.Ipc.ArrowStreamReader(stream);
        Assert.True(Crc32C.TryParse(arrow.Schema.Metadata["rlagents.crc32c"], out _));
        Assert.NotNull(arrow.ReadNextRecordBatch());
        // Recomputed here from the raw bytes: each message with its own digits zeroed.
        foreach (var (from, to) in new[] { (0L, starts[0]), (starts[0], starts[1]) })
        {
            var message = bytes[(int)from..(int)to];
            string text = System.Text.Encoding.Latin1.GetString(message);
            Assert.Contains("rlagents.crc32c", text);
            // The value: a flatbuffer string of 8 lower-case hex digits (u32 length 8, the digits, a NUL).
            var hex = Assert.Single(System.Text.RegularExpressions.Regex.Matches(text, "\x08\x00\x00\x00([0-9a-f]{8})\x00")).Groups[1];
            System.Text.Encoding.ASCII.GetBytes("00000000", message.AsSpan(hex.Index, 8));
            Assert.Equal(hex.Value, Crc32C.Format(Crc32C.Compute(message)));
        }
    }
}
