using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Buffers;
using RLAgents.Agents.Collection;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Policies;
using RLAgents.Policies.Networks;
using RLAgents.Policies.Selection;
using static TorchSharp.torch;

namespace RLAgents.Distributed.Tests;

public class TrajectoryBatchTests
{
    // A vector, a discrete value and text: every storage kind the packed form carries.
    private static readonly ObservationSpace Space = new(
        new Modality("state", new BoxSpace(-10f, 10f, [3])),
        new Modality("direction", new DiscreteSpace(4)),
        new Modality("mission", new TextSpace(64)));

    private static void Fill(ObservationBatch batch, int slot, int value)
    {
        batch.Floats(0).AsSpan(slot * 3, 3).Fill(value * 0.5f);
        batch.Ints(1)[slot] = value % 4;
        batch.Texts(2)[slot] = $"go to the door {value} — café";
    }

    [Fact]
    public void RolloutRoundTripsThroughThePackedFormIntoItsEnvColumns()
    {
        var shard = new RolloutBuffer(Space, steps: 3, envs: 2);
        for (int k = 0; k < shard.Count; k++)
        {
            Fill(shard.Observations, k, k + 1);
            shard.Actions[k] = k % 3;
            shard.LogProbs[k] = -0.1f * k;
            shard.Values[k] = 0.2f * k;
            shard.Rewards[k] = k;
            shard.NextValues[k] = 0.3f * k;
            shard.Terminated[k] = k == 4;
            shard.Ended[k] = k is 4 or 5;
        }
        var episodes = new[] { new EpisodeRecord(12.5, 7, true), new EpisodeRecord(-1, 3, null) };
        byte[] data = TrajectoryBatch.Pack(shard, episodes);

        var learner = new RolloutBuffer(Space, steps: 3, envs: 6);
        var received = new List<EpisodeRecord>();
        using (var r = TrajectoryBatch.Open(data, TrajectoryBatch.Payload.Rollout, received, "test batch"))
            learner.ReadColumns(r, new RolloutBuffer(Space, 3, 2), firstEnv: 2, "test batch");

        Assert.Equal(episodes, received);
        for (int t = 0; t < 3; t++)
            for (int j = 0; j < 2; j++)
            {
                int from = t * 2 + j, to = t * 6 + 2 + j;
                Assert.Equal(shard.Observations.Floats(0).AsSpan(from * 3, 3).ToArray(), learner.Observations.Floats(0).AsSpan(to * 3, 3).ToArray());
                Assert.Equal(shard.Observations.Ints(1)[from], learner.Observations.Ints(1)[to]);
                Assert.Equal(shard.Observations.Texts(2)[from], learner.Observations.Texts(2)[to]);
                Assert.Equal(shard.Actions[from], learner.Actions[to]);
                Assert.Equal(shard.LogProbs[from], learner.LogProbs[to]);
                Assert.Equal(shard.Values[from], learner.Values[to]);
                Assert.Equal(shard.Rewards[from], learner.Rewards[to]);
                Assert.Equal(shard.NextValues[from], learner.NextValues[to]);
                Assert.Equal(shard.Terminated[from], learner.Terminated[to]);
                Assert.Equal(shard.Ended[from], learner.Ended[to]);
            }
        // Columns outside the shard are untouched.
        Assert.All(Enumerable.Range(0, 3).SelectMany(t => new[] { t * 6, t * 6 + 1, t * 6 + 4, t * 6 + 5 }), k => Assert.Equal("", learner.Observations.Texts(2)[k]));
    }

    [Fact]
    public void ARecurrentWorkersMemoryTravelsToItsColumnsAndTheLearnersReplayReproducesItsLogProbabilities()
    {
        using var scope = NewDisposeScope();
        var options = new ExperimentOptions
        {
            Name = "recurrent-shard", Seed = 4,
            Env = new EnvironmentOptions { Id = "CartPole-v1", NumEnvs = 2 },
            Policy = new PolicyOptions { HiddenSizes = [16], Recurrent = true },
        };
        // A worker's shard: 2 envs; its second rollout starts mid-episode from a memory that is not zero.
        using var env = AgentFactory.MakeEnv(options, 2);
        using var agent = AgentFactory.CreateAgent(options, env);
        var policy = (ActorCriticPolicy)agent.Policy;
        using var collector = new RolloutCollector(env, policy, new Rng(9));
        collector.Reset(17);
        var shard = new RolloutBuffer(env.SingleObservationSpace, steps: 24, envs: 2, env.SingleActionSpace.ActionLayout);
        collector.CollectRollout(shard, ActionSelection.Sample);
        collector.CollectRollout(shard, ActionSelection.Sample);
        Assert.Contains(shard.InitialMemory!, v => v != 0);
        byte[] data = TrajectoryBatch.Pack(shard, collector.DrainEpisodes());

        // The learner's buffer of 6 envs takes the shard as columns 2-3.
        var learner = new RolloutBuffer(env.SingleObservationSpace, 24, 6, env.SingleActionSpace.ActionLayout);
        using (var r = TrajectoryBatch.Open(data, TrajectoryBatch.Payload.Rollout, [], "test batch"))
            learner.ReadColumns(r, new RolloutBuffer(env.SingleObservationSpace, 24, 2, env.SingleActionSpace.ActionLayout), firstEnv: 2, "test batch");
        int h = policy.MemorySize;
        Assert.Equal(shard.InitialMemory, learner.InitialMemory!.AsSpan(2 * h, 2 * h).ToArray());
        Assert.All(learner.InitialMemory.AsSpan(0, 2 * h).ToArray(), v => Assert.Equal(0f, v));

        // The update's replay of every column from its stored memory gives the worker's log-probabilities in columns 2-3.
        var input = policy.Tensorizer.ToInput(learner.Observations);
        input.Sequence = new SequenceInput(learner.Steps, tensor(learner.InitialMemory!, [learner.Envs, h]), tensor(learner.ContinueFlags(), [learner.Steps, learner.Envs]));
        var logProbs = policy.EvaluateActions(input, OnPolicyAlgorithm.ActionTensorsOf(learner)).LogProbs.data<float>().ToArray();
        for (int t = 0; t < 24; t++)
            for (int j = 0; j < 2; j++)
                Assert.Equal(shard.LogProbs[t * 2 + j], logProbs[t * 6 + 2 + j], 4);
    }

    [Fact]
    public void TextTravelsAsUtf8BytesNotManagedStrings()
    {
        var shard = new RolloutBuffer(Space, steps: 1, envs: 1);
        shard.Observations.Texts(2)[0] = "pick up the key";
        byte[] data = TrajectoryBatch.Pack(shard, []);
        // The mission's UTF-8 bytes appear verbatim in the packed batch.
        byte[] utf8 = System.Text.Encoding.UTF8.GetBytes("pick up the key");
        Assert.True(data.AsSpan().IndexOf(utf8) >= 0);
    }

    [Fact]
    public void TransitionsRoundTripThroughThePackedForm()
    {
        var staging = new ReplayBuffer(Space, capacity: 8);
        var obs = new ObservationBatch(Space, 5);
        var next = new ObservationBatch(Space, 5);
        for (int i = 0; i < 5; i++)
        {
            Fill(obs, i, i);
            Fill(next, i, i + 100);
            staging.Add(obs, i, i % 2, i * 1.5f, next, i, i == 3 ? 0f : 0.99f);
        }
        byte[] data = TrajectoryBatch.Pack(staging, [new EpisodeRecord(9, 9, false)]);
        staging.Clear();
        Assert.Equal(0, staging.Count);

        var replay = new ReplayBuffer(Space, capacity: 100);
        var episodes = new List<EpisodeRecord>();
        using (var r = TrajectoryBatch.Open(data, TrajectoryBatch.Payload.Transitions, episodes, "test batch"))
            Assert.Equal(5, replay.AddTransitions(r, new ReplayBuffer(Space, 8), "test batch"));

        Assert.Single(episodes);
        Assert.Equal(5, replay.Count);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(i % 2, replay.Actions[i]);
            Assert.Equal(i * 1.5f, replay.Returns[i]);
            Assert.Equal(i == 3 ? 0f : 0.99f, replay.Discounts[i]);
            Assert.Equal($"go to the door {i} — café", replay.Observations.Texts(2)[i]);
            Assert.Equal($"go to the door {i + 100} — café", replay.NextObservations.Texts(2)[i]);
            Assert.Equal(i * 0.5f, replay.Observations.Floats(0)[i * 3]);
        }
    }

    // Two integers and two floats per action: a Dict of a MultiDiscrete and a Box, as a structured-action env has.
    private static readonly ActionLayout Mixed = new DictSpace(("pick", new MultiDiscreteSpace(3, 5)), ("force", new BoxSpace(-2f, 2f, [2]))).ActionLayout;

    [Fact]
    public void RolloutActionsOfAnyLayoutTravelWithTheirFloats()
    {
        var shard = new RolloutBuffer(Space, steps: 2, envs: 2, Mixed);
        for (int k = 0; k < shard.Count; k++)
        {
            shard.Actions[2 * k] = k % 3;
            shard.Actions[2 * k + 1] = 4 - k;
            shard.ContinuousActions[2 * k] = -1.75f + k;
            shard.ContinuousActions[2 * k + 1] = 0.125f * k;
        }
        byte[] data = TrajectoryBatch.Pack(shard, []);
        var learner = new RolloutBuffer(Space, steps: 2, envs: 4, Mixed);
        using (var r = TrajectoryBatch.Open(data, TrajectoryBatch.Payload.Rollout, [], "test batch"))
            learner.ReadColumns(r, new RolloutBuffer(Space, 2, 2, Mixed), firstEnv: 2, "test batch");
        for (int t = 0; t < 2; t++)
            for (int j = 0; j < 2; j++)
            {
                int from = t * 2 + j, to = t * 4 + 2 + j;
                Assert.Equal(shard.Actions.AsSpan(2 * from, 2).ToArray(), learner.Actions.AsSpan(2 * to, 2).ToArray());
                Assert.Equal(shard.ContinuousActions.AsSpan(2 * from, 2).ToArray(), learner.ContinuousActions.AsSpan(2 * to, 2).ToArray());
            }

        // A learner whose buffers hold another action layout refuses the batch, naming it.
        var discrete = new RolloutBuffer(Space, steps: 2, envs: 4);
        using var again = TrajectoryBatch.Open(data, TrajectoryBatch.Payload.Rollout, [], "batch 3 of worker 1");
        var e = Assert.Throws<InvalidDataException>(() => discrete.ReadColumns(again, new RolloutBuffer(Space, 2, 2), 0, "batch 3 of worker 1"));
        Assert.Contains("batch 3 of worker 1: a rollout with actions of 2 integers and 2 floats", e.Message);
    }

    [Fact]
    public void TransitionActionsOfAnyLayoutTravelWithTheirFloats()
    {
        var staging = new ReplayBuffer(Space, capacity: 4, Mixed);
        var obs = new ObservationBatch(Space, 3);
        for (int i = 0; i < 3; i++)
        {
            Fill(obs, i, i);
            staging.Add(obs, i, [i, 2 * i], [0.5f * i, -0.25f * i], i, obs, i, 0.9f);
        }
        byte[] data = TrajectoryBatch.Pack(staging, []);
        var replay = new ReplayBuffer(Space, capacity: 10, Mixed);
        using (var r = TrajectoryBatch.Open(data, TrajectoryBatch.Payload.Transitions, [], "test batch"))
            Assert.Equal(3, replay.AddTransitions(r, new ReplayBuffer(Space, 4, Mixed), "test batch"));
        Assert.Equal(new[] { 0, 0, 1, 2, 2, 4 }, replay.Actions[..6].ToArray());
        Assert.Equal(new[] { 0f, 0f, 0.5f, -0.25f, 1f, -0.5f }, replay.ContinuousActions[..6].ToArray());

        var discrete = new ReplayBuffer(Space, capacity: 10);
        using var again = TrajectoryBatch.Open(data, TrajectoryBatch.Payload.Transitions, [], "batch 4 of worker 0");
        var e = Assert.Throws<InvalidDataException>(() => discrete.AddTransitions(again, new ReplayBuffer(Space, 4), "batch 4 of worker 0"));
        Assert.Contains("batch 4 of worker 0: transitions with actions of 2 integers and 2 floats", e.Message);
    }

    [Fact]
    public void ABatchOfTheWrongKindIsRefusedNamingIt()
    {
        byte[] data = TrajectoryBatch.Pack(new RolloutBuffer(Space, 1, 1), []);
        var e = Assert.Throws<InvalidDataException>(() => TrajectoryBatch.Open(data, TrajectoryBatch.Payload.Transitions, [], "batch 7 of worker 2"));
        Assert.Contains("batch 7 of worker 2", e.Message);
    }
}
