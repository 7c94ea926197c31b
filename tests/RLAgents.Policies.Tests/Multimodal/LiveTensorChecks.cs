using RLAgents.Environments;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Tests.Multimodal;

/// <summary>Shared check: acting in a dispose scope per step leaves no tensor behind.</summary>
internal static class LiveTensorChecks
{
    /// <summary>Acts 3 times to warm up, then 20 more; the thread's live tensor count must not move, and actions stay in [0, 6].</summary>
    public static void ActingKeepsLiveTensorsFlat(ActorCriticPolicy policy, ObservationBatch batch)
    {
        var result = new ActResult(batch.Count);
        var rng = new Rng(1);
        void Act()
        {
            using var scope = NewDisposeScope();
            policy.Act(policy.Tensorizer.ToInput(batch), Selection.ActionSelection.Sample, rng, result);
        }
        for (int i = 0; i < 3; i++) Act();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 20; i++) Act();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.All(result.Actions.Take(batch.Count), a => Assert.InRange(a, 0, 6));
    }
}
