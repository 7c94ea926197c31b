using RLAgents.Agents.Buffers;
using RLAgents.Environments;

namespace RLAgents.Agents.Tests.Buffers;

/// <summary>The n-step accumulator's pending steps survive a save and load with their float actions (SAC/TD3 resume exactly).</summary>
public class NStepAccumulatorTests
{
    private static readonly ObservationSpace Space = ObservationSpace.Single("state", new BoxSpace(-1, 1, [1]));
    private static readonly ActionLayout Actions = new BoxSpace(-2, 2, [2]).ActionLayout;

    // Two steps of env 0 pending (n = 3), then the episode ends: the replay receives the pending transitions.
    private static ReplayBuffer Finish(NStepAccumulator nStep)
    {
        var replay = new ReplayBuffer(Space, 8, Actions);
        var obs = new ObservationBatch(Space, 1);
        obs.Floats(0)[0] = 0.5f;
        nStep.Add(replay, 0, obs, 0, [], [1.25f, -0.75f], 1, obs, 0, terminated: true, truncated: false);
        return replay;
    }

    private static NStepAccumulator Pending()
    {
        var nStep = new NStepAccumulator(Space, 1, 3, 0.9, Actions);
        var replay = new ReplayBuffer(Space, 8, Actions);
        var obs = new ObservationBatch(Space, 1);
        for (int t = 0; t < 2; t++)
        {
            obs.Floats(0)[0] = t * 0.1f;
            nStep.Add(replay, 0, obs, 0, [], [0.3f + t, -1.7f + t], t + 1, obs, 0, terminated: false, truncated: false);
        }
        Assert.Equal(0, replay.Count);
        return nStep;
    }

    [Fact]
    public void PendingFloatActionsSurviveASaveAndLoad()
    {
        var original = Pending();
        using var stream = new MemoryStream();
        original.Save(stream);
        stream.Position = 0;
        var restored = new NStepAccumulator(Space, 1, 3, 0.9, Actions);
        restored.Load(stream, "test");
        Assert.Equal(stream.Length, stream.Position);

        var expected = Finish(original);
        var actual = Finish(restored);
        Assert.Equal(3, expected.Count);
        Assert.Equal(expected.ContinuousActions.ToArray(), actual.ContinuousActions.ToArray());
        Assert.Equal([0.3f, -1.7f, 0.3f + 1, -1.7f + 1, 1.25f, -0.75f], actual.ContinuousActions[..6].ToArray());
    }
}
