using System.Text.Json.Nodes;
using RLAgents.Agents.Buffers;
using RLAgents.Agents.Training;
using RLAgents.Environments;

namespace RLAgents.Agents.Tests.Buffers;

/// <summary>The replay buffer round-trips through a file, and DQN checkpoints carry it across a resume.</summary>
public class ReplayCheckpointTests
{
    private static readonly ObservationSpace Multimodal = new(
        new Modality("image", new BoxSpace(0, 255, [2, 2, 3], DType.UInt8)),
        new Modality("direction", new DiscreteSpace(4)),
        new Modality("mission", new TextSpace(12)),
        new Modality("vector", new BoxSpace(-1, 1, [3])));

    private static ReplayBuffer Filled(int capacity, int transitions)
    {
        var replay = new ReplayBuffer(Multimodal, capacity);
        var obs = new ObservationBatch(Multimodal, 2);
        var rng = new Rng(5UL);
        for (int i = 0; i < transitions; i++)
        {
            for (int k = 0; k < 2; k++)
            {
                for (int b = 0; b < 12; b++) obs.Bytes(0)[k * 12 + b] = (byte)rng.NextInt(256);
                obs.Ints(1)[k] = rng.NextInt(4);
                obs.Texts(2)[k] = $"go {i} {k}";
                for (int v = 0; v < 3; v++) obs.Floats(3)[k * 3 + v] = (float)rng.Uniform(-1, 1);
            }
            replay.Add(obs, 0, i % 3, i * 0.5f, obs, 1, i % 2 == 0 ? 0.99f : 0f);
        }
        return replay;
    }

    [Theory]
    [InlineData(10, 4)]   // partly filled
    [InlineData(10, 23)]  // wrapped around: the ring position matters
    public void ReplayBufferRoundTripsThroughAStream(int capacity, int transitions)
    {
        var original = Filled(capacity, transitions);
        using var stream = new MemoryStream();
        original.Save(stream);
        stream.Position = 0;
        var restored = new ReplayBuffer(Multimodal, capacity);
        restored.Load(stream, "memory");
        Assert.Equal(original.Count, restored.Count);
        Assert.Equal(original.Added, restored.Added);

        // Same samples from the same generator, and the next Add overwrites the same slot.
        var a = new ReplaySample(Multimodal, 32);
        var b = new ReplaySample(Multimodal, 32);
        original.Sample(new Rng(9UL), a);
        restored.Sample(new Rng(9UL), b);
        Assert.Equal(a.Indices, b.Indices);
        Assert.Equal(a.Actions, b.Actions);
        Assert.Equal(a.Returns, b.Returns);
        Assert.Equal(a.Discounts, b.Discounts);
        Assert.Equal(a.Observations.Bytes(0), b.Observations.Bytes(0));
        Assert.Equal(a.Observations.Ints(1), b.Observations.Ints(1));
        Assert.Equal(a.NextObservations.Texts(2), b.NextObservations.Texts(2));
        Assert.Equal(a.NextObservations.Floats(3), b.NextObservations.Floats(3));
        var obs = new ObservationBatch(Multimodal, 1);
        original.Add(obs, 0, 2, 7f, obs, 0, 0.5f);
        restored.Add(obs, 0, 2, 7f, obs, 0, 0.5f);
        Assert.Equal(original.Actions.ToArray(), restored.Actions.ToArray());
        Assert.Equal(original.Returns.ToArray(), restored.Returns.ToArray());
    }

    [Fact]
    public void DamagedOrMismatchedReplayFilesAreRefusedWithTheirReason()
    {
        using var stream = new MemoryStream();
        Filled(10, 6).Save(stream);
        var bytes = stream.ToArray();

        var truncated = Assert.Throws<InvalidDataException>(() => new ReplayBuffer(Multimodal, 10).Load(new MemoryStream(bytes[..(bytes.Length - 5)]), "r.replay"));
        Assert.Contains("r.replay", truncated.Message);
        Assert.Contains("truncated at byte", truncated.Message);

        var capacity = Assert.Throws<InvalidDataException>(() => new ReplayBuffer(Multimodal, 11).Load(new MemoryStream(bytes), "r.replay"));
        Assert.Contains("capacity 10", capacity.Message);

        var other = ObservationSpace.Single("x", new BoxSpace(0, 1, [1]));
        var space = Assert.Throws<InvalidDataException>(() => new ReplayBuffer(other, 10).Load(new MemoryStream(bytes), "r.replay"));
        Assert.Contains("replay observations are", space.Message);

        var garbage = Assert.Throws<InvalidDataException>(() => new ReplayBuffer(Multimodal, 10).Load(new MemoryStream([3, 1, 2, 3]), "r.replay"));
        Assert.Contains("r.replay", garbage.Message);
    }

    [Fact]
    public void ResumedDqnRunSamplesFromTheCheckpointedReplayBuffer()
    {
        using var dir = new TempDirectory();
        string[] cfg =
        [
            "algorithm.dqn.learningStarts=64", "algorithm.dqn.trainFrequency=32", "algorithm.dqn.gradientSteps=2", "algorithm.dqn.nStep=1",
            "algorithm.dqn.bufferSize=2000", "training.totalSteps=640", "training.logInterval=64",
            "training.evalInterval=0", "training.checkpointInterval=128",
        ];
        using var cancel = new CancellationTokenSource();
        var part = TrainingRunner.Run(TestPaths.Load("cartpole-dqn.json", cfg), dir.Combine("run"), progress: p => { if (p.EnvSteps >= 320) cancel.Cancel(); }, cancellation: cancel.Token);
        // One replay file: beside the newest checkpoint only.
        var replays = Directory.GetFiles(Path.Combine(part.RunDirectory, "checkpoints"), "*" + Checkpoint.ReplayExtension);
        Assert.Equal(Path.ChangeExtension(part.FinalCheckpoint!, Checkpoint.ReplayExtension), Assert.Single(replays));

        var resumed = TrainingRunner.Run(TrainingRunner.LoadRunConfig(part.RunDirectory), part.RunDirectory, resume: true);
        Assert.Equal(640, resumed.EnvSteps);
        // Every row, after the resume too, counts every transition collected since the start (1-step
        // transitions with one env: the buffer holds every step taken). A row averages its interval's
        // two iterations, which end 32 steps apart: (step − 32 + step) / 2.
        foreach (var line in File.ReadLines(Path.Combine(resumed.RunDirectory, TrainingRunner.MetricsFile)))
        {
            var row = JsonNode.Parse(line)!;
            long step = row["step"]!.GetValue<long>();
            Assert.Equal(step - 16, row["replay_size"]!.GetValue<double>());
        }
    }
}
