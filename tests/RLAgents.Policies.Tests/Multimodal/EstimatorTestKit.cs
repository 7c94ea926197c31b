using RLAgents.Environments;
using RLAgents.Environments.GridWorld;
using RLAgents.LanguageModel.Tokenization;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Multimodal;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests.Multimodal;

/// <summary>Shared helpers of the multimodal estimator tests: building one, reading its state, the acting memory check.</summary>
internal static class EstimatorTestKit
{
    /// <summary>The word-level tokenizer of GridWorld's text, as agents on BabyAI levels get it.</summary>
    public static ITokenizer Tokenizer { get; } = TextTokenizers.ForVocabulary(GridWorldVocabulary.Words);

    /// <summary>A multimodal estimator for <paramref name="space"/> with weights from <paramref name="seed"/>, and its tensorizer.</summary>
    public static (MultimodalStateEstimator Estimator, ObservationTensorizer Tensorizer) Build(MultimodalOptions options, ObservationSpace space, ulong seed = 7)
    {
        var factory = new MultimodalStateEstimatorFactory(options, Tokenizer);
        return ((MultimodalStateEstimator)factory.Create(space, new Rng(seed)), factory.CreateTensorizer(space));
    }

    /// <summary>The state [B, D] of <paramref name="batch"/>, flattened, without gradients.</summary>
    public static float[] State(MultimodalStateEstimator estimator, ObservationTensorizer tensorizer, ObservationBatch batch)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return estimator.forward(tensorizer.ToInput(batch)).data<float>().ToArray();
    }

    /// <summary>Acts 3 times to warm up, then 20 more; the thread's live tensor count must not move, and actions stay in [0, 6].</summary>
    public static void ActingKeepsLiveTensorsFlat(ActorCriticPolicy policy, ObservationBatch batch)
    {
        var result = new ActResult(batch.Count);
        var rng = new Rng(1);
        void Act()
        {
            using var scope = NewDisposeScope();
            policy.Act(policy.Tensorizer.ToInput(batch), Policies.Selection.ActionSelection.Sample, rng, result);
        }
        for (int i = 0; i < 3; i++) Act();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 20; i++) Act();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.All(result.Actions.Take(batch.Count), a => Assert.InRange(a, 0, 6));
    }
}
