using System.Text.Json;
using Parquet;
using RLAgents.Environments;
using RLAgents.EpisodeLogs;
using RLAgents.EpisodeLogs.Rendering;

namespace RLAgents.EpisodeLogs.Tests;

/// <summary>Episode logs of Box action spaces: the floats recorded bit for bit, replayed, shown and exported.</summary>
public sealed class FloatActionLogTests
{
    /// <summary>
    /// Records <paramref name="episodes"/> episodes of <paramref name="id"/> with uniformly random actions drawn as
    /// <c>rlagents record --policy random --seed S</c> draws them, and returns the log and the float bits sent to the env.
    /// </summary>
    private static (string Path, List<int> Bits) RecordRandom(string id, int episodes, long seed)
    {
        string path = TempDirectory.ForProcess.NewFile("box.arrows");
        var recorder = EpisodeRecorder.Create(LogTestKit.Registry().Make(id), path, out var writer);
        var random = new Rng(Rng.DeriveSeed(unchecked((ulong)seed), "record-actions"));
        var action = new ActionBatch(recorder.ActionSpace, 1);
        var bits = new List<int>();
        for (int e = 0; e < episodes; e++)
        {
            recorder.Reset(unchecked((long)Rng.DeriveSeed(unchecked((ulong)seed), "record-episode", e)));
            StepResult step;
            do
            {
                action.Sample(random);
                foreach (float f in action.Continuous) bits.Add(BitConverter.SingleToInt32Bits(f));
                step = recorder.Step(action[0]);
            } while (!step.Done);
        }
        recorder.Dispose();
        writer.Dispose();
        return (path, bits);
    }

    private static List<int> LoggedBits(EpisodeLog log) =>
        [.. log.Episodes.SelectMany(e => e.ContinuousActions).Select(BitConverter.SingleToInt32Bits)];

    [Fact]
    public void PendulumActionsReadBackWithTheirExactFloatBits()
    {
        var (path, sent) = RecordRandom("Pendulum-v1", 2, seed: 7);
        var log = EpisodeLogReader.ReadAll(path);
        Assert.Equal(1, log.Header.ActionFloats);
        Assert.False(log.Header.HasDiscreteAction);
        Assert.Equal(EpisodeLogFormat.Version, log.Header.FormatVersion);
        Assert.Equal("Box(float32, [1], -2, 2)", log.Header.ActionSpace);
        Assert.Equal(400, sent.Count);
        Assert.Equal(sent, LoggedBits(log));
    }

    [Fact]
    public async Task IndependentArrowAndParquetReadersSeeTheRecordedFloats()
    {
        // Data/float-action-reference.json: what apache-arrow (JS) read from the log and hyparquet from its Parquet
        // export, for the same seeds (see Data/make-float-action-reference.mjs).
        using var reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "float-action-reference.json")));
        var root = reference.RootElement;
        var (path, sent) = RecordRandom(root.GetProperty("env").GetString()!, root.GetProperty("episodes").GetInt32(), root.GetProperty("seed").GetInt64());
        var readers = root.GetProperty("readers").EnumerateObject().ToList();
        Assert.Equal(2, readers.Count);
        foreach (var reader in readers)
        {
            var bits = reader.Value.EnumerateArray().Select(x => Convert.ToInt32(x.GetString(), 16)).ToList();
            Assert.True(sent.SequenceEqual(bits), $"{reader.Name} read other floats than were recorded");
        }
        // Our own Parquet export of this log holds the same floats, one column per element, null on each episode's last row.
        string parquet = TempDirectory.ForProcess.NewFile("box.parquet");
        await EpisodeExporter.ToParquetAsync(EpisodeLogReader.ReadAll(path), parquet);
        await using var file = await ParquetReader.CreateAsync(parquet);
        using var group = file.OpenRowGroupReader(0);
        var column = new float?[group.RowCount];
        await group.ReadAsync<float>(file.Schema.GetDataFields().Single(f => f.Name == "action_continuous_0"), column);
        Assert.Equal(2, column.Count(v => v is null));
        Assert.Equal(sent, column.Where(v => v is not null).Select(v => BitConverter.SingleToInt32Bits(v!.Value)));
    }

    [Theory]
    [InlineData("Pendulum-v1")]
    [InlineData("MountainCarContinuous-v0")]
    public void ReplayReSimulatesBoxActionLogsBitExactly(string id)
    {
        var (path, _) = RecordRandom(id, 2, seed: 11);
        var report = new Replayer().Verify(path);
        Assert.True(report.Success, report.Summary());
        Assert.Equal(2, report.Matched);
    }

    [Fact]
    public void ReplayCatchesAnActionOneUlpOff()
    {
        var (path, _) = RecordRandom("Pendulum-v1", 1, seed: 5);
        var log = EpisodeLogReader.ReadAll(path);
        var episode = log.Episodes[0];
        var replayer = new Replayer();
        using var env = replayer.CreateEnvironment(log.Header);
        Assert.Null(replayer.Verify(env, log.Header, episode).Divergence);
        // One unit in the last place of one torque changes the next angular velocity's bits.
        episode.ContinuousActions[3] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(episode.ContinuousActions[3]) + 1);
        var divergence = replayer.Verify(env, log.Header, episode).Divergence;
        Assert.NotNull(divergence);
        Assert.InRange(divergence!.Step, 3, 4); // the reward of step 3 or the observation after it
    }

    [Fact]
    public void ViewerAndTextPlayerShowEachStepsFloatAction()
    {
        var (path, _) = RecordRandom("Pendulum-v1", 1, seed: 2);
        var log = EpisodeLogReader.ReadAll(path);
        var rendered = new EpisodeRenderer().Render(log.Header, log.Episodes[0]);
        Assert.Equal(201, rendered.Ascii.Count);
        float torque = log.Episodes[0].ContinuousActions[0];
        string exact = torque.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"action [{exact}]", AsciiPlayer.StepText(rendered, 0));
        string html = HtmlViewer.Build(rendered);
        Assert.Contains($"\"continuousText\":\"[{exact}]\"", html);
        Assert.Contains("s.continuous.map", html);
    }

    [Fact]
    public void JsonlExportWritesTheFloatsAndANullIntegerAction()
    {
        var (path, sent) = RecordRandom("MountainCarContinuous-v0", 1, seed: 4);
        string jsonl = TempDirectory.ForProcess.NewFile("box.jsonl");
        EpisodeExporter.ToJsonl(EpisodeLogReader.ReadAll(path), jsonl);
        var rows = File.ReadAllLines(jsonl).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(rows, r => Assert.Equal(JsonValueKind.Null, r.GetProperty("action").ValueKind));
        var floats = rows.Where(r => r.GetProperty("action_continuous").ValueKind == JsonValueKind.Array)
            .SelectMany(r => r.GetProperty("action_continuous").EnumerateArray()).Select(x => BitConverter.SingleToInt32Bits(x.GetSingle())).ToList();
        Assert.Equal(sent, floats);
        Assert.Equal(JsonValueKind.Null, rows[^1].GetProperty("action_continuous").ValueKind);
    }

    [Fact]
    public void DiscreteLogsKeepFormatVersionTwoAndNoFloatColumn()
    {
        string path = LogTestKit.Record("CartPole-v1", 1);
        var log = EpisodeLogReader.ReadAll(path);
        Assert.Equal(EpisodeLogFormat.DiscreteVersion, log.Header.FormatVersion);
        Assert.Equal(0, log.Header.ActionFloats);
        Assert.Null(log.Header.ActionSpace);
        Assert.Empty(log.Episodes[0].ContinuousActions);
    }
}
