using Apache.Arrow;
using Apache.Arrow.Ipc;
using RLAgents.Environments;
using RLAgents.EpisodeLogs;

namespace RLAgents.EpisodeLogs.Tests;

public sealed class EpisodeLogFormatTests
{
    [Fact]
    public void FullLogRoundTripsEveryFieldAndModality()
    {
        string path = LogTestKit.Record("Beacon-v2", 5, seed: 7);
        var log = EpisodeLogReader.ReadAll(path);
        Assert.True(log.IsIntact);
        Assert.Equal(5, log.Episodes.Count);
        Assert.Equal("Beacon-v2", log.Header.EnvId);
        Assert.Equal(["RecordEpisodeStatistics", "TimeLimit(40)"], log.Header.Wrappers);
        Assert.Equal(ObservationEncoding.Zlib, log.Header.Modalities[0].Encoding);
        Assert.Equal([32, 32, 3], log.Header.Modalities[0].Shape);
        Assert.Equal(ObservationEncoding.Raw, log.Header.Modalities[1].Encoding);

        // Re-simulate independently and compare field by field with what the reader returned.
        var env = LogTestKit.Registry().Make("Beacon-v2");
        var policy = new Rng(7);
        for (int e = 0; e < 5; e++)
        {
            var ep = log.Episodes[e];
            Assert.Equal(e, ep.Index);
            Assert.Equal(7 + e, ep.Seed);
            var obs = env.Reset(7 + e).Observation;
            AssertObservation(ep, 0, obs);
            double ret = 0;
            for (int t = 0; t < ep.Length; t++)
            {
                float value = (float)policy.NextDouble();
                int action = policy.NextInt(4);
                var r = env.Step(action);
                ret += r.Reward;
                Assert.Equal(action, ep.Actions[t]);
                Assert.Equal(r.Reward, ep.Rewards[t]);
                Assert.Equal(r.Terminated, ep.Terminated[t]);
                Assert.Equal(r.Truncated, ep.Truncated[t]);
                Assert.Equal([0.25f, 0.25f, 0.25f, 0.25f], ep.ActionProbabilities[t]!);
                Assert.Equal(value, ep.Values[t]);
                AssertObservation(ep, t + 1, r.Observation);
                if (t == ep.Length - 1) { Assert.True(r.Done); Assert.Equal(r.Info.IsSuccess, ep.Success ?? false); }
                else Assert.False(r.Done);
            }
            Assert.Equal(ret, ep.Return);
        }
    }

    private static void AssertObservation(RecordedEpisode ep, int t, Observation obs)
    {
        var copy = new Observation(obs.Space);
        for (int m = 0; m < obs.Space.Count; m++) ep.Observations[m].CopyTo(t, copy, m);
        Assert.True(copy.ContentEquals(obs), $"observation {t} differs");
    }

    [Fact]
    public void HashModeStoresOneUint64PerModalityThatMatchesTheValues()
    {
        string full = LogTestKit.Record("Beacon-v2", 3, seed: 3);
        string hashed = LogTestKit.Record("Beacon-v2", 3, new EpisodeRecorderOptions { ObservationHashes = true }, seed: 3);
        var a = EpisodeLogReader.ReadAll(full);
        var b = EpisodeLogReader.ReadAll(hashed);
        Assert.All(b.Header.Modalities, m => Assert.Equal(ObservationEncoding.Hash64, m.Encoding));
        Assert.True(new FileInfo(hashed).Length < new FileInfo(full).Length);
        for (int e = 0; e < 3; e++)
            for (int m = 0; m < 4; m++)
            {
                Assert.NotNull(b.Episodes[e].Observations[m].Hashes);
                for (int t = 0; t <= a.Episodes[e].Length; t++)
                    Assert.Equal(a.Episodes[e].Observations[m].HashAt(t), b.Episodes[e].Observations[m].Hashes![t]);
            }
    }

    [Fact]
    public void HashIsDefinedOverCanonicalBytes()
    {
        // The documented algorithm, written out independently for an 11-byte input (one word and a padded tail).
        byte[] data = "hello world"u8.ToArray();
        ulong h = 0x9E3779B97F4A7C15UL ^ unchecked(11UL * 0xC2B2AE3D27D4EB4FUL);
        ulong w0 = BitConverter.ToUInt64(data, 0);
        ulong w1 = (ulong)data[8] | (ulong)data[9] << 8 | (ulong)data[10] << 16;
        foreach (ulong w in new[] { w0, w1 })
            h = unchecked(System.Numerics.BitOperations.RotateLeft(h ^ (w * 0x87C37B91114253D5UL), 31) * 0x4CF5AD432745937FUL + 0x52DCE729UL);
        unchecked { h ^= h >> 30; h *= 0xBF58476D1CE4E5B9UL; h ^= h >> 27; h *= 0x94D049BB133111EBUL; h ^= h >> 31; }
        Assert.Equal(h, ObservationHash.Hash(data));
        Assert.Equal(ObservationHash.Hash("hello world"), ObservationHash.Hash(data));
        Assert.NotEqual(ObservationHash.Hash(new byte[] { 0 }), ObservationHash.Hash(new byte[] { 0, 0 }));
        Assert.Equal(ObservationHash.Hash(BitConverter.GetBytes(1.5f)), ObservationHash.Hash([1.5f]));
    }

    [Fact]
    public void ApacheArrowReadsTheLogAsAPlainTableWithDocumentedColumns()
    {
        string path = LogTestKit.Record("Beacon-v2", 2, seed: 11, envOptions: new BeaconOptions());
        var log = EpisodeLogReader.ReadAll(path);
        using var stream = File.OpenRead(path);
        using var reader = new ArrowStreamReader(stream);
        var schema = reader.Schema;
        Assert.Equal("rlagents-episode-log", schema.Metadata["rlagents.format"]);
        Assert.Equal("2", schema.Metadata["rlagents.format_version"]);
        Assert.Equal("Beacon-v2", schema.Metadata["rlagents.env_id"]);
        Assert.Contains("\"size\":8", schema.Metadata["rlagents.env_options"]);
        Assert.StartsWith("rlagents-episode-recorder/", schema.Metadata["rlagents.recorder_version"]);
        Assert.Equal("zlib", schema.GetFieldByName("obs_image").Metadata["rlagents.encoding"].ToLowerInvariant());
        int batches = 0;
        while (reader.ReadNextRecordBatch() is { } batch)
        {
            var ep = log.Episodes[batches++];
            Assert.Equal(ep.Length + 1, batch.Length);
            var action = (Int32Array)batch.Column("action");
            Assert.True(action.IsNull(ep.Length));
            Assert.Equal(ep.Actions[0], action.GetValue(0));
            var state = (ListArray)batch.Column("obs_state");
            var sv = (FloatArray)state.Values;
            Assert.Equal(ep.Observations[1].Floats![3], sv.GetValue(3)); // row 1, element 0
            var img = (BinaryArray)batch.Column("obs_image");
            using var z = new System.IO.Compression.ZLibStream(new MemoryStream(img.GetBytes(2).ToArray()), System.IO.Compression.CompressionMode.Decompress);
            var raw = new MemoryStream();
            z.CopyTo(raw);
            Assert.Equal(ep.Observations[0].Bytes.AsSpan(2 * 3072, 3072).ToArray(), raw.ToArray());
            Assert.Equal(ep.Return, ((DoubleArray)batch.Column("episode_return")).GetValue(ep.Length));
            Assert.Equal("go to the beacon at", ((StringArray)batch.Column("obs_mission")).GetString(0)[..19]);
        }
        Assert.Equal(2, batches);
    }

    [Theory]
    [InlineData("BabyAI-GoToLocal-v0", false, true)]  // image, int, two texts; start states captured
    [InlineData("BabyAI-GoToLocal-v0", true, true)]   // hashes
    [InlineData("CartPole-v1", false, false)]         // float lists, seeds
    public void RecorderBuffersAndRecordedEpisodesEncodeToIdenticalBytes(string id, bool hashes, bool unseeded)
    {
        // The recorder encodes straight from its builder; Write(RecordedEpisode) from the decoded
        // episodes must reproduce the file byte for byte (both paths, and decode ∘ encode, agree).
        var options = new EpisodeRecorderOptions { ObservationHashes = hashes, CompressImagesFromBytes = 64 };
        string recorded = LogTestKit.Record(id, 5, options, seeded: !unseeded, seed: 3);
        var log = EpisodeLogReader.ReadAll(recorded).ThrowIfDamaged();
        // Some steps without agent output, and an episode with an unknown outcome, exercise the null patterns.
        var (probs0, valueLast) = (log.Episodes[1].ActionProbabilities[0], log.Episodes[1].Values[^1]);
        log.Episodes[1].ActionProbabilities[0] = null;
        log.Episodes[1].Values[^1] = null;
        string rewritten = TempDirectory.ForProcess.NewFile("rewritten.arrows");
        using (var writer = EpisodeLogWriter.Create(rewritten, log.Header))
            foreach (var e in log.Episodes) writer.Write(e);
        var again = EpisodeLogReader.ReadAll(rewritten).ThrowIfDamaged();
        Assert.Null(again.Episodes[1].ActionProbabilities[0]);
        Assert.Null(again.Episodes[1].Values[^1]);
        Assert.Equal(log.Episodes[1].Values[0], again.Episodes[1].Values[0]);
        log.Episodes[1].ActionProbabilities[0] = probs0;
        log.Episodes[1].Values[^1] = valueLast;
        string restored = TempDirectory.ForProcess.NewFile("restored.arrows");
        using (var writer = EpisodeLogWriter.Create(restored, log.Header))
            foreach (var e in log.Episodes) writer.Write(e);
        Assert.Equal(File.ReadAllBytes(recorded), File.ReadAllBytes(restored));
    }
}
