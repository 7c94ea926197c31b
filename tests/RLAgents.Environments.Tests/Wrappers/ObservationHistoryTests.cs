using RLAgents.Environments.Configuration;
using RLAgents.Environments.Vector;
using RLAgents.Environments.Wrappers;

namespace RLAgents.Environments.Tests.Wrappers;

public sealed class ObservationHistoryTests
{
    private const int K = 3;
    private static readonly ObservationHistoryOptions Memory = new() { Steps = K, Modalities = ["frame", "heading", "pos"] };

    /// <summary>The history rows an agent should see after <paramref name="episode"/> (this episode's raw observations so far, oldest first).</summary>
    private static void AssertHistory(ObservationBatch batch, int slot, IReadOnlyList<Observation> episode)
    {
        var layout = ObservationHistoryLayout.Find(batch.Space)!;
        int t = episode.Count - 1;
        var current = episode[t];
        Assert.Equal(current.Bytes(0).ToArray(), batch.Bytes(0).AsSpan(slot * 4, 4).ToArray());
        Assert.Equal(current.GetInt(1), batch.Ints(1)[slot]);
        for (int k = 0; k < K; k++)
        {
            // Anchored: the last row is the episode's first step from step 1 on; the others roll as usual.
            int source = layout.Anchored && k == K - 1 ? (t >= 1 ? 0 : -1) : t - 1 - k;
            bool valid = source >= 0;
            Assert.Equal(valid ? 1 : 0, batch.Bytes(layout.MaskIndex)[slot * K + k]);
            var frame = batch.Bytes(batch.Space.IndexOf("frame_history")).AsSpan((slot * K + k) * 4, 4).ToArray();
            var heading = batch.Floats(batch.Space.IndexOf("heading_history"))[slot * K + k];
            var pos = batch.Floats(batch.Space.IndexOf("pos_history")).AsSpan((slot * K + k) * 2, 2).ToArray();
            Assert.Equal(valid ? episode[source].Bytes(0).ToArray() : new byte[4], frame);
            Assert.Equal(valid ? episode[source].GetInt(1) - 1 : 0, heading); // discrete history starts at 0
            Assert.Equal(valid ? episode[source].Floats(3).ToArray() : new float[2], pos);
        }
    }

    private static ObservationBatch AsBatch(Observation observation)
    {
        var batch = new ObservationBatch(observation.Space, 1);
        batch.Set(0, observation);
        return batch;
    }

    [Fact]
    public void LayoutAppendsHistoriesAndMaskAfterTheInnerModalities()
    {
        var layout = ObservationHistoryLayout.Create(TickEnv.Space, K, ["frame", "heading", "pos"]);
        Assert.Equal(["frame", "heading", "note", "pos", "frame_history", "heading_history", "pos_history", "history_mask"],
            layout.Space.Modalities.Select(m => m.Name));
        Assert.Equal([K, 2, 2, 1], ((BoxSpace)layout.Space["frame_history"].Space).ShapeArray());
        Assert.Equal(DType.UInt8, ((BoxSpace)layout.Space["frame_history"].Space).DType);
        Assert.Equal([K], ((BoxSpace)layout.Space["heading_history"].Space).ShapeArray());
        Assert.Equal(3f, ((BoxSpace)layout.Space["heading_history"].Space).High[0]);
        Assert.Equal([K, 2], ((BoxSpace)layout.Space["pos_history"].Space).ShapeArray());
        var found = ObservationHistoryLayout.Find(layout.Space)!;
        Assert.Equal(K, found.Steps);
        Assert.Equal(layout.Entries, found.Entries);
        Assert.Null(ObservationHistoryLayout.Find(TickEnv.Space));
    }

    [Fact]
    public void ScalarWrapperShiftsHistoryAndStartsEachEpisodeEmpty()
    {
        using var env = new ObservationHistory(new TickEnv(), Memory);
        var episode = new List<Observation>();
        var r = env.Reset(seed: 1);
        episode.Add(Raw(r.Observation));
        AssertHistory(AsBatch(r.Observation), 0, episode);
        Assert.Null(env.ObservationSpace.Violation(r.Observation));
        for (int t = 1; t <= 5; t++) // past K, so the oldest rows drop out
        {
            var s = env.Step(0);
            episode.Add(Raw(s.Observation));
            AssertHistory(AsBatch(s.Observation), 0, episode);
            Assert.Null(env.ObservationSpace.Violation(s.Observation));
        }
        var end = env.Step(1);
        Assert.True(end.Terminated);
        episode.Add(Raw(end.Observation));
        AssertHistory(AsBatch(end.Observation), 0, episode); // the final observation keeps its own history

        var next = env.Reset();
        Assert.Equal("e1", next.Observation.GetText(2));
        var first = Raw(next.Observation); // the wrapper rewrites its observation in place on the next call
        AssertHistory(AsBatch(next.Observation), 0, [first]);
        var after = env.Step(0);
        AssertHistory(AsBatch(after.Observation), 0, [first, Raw(after.Observation)]);
    }

    [Fact]
    public void TruncatedFinalObservationCarriesItsOwnHistory()
    {
        using var env = new TimeLimit(new ObservationHistory(new TickEnv(), Memory), 2);
        var episode = new List<Observation> { Raw(env.Reset(seed: 3).Observation) };
        episode.Add(Raw(env.Step(0).Observation));
        var last = env.Step(0);
        Assert.True(last.Truncated && !last.Terminated);
        episode.Add(Raw(last.Observation));
        AssertHistory(AsBatch(last.Observation), 0, episode);
        Assert.Equal([1, 1, 0], last.Observation.Bytes("history_mask").ToArray());
    }

    [Fact]
    public void SameStepAutoresetGivesFinalObservationItsHistoryAndTheNextEpisodeAnEmptyOne()
    {
        using var vec = new ObservationHistoryVectorEnv(new SyncVectorEnv(_ => new TickEnv(), 2, AutoresetMode.SameStep), Memory);
        var raw = new SyncVectorEnv(_ => new TickEnv(), 2, AutoresetMode.SameStep); // the same envs without memory
        using (raw)
        {
            vec.Reset(seed: 5);
            raw.Reset(seed: 5);
            var episodes = new[] { new List<Observation> { Slot(raw.Observations, 0) }, new List<Observation> { Slot(raw.Observations, 1) } };
            int[][] plan = [[0, 0], [0, 0], [0, 1], [0, 0], [1, 0]];
            foreach (var actions in plan)
            {
                vec.Step(actions);
                raw.Step(actions);
                for (int i = 0; i < 2; i++)
                {
                    if (raw.Terminated[i])
                    {
                        Assert.True(vec.Terminated[i]);
                        episodes[i].Add(Slot(raw.FinalObservations, i));
                        AssertHistory(vec.FinalObservations, i, episodes[i]);
                        episodes[i] = [Slot(raw.Observations, i)];
                    }
                    else episodes[i].Add(Slot(raw.Observations, i));
                    AssertHistory(vec.Observations, i, episodes[i]);
                }
            }
            Assert.Equal("e1", vec.Observations.Texts(2)[1]);
            Assert.Equal([1, 1, 0], vec.Observations.Bytes(vec.SingleObservationSpace.IndexOf("history_mask")).AsSpan(K, K).ToArray()); // env 1: two steps into episode 1
            Assert.Equal([0, 0, 0], vec.Observations.Bytes(vec.SingleObservationSpace.IndexOf("history_mask")).AsSpan(0, K).ToArray()); // env 0: just reset
        }
    }

    [Fact]
    public void NextStepAutoresetKeepsHistoryOnTheEndingStepAndClearsItOnTheResetStep()
    {
        using var vec = new ObservationHistoryVectorEnv(new SyncVectorEnv(_ => new TickEnv(), 2, AutoresetMode.NextStep), Memory);
        using var raw = new SyncVectorEnv(_ => new TickEnv(), 2, AutoresetMode.NextStep);
        vec.Reset(seed: 5);
        raw.Reset(seed: 5);
        var episodes = new[] { new List<Observation> { Slot(raw.Observations, 0) }, new List<Observation> { Slot(raw.Observations, 1) } };
        var ended = new bool[2];
        int[][] plan = [[0, 0], [0, 1], [0, 0], [1, 0], [0, 0], [0, 0]];
        foreach (var actions in plan)
        {
            vec.Step(actions);
            raw.Step(actions);
            for (int i = 0; i < 2; i++)
            {
                if (ended[i]) episodes[i] = []; // the inner env reset on this step
                episodes[i].Add(Slot(raw.Observations, i));
                AssertHistory(vec.Observations, i, episodes[i]);
                ended[i] = raw.Terminated[i] || raw.Truncated[i];
            }
        }
        Assert.Equal("e1", vec.Observations.Texts(2)[0]);
        Assert.Equal("e1", vec.Observations.Texts(2)[1]);
    }

    [Fact]
    public void DisabledAutoresetClearsHistoryOnResetAt()
    {
        using var vec = new ObservationHistoryVectorEnv(new SyncVectorEnv(_ => new TickEnv(), 2, AutoresetMode.Disabled), Memory);
        vec.Reset(seed: 2);
        vec.Step([0, 0]);
        vec.Step([1, 0]);
        Assert.True(vec.Terminated[0]);
        int mask = vec.SingleObservationSpace.IndexOf("history_mask");
        Assert.Equal([1, 1, 0], vec.Observations.Bytes(mask).AsSpan(0, K).ToArray());
        vec.ResetAt(0);
        Assert.Equal([0, 0, 0], vec.Observations.Bytes(mask).AsSpan(0, K).ToArray());
        Assert.Equal([1, 1, 0], vec.Observations.Bytes(mask).AsSpan(K, K).ToArray());
        Assert.All(vec.Observations.Bytes(vec.SingleObservationSpace.IndexOf("frame_history")).AsSpan(0, K * 4).ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void AnchoredMemoryKeepsTheEpisodesFirstStepInItsLastRow()
    {
        var anchored = new ObservationHistoryOptions { Steps = K, Modalities = Memory.Modalities, Anchored = true };
        using var env = new ObservationHistory(new TickEnv(), anchored);
        Assert.Equal(ObservationHistoryLayout.AnchoredMaskName, env.ObservationSpace.Modalities[^1].Name);
        Assert.True(ObservationHistoryLayout.Find(env.ObservationSpace)!.Anchored);
        var r = env.Reset(seed: 1);
        var episode = new List<Observation> { Raw(r.Observation) };
        AssertHistory(AsBatch(r.Observation), 0, episode);
        Assert.Equal([0, 0, 0], r.Observation.Bytes(ObservationHistoryLayout.AnchoredMaskName).ToArray());
        for (int t = 1; t <= 5; t++) // well past K: the recent rows roll, the first step stays
        {
            var s = env.Step(0);
            episode.Add(Raw(s.Observation));
            AssertHistory(AsBatch(s.Observation), 0, episode);
            Assert.Null(env.ObservationSpace.Violation(s.Observation));
        }
        Assert.Equal([1, 1, 1], env.Step(0).Observation.Bytes(ObservationHistoryLayout.AnchoredMaskName).ToArray());
        // A new episode anchors on its own first step.
        var next = env.Reset();
        var first = Raw(next.Observation);
        Assert.Equal([0, 0, 0], next.Observation.Bytes(ObservationHistoryLayout.AnchoredMaskName).ToArray());
        var after = env.Step(0);
        AssertHistory(AsBatch(after.Observation), 0, [first, Raw(after.Observation)]);
        Assert.Equal([1, 0, 1], after.Observation.Bytes(ObservationHistoryLayout.AnchoredMaskName).ToArray());
        var e = Assert.Throws<ConfigurationException>(() => new ObservationHistory(new TickEnv(), new ObservationHistoryOptions { Steps = 1, Anchored = true, Modalities = ["frame"] }));
        Assert.Equal("env.memory.steps", e.Path);
        Assert.Contains("anchored memory needs at least 2 steps", e.Message);
    }

    [Theory]
    [InlineData(AutoresetMode.SameStep, false)]
    [InlineData(AutoresetMode.NextStep, false)]
    [InlineData(AutoresetMode.SameStep, true)]
    [InlineData(AutoresetMode.NextStep, true)]
    public void VectorWrapperMatchesScalarWrappersInsideAVectorEnv(AutoresetMode mode, bool anchored)
    {
        // Two routes to the same data: memory around each env (the scalar wrapper; the vector env autoresets
        // it) and memory around the vector env. Random actions, many episode ends.
        var memory = new ObservationHistoryOptions { Steps = K, Modalities = Memory.Modalities, Anchored = anchored };
        using var outer = new ObservationHistoryVectorEnv(new SyncVectorEnv(_ => new TimeLimit(new TickEnv(), 4), 3, mode), memory);
        using var inner = new SyncVectorEnv(_ => new TimeLimit(new ObservationHistory(new TickEnv(), memory), 4), 3, mode);
        var rng = new Rng(11UL);
        outer.Reset(seed: 9);
        inner.Reset(seed: 9);
        var actions = new int[3];
        int ends = 0;
        for (int t = 0; t < 40; t++)
        {
            for (int i = 0; i < 3; i++) actions[i] = rng.NextDouble() < 0.15 ? 1 : 0;
            outer.Step(actions);
            inner.Step(actions);
            for (int i = 0; i < 3; i++)
            {
                Assert.True(Slot(outer.Observations, i).ContentEquals(Slot(inner.Observations, i)), $"step {t}, env {i}");
                bool done = inner.Terminated[i] || inner.Truncated[i];
                Assert.Equal(done, outer.Terminated[i] || outer.Truncated[i]);
                if (done) ends++;
                if (done && mode == AutoresetMode.SameStep)
                    Assert.True(Slot(outer.FinalObservations, i).ContentEquals(Slot(inner.FinalObservations, i)), $"final, step {t}, env {i}");
            }
        }
        Assert.True(ends >= 10, $"only {ends} episode ends");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FillEpisodeRebuildsTheHistoryTheWrapperGives(bool anchored)
    {
        using var env = new ObservationHistory(new TickEnv(), new ObservationHistoryOptions { Steps = K, Modalities = Memory.Modalities, Anchored = anchored });
        var played = new List<Observation> { env.Reset(seed: 4).Observation.Clone() };
        for (int t = 0; t < 5; t++) played.Add(env.Step(0).Observation.Clone());
        // Only the current values, as a demonstration file would give them.
        var rebuilt = played.Select(o =>
        {
            var copy = new Observation(env.ObservationSpace);
            for (int m = 0; m < TickEnv.Space.Count; m++)
                switch (TickEnv.Space[m].Storage)
                {
                    case ModalityStorage.UInt8: o.Bytes(m).CopyTo(copy.Bytes(m)); break;
                    case ModalityStorage.Float32: o.Floats(m).CopyTo(copy.Floats(m)); break;
                    case ModalityStorage.Int32: copy.SetInt(m, o.GetInt(m)); break;
                    default: copy.SetText(m, o.GetText(m)); break;
                }
            return copy;
        }).ToList();
        Assert.False(rebuilt[3].ContentEquals(played[3]));
        // Demonstrations rebuild it from the space alone (the layout read back), as DemonstrationSet does.
        ObservationHistoryLayout.Find(env.ObservationSpace)!.FillEpisode(rebuilt);
        for (int t = 0; t < played.Count; t++) Assert.True(rebuilt[t].ContentEquals(played[t]), $"step {t}");
    }

    [Theory]
    [InlineData(new[] { "frame", "nope" }, 3, "env.memory.modalities[1]")]
    [InlineData(new[] { "note" }, 3, "env.memory.modalities[0]")]
    [InlineData(new[] { "frame", "frame" }, 3, "env.memory.modalities[1]")]
    [InlineData(new[] { "frame" }, 0, "env.memory.steps")]
    public void BadChoicesNameTheKey(string[] modalities, int steps, string path)
    {
        var e = Assert.Throws<ConfigurationException>(() => new ObservationHistory(new TickEnv(), new ObservationHistoryOptions { Steps = steps, Modalities = modalities }));
        Assert.Equal(path, e.Path);
        Assert.StartsWith(path + ":", e.Message);
    }

    [Fact]
    public void FindRejectsAHistoryThatDoesNotMatchItsBase()
    {
        var space = new ObservationSpace(
            new Modality("frame", new BoxSpace(0f, 255f, [2, 2, 1], DType.UInt8)),
            new Modality("frame_history", new BoxSpace(0f, 255f, [2, 2, 2, 1], DType.UInt8)),
            new Modality("history_mask", new BoxSpace(0f, 1f, [3], DType.UInt8)));
        var e = Assert.Throws<ArgumentException>(() => ObservationHistoryLayout.Find(space));
        Assert.Contains("frame_history", e.Message);
    }

    [Fact]
    public void ABabyaiLevelWithMemoryPassesTheEnvChecker()
    {
        var registry = EnvRegistry.CreateDefault();
        var report = RLAgents.Environments.Checking.EnvChecker.Check(() => new ObservationHistory(registry.Make("BabyAI-GoToRedBallGrey-v0"),
            new ObservationHistoryOptions { Steps = 4, Modalities = ["image", "direction"] }), steps: 300);
        Assert.True(report.Passed, report.ToString());
    }

    private static Observation Raw(Observation withMemory)
    {
        var raw = new Observation(TickEnv.Space);
        withMemory.Bytes(0).CopyTo(raw.Bytes(0));
        raw.SetInt(1, withMemory.GetInt(1));
        raw.SetText(2, withMemory.GetText(2));
        withMemory.Floats(3).CopyTo(raw.Floats(3));
        return raw;
    }

    private static Observation Slot(ObservationBatch batch, int i)
    {
        var o = new Observation(batch.Space);
        batch.Get(i, o);
        return o;
    }
}
