using System.Text.Json;
using RLAgents.Core.Metrics;
using RLAgents.Environments;

namespace RLAgents.Core.Tests.Metrics;

public sealed class TensorBoardWriterTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static MetricsRow Row(long step, double loss) => new MetricsRow().Set("step", step).Set("update", step / 2).Set("phase", "ppo")
        .Metric("loss", loss).Metric("eval_success", step % 2 == 0 ? 0.5 : null).Wall("sps", 1234.5);

    [Fact]
    public void Crc32CIsCastagnolisAndMatchesABitwiseImplementation()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        var rng = new Rng(5);
        for (int n = 0; n < 40; n++)
        {
            var data = new byte[n * 7];
            for (int i = 0; i < data.Length; i++) data[i] = (byte)rng.NextInt(256);
            Assert.Equal(TensorBoardEventReader.BitwiseCrc32C(data), Crc32C.Compute(data));
        }
    }

    [Fact]
    public void EveryRecordParsesWithValidChecksumsAndCarriesTheRowsScalarsAndHistograms()
    {
        double before = (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;
        var histogram = new MetricsHistogram(0, 1, 4);
        foreach (double p in new[] { 0.1, 0.3, 0.3, 0.9, 1.0 }) histogram.Add(p);
        string path;
        using (var writer = TensorBoardWriter.Create(_dir.Path))
        {
            path = writer.Path;
            writer.Write(Row(10, 0.25).Histogram("action_probability", histogram));
            writer.Write(Row(21, 0.125));
        }
        double after = (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;
        Assert.StartsWith(TensorBoardWriter.FilePrefix, Path.GetFileName(path));

        var (events, damage) = TensorBoardEventReader.Read(path);
        Assert.Null(damage);
        Assert.Equal(3, events.Count);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.Equal([10L, 21L], events.Skip(1).Select(e => e.Step));
        Assert.All(events, e => Assert.InRange(e.WallTime, before - 1e-3, after + 1e-3));
        // Fractional seconds, not whole ones.
        Assert.Contains(events, e => e.WallTime != Math.Floor(e.WallTime));

        var first = events[1];
        Assert.Equal(0.25f, first.Scalars["loss"]);
        Assert.Equal(0.5f, first.Scalars["eval_success"]);
        Assert.Equal(1234.5f, first.Scalars["wall/sps"]);
        Assert.False(first.Scalars.ContainsKey("update"), "identity fields are not metrics");
        Assert.False(events[2].Scalars.ContainsKey("eval_success"), "a metric the row lacks is not written");

        var h = first.Histograms["action_probability"];
        Assert.Equal((0.1, 1.0, 5.0), (h.Min, h.Max, h.Num));
        Assert.Equal(0.1 + 0.3 + 0.3 + 0.9 + 1.0, h.Sum, 12);
        Assert.Equal(0.01 + 0.09 + 0.09 + 0.81 + 1.0, h.SumSquares, 12);
        Assert.Equal([0.25, 0.5, 0.75, 1.0], h.BucketLimits);
        Assert.Equal([1.0, 2.0, 0.0, 2.0], h.Buckets);
        Assert.Empty(events[2].Histograms);
    }

    [Fact]
    public void ATornOrCorruptedRecordIsFoundAndEarlierRecordsStillRead()
    {
        string path;
        using (var writer = TensorBoardWriter.Create(_dir.Path))
        {
            path = writer.Path;
            for (int s = 1; s <= 3; s++) writer.Write(Row(s, s));
        }
        byte[] whole = File.ReadAllBytes(path);
        File.WriteAllBytes(path, whole[..^5]);
        var (torn, tornDamage) = TensorBoardEventReader.Read(path);
        Assert.Equal(3, torn.Count);
        Assert.Contains("torn", tornDamage);

        byte[] flipped = (byte[])whole.Clone();
        flipped[^6] ^= 0x40; // inside the last record's data
        File.WriteAllBytes(path, flipped);
        var (corrupt, corruptDamage) = TensorBoardEventReader.Read(path);
        Assert.Equal(3, corrupt.Count);
        Assert.Contains("data CRC mismatch", corruptDamage);
    }

    [Fact]
    public void RunMetricsSendsEveryRowToBothSinks()
    {
        using (var metrics = RunMetrics.Create(_dir.Path))
            for (int s = 1; s <= 4; s++) metrics.Write(Row(s, s / 10.0));
        var lines = File.ReadAllLines(Path.Combine(_dir.Path, MetricsWriter.FileName));
        var (events, damage) = TensorBoardEventReader.Read(Assert.Single(TensorBoardWriter.EventFiles(_dir.Path)));
        Assert.Null(damage);
        Assert.Equal(lines.Length, events.Count - 1);
        for (int i = 0; i < lines.Length; i++)
        {
            using var row = JsonDocument.Parse(lines[i]);
            Assert.Equal(row.RootElement.GetProperty("step").GetInt64(), events[i + 1].Step);
            Assert.Equal((float)row.RootElement.GetProperty("loss").GetDouble(), events[i + 1].Scalars["loss"]);
        }
    }

    [Fact]
    public void WithoutTensorBoardOnlyMetricsJsonlIsWrittenAndAResumeDropsEarlierEventFiles()
    {
        using (var metrics = RunMetrics.Create(_dir.Path))
            metrics.Write(Row(1, 1));
        Assert.Single(TensorBoardWriter.EventFiles(_dir.Path));
        using (var resumed = RunMetrics.Resume(_dir.Path, _ => true, tensorBoard: false))
            resumed.Write(Row(2, 2));
        Assert.Empty(TensorBoardWriter.EventFiles(_dir.Path));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(_dir.Path, MetricsWriter.FileName)).Length);

        string fresh = Directory.CreateDirectory(Path.Combine(_dir.Path, "fresh")).FullName;
        using (var metrics = RunMetrics.Create(fresh, tensorBoard: false))
            metrics.Write(Row(1, 1));
        Assert.Empty(TensorBoardWriter.EventFiles(fresh));
        Assert.Single(File.ReadAllLines(Path.Combine(fresh, MetricsWriter.FileName)));
    }

    [Fact]
    public void AResumeRebuildsTheEventFileFromTheKeptRows()
    {
        File.WriteAllText(Path.Combine(_dir.Path, RunInfo.FileName), """{ "started": "2026-12-01T10:00:00Z" }""");
        using (var metrics = RunMetrics.Create(_dir.Path))
            for (int s = 1; s <= 5; s++) metrics.Write(Row(s, s).Wall("time_s", s * 1.5));
        using (var resumed = RunMetrics.Resume(_dir.Path, row => row.GetProperty("step").GetInt64() <= 2))
            resumed.Write(Row(3, 30));

        Assert.Equal(3, File.ReadAllLines(Path.Combine(_dir.Path, MetricsWriter.FileName)).Length);
        var (events, damage) = TensorBoardEventReader.Read(Assert.Single(TensorBoardWriter.EventFiles(_dir.Path)));
        Assert.Null(damage);
        Assert.Equal([1L, 2L, 3L], events.Skip(1).Select(e => e.Step));
        Assert.Equal([1f, 2f, 30f], events.Skip(1).Select(e => e.Scalars["loss"]));
        // Replayed rows are dated run start + wall.time_s.
        double started = (new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero) - DateTimeOffset.UnixEpoch).TotalSeconds;
        Assert.Equal(started + 1.5, events[1].WallTime, 6);
        Assert.Equal(started + 3.0, events[2].WallTime, 6);
    }

    [Fact]
    public void HistogramBinsAreUpperInclusiveAndClampOutliers()
    {
        var h = new MetricsHistogram(0, 1, 2);
        foreach (double v in new[] { -1.0, 0.0, 0.5, 0.50001, 2.0, double.NaN }) h.Add(v);
        Assert.Equal([3.0, 2.0], h.Counts);
        Assert.Equal(5, h.Count);
        var copy = h.Clone();
        h.Clear();
        Assert.Equal(0, h.Count);
        Assert.Equal(5, copy.Count);
    }
}
