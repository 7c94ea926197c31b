using RLAgents.Environments;
using RLAgents.Environments.GridWorld;
using RLAgents.Environments.GridWorld.Levels;
using RLAgents.Environments.Wrappers;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Multimodal;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests.Multimodal;

public sealed class MemoryTokensTests
{
    private const int K = 3;

    private static MultimodalOptions With(FusionMode fusion) => new()
    {
        Fusion = fusion,
        Backbone = new BackboneOptions { NLayer = 1, NHead = 2, NEmbd = 16, BlockSize = 128 },
        MaxTextTokens = 8,
        FusionHiddenSizes = [24],
    };

    /// <summary>
    /// Four GoToLocal observations with K = 3 steps of image and direction memory, taken after
    /// 0, 1, 2 and 5 steps of their episodes: history rows valid 0, 1, 2 and 3 of 3.
    /// </summary>
    private static ObservationBatch Observations()
    {
        int[] steps = [0, 1, 2, 5];
        ObservationBatch? batch = null;
        for (int i = 0; i < steps.Length; i++)
        {
            using var env = new ObservationHistory(BabyAILevels.Make("BabyAI-GoToLocal-v0", new GridWorldOptions { IncludeDescription = false }),
                new ObservationHistoryOptions { Steps = K, Modalities = ["image", "direction"] });
            batch ??= new ObservationBatch(env.ObservationSpace, steps.Length);
            var obs = env.Reset(200 + i).Observation;
            // Turning left and right changes the view without ending the episode.
            for (int t = 0; t < steps[i]; t++) obs = env.Step(t % 3 == 2 ? 2 : t % 2).Observation;
            batch.Set(i, obs);
        }
        return batch!;
    }

    [Theory]
    [InlineData(FusionMode.Early, 16)]
    [InlineData(FusionMode.Late, 24)]
    [InlineData(FusionMode.CrossAttention, 16)]
    public void MemoryAddsOneTokenPerPreviousStepAndTheHeadsKeepTheirShapes(FusionMode fusion, int stateSize)
    {
        var batch = Observations();
        var space = batch.Space;
        var (estimator, _) = EstimatorTestKit.Build(With(fusion), space);
        Assert.Equal(K, estimator.MemorySteps);
        Assert.Equal(stateSize, estimator.StateSize);
        var plain = GridWorldEnv.CreateObservationSpace(includeDescription: false);
        var (without, _) = EstimatorTestKit.Build(With(fusion), plain);
        Assert.Equal(0, without.MemorySteps);
        if (fusion == FusionMode.Early) Assert.Equal(without.SequenceLength + K, estimator.SequenceLength);
        Assert.Contains(estimator.named_parameters(), p => p.name.StartsWith("memory.", StringComparison.Ordinal));

        var factory = new MultimodalStateEstimatorFactory(With(fusion), EstimatorTestKit.Tokenizer);
        var actions = new DiscreteSpace(7);
        using var ac = new ActorCriticPolicy(space, actions, new PolicyOptions { ShareStateEstimator = true }, factory, new Rng(1));
        using var q = new QNetworkPolicy(space, actions, new PolicyOptions(), factory, new Rng(1));
        using var scope = NewDisposeScope();
        var input = ac.Tensorizer.ToInput(batch);
        Assert.Equal([4L, K * 7 * 7 * 3], input[space.IndexOf("image_history")].shape);
        Assert.Equal([4L, 7L], ac.Logits(input).shape);
        Assert.Equal([4L], ac.Value(input).shape);
        Assert.Equal([4L, 7L], q.QValues(input).shape);
        Assert.True(ac.Logits(input).isfinite().all().item<bool>());
    }

    [Theory]
    [InlineData(FusionMode.Early)]
    [InlineData(FusionMode.Late)]
    [InlineData(FusionMode.CrossAttention)]
    public void MaskedHistoryRowsDoNotChangeTheStateAndValidOnesDo(FusionMode fusion)
    {
        var batch = Observations();
        var space = batch.Space;
        var (estimator, tensorizer) = EstimatorTestKit.Build(With(fusion), space);
        var before = EstimatorTestKit.State(estimator, tensorizer, batch);
        int d = estimator.StateSize;
        var mask = batch.Bytes(space.IndexOf("history_mask"));
        Assert.Equal(new byte[] { 0, 0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 1 }, mask);

        // Scribble over every masked row (rows before each episode's start) with real views (the envs' current ones) and directions.
        var images = batch.Bytes(space.IndexOf("image_history"));
        var current = batch.Bytes(space.IndexOf("image"));
        var directions = batch.Floats(space.IndexOf("direction_history"));
        int frame = 7 * 7 * 3;
        for (int row = 0; row < mask.Length; row++)
        {
            if (mask[row] != 0) continue;
            current.AsSpan((row % 4) * frame, frame).CopyTo(images.AsSpan(row * frame, frame));
            directions[row] = 1 + row % 3;
        }
        var scribbled = EstimatorTestKit.State(estimator, tensorizer, batch);
        for (int i = 0; i < before.Length; i++) Assert.True(Math.Abs(before[i] - scribbled[i]) < 1e-5, $"element {i}: {before[i]} vs {scribbled[i]}");

        // A valid row is read: changing env 3's oldest step moves env 3's state and no other.
        Assert.False(current.AsSpan(0, frame).SequenceEqual(images.AsSpan((3 * K + 2) * frame, frame)));
        current.AsSpan(0, frame).CopyTo(images.AsSpan((3 * K + 2) * frame, frame));
        var changed = EstimatorTestKit.State(estimator, tensorizer, batch);
        Assert.Contains(Enumerable.Range(3 * d, d), i => Math.Abs(changed[i] - scribbled[i]) > 1e-4);
        Assert.All(Enumerable.Range(0, 3 * d), i => Assert.Equal(scribbled[i], changed[i], 5));
    }

    [Fact]
    public void HistoryAgeMattersSoTheSameFramesInAnotherOrderGiveAnotherState()
    {
        var batch = Observations();
        var space = batch.Space;
        var (estimator, tensorizer) = EstimatorTestKit.Build(With(FusionMode.Early), space);
        var before = EstimatorTestKit.State(estimator, tensorizer, batch);
        // Swap env 3's two most recent history rows (images and directions) — same content, other ages.
        var images = batch.Bytes(space.IndexOf("image_history"));
        var directions = batch.Floats(space.IndexOf("direction_history"));
        int frame = 7 * 7 * 3, r0 = 3 * K, r1 = 3 * K + 1;
        var first = images.AsSpan(r0 * frame, frame).ToArray();
        images.AsSpan(r1 * frame, frame).CopyTo(images.AsSpan(r0 * frame, frame));
        first.CopyTo(images.AsSpan(r1 * frame, frame));
        (directions[r0], directions[r1]) = (directions[r1], directions[r0]);
        Assert.False(images.AsSpan(r0 * frame, frame).SequenceEqual(first)); // the two frames differ
        var after = EstimatorTestKit.State(estimator, tensorizer, batch);
        int d = estimator.StateSize;
        Assert.Contains(Enumerable.Range(3 * d, d), i => Math.Abs(after[i] - before[i]) > 1e-4);
    }

    [Fact]
    public void ActingWithMemoryKeepsTheLiveTensorCountFlat()
    {
        var batch = Observations();
        var factory = new MultimodalStateEstimatorFactory(With(FusionMode.Early), EstimatorTestKit.Tokenizer);
        using var policy = new ActorCriticPolicy(batch.Space, new DiscreteSpace(7), new PolicyOptions { ShareStateEstimator = true }, factory, new Rng(5));
        EstimatorTestKit.ActingKeepsLiveTensorsFlat(policy, batch);
    }
}
