using RLAgents.Agents.Buffers;
using RLAgents.Agents.Collection;
using RLAgents.Environments;
using RLAgents.Policies;
using RLAgents.Policies.Encoding;
using RLAgents.Policies.Selection;
using static TorchSharp.torch;

namespace RLAgents.Agents.Tests.Collection;

/// <summary>The collector records what the buffers need; truncation bootstraps from the final observation.</summary>
public class CollectorTests
{
    private static float V(ActorCriticPolicy policy, float count)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var space = policy.ObservationSpace;
        return policy.Value(new ObservationInput(space, [tensor(new[] { count }, [1, 1])])).item<float>();
    }

    [Fact]
    public void RolloutRecordsFlagsAndNextValuesFromFinalObservations()
    {
        using var env = CounterEnv.TerminatingAndTruncating();
        var policy = new ActorCriticPolicy(env.SingleObservationSpace, env.SingleActionSpace.AsDiscrete("this test"), new PolicyOptions { HiddenSizes = [8] }, new Rng(1UL));
        var collector = new RolloutCollector(env, policy, new Rng(2UL));
        collector.Reset(7);
        var buffer = new RolloutBuffer(env.SingleObservationSpace, 4, 2);
        collector.CollectRollout(buffer, ActionSelection.Sample);
        Assert.Equal(8, collector.Steps);

        // Env 0 (k = 2t): counts 0,1,2 then terminates on its 3rd step (t = 2); t = 3 starts a new episode at 0.
        Assert.Equal(new[] { 0f, 1f, 2f, 0f }, Enumerable.Range(0, 4).Select(t => buffer.Observations.Floats(0)[2 * t]));
        Assert.Equal(new[] { false, false, true, false }, Enumerable.Range(0, 4).Select(t => buffer.Terminated[2 * t]));
        // Env 1 (k = 2t + 1): truncated after 2 steps, at t = 1 and t = 3, never terminated.
        Assert.Equal(new[] { 0f, 1f, 0f, 1f }, Enumerable.Range(0, 4).Select(t => buffer.Observations.Floats(0)[2 * t + 1]));
        Assert.Equal(new[] { false, true, false, true }, Enumerable.Range(0, 4).Select(t => buffer.Ended[2 * t + 1]));
        Assert.All(Enumerable.Range(0, 4), t => Assert.False(buffer.Terminated[2 * t + 1]));

        // Truncated steps bootstrap from V(final observation = count 2), not V(reset observation = 0).
        float vFinal = V(policy, 2), vReset = V(policy, 0);
        Assert.NotEqual(vFinal, vReset);
        Assert.Equal(vFinal, buffer.NextValues[3], 5);
        Assert.Equal(vFinal, buffer.NextValues[7], 5);
        // A non-ended step's next value is the next step's value; the last step's is V(s_T).
        Assert.Equal(buffer.Values[2], buffer.NextValues[0], 5);
        Assert.Equal(V(policy, 1), buffer.NextValues[6], 5);
        // Values recorded while acting are V(s_t).
        Assert.Equal(V(policy, 1), buffer.Values[2], 5);

        var episodes = collector.DrainEpisodes();
        Assert.Contains(new EpisodeRecord(3, 3, null), episodes);
        Assert.Equal(2, episodes.Count(e => e == new EpisodeRecord(2, 2, null)));
    }

    [Fact]
    public void ReplayTransitionsUseTheFinalObservationAndDiscountOnlyTruncation()
    {
        using var env = CounterEnv.TerminatingAndTruncating();
        var policy = new QNetworkPolicy(env.SingleObservationSpace, env.SingleActionSpace.AsDiscrete("this test"), new PolicyOptions { HiddenSizes = [8] }, new Rng(1UL));
        var collector = new RolloutCollector(env, policy, new Rng(2UL));
        collector.Reset(7);
        var replay = new ReplayBuffer(env.SingleObservationSpace, 100);
        var nStep = new NStepAccumulator(env.SingleObservationSpace, 2, 1, 0.9);
        collector.CollectTransitions(3, _ => ActionSelection.EpsilonGreedy(1.0), nStep, replay);
        Assert.Equal(6, replay.Count);
        for (int k = 0; k < replay.Count; k++)
        {
            float s = replay.Observations.Floats(0)[k], next = replay.NextObservations.Floats(0)[k];
            Assert.Equal(s + 1, next); // s' is the true next state, also when the env was reset
            Assert.Equal(1f, replay.Returns[k]);
        }
        // Env 0 (counts 0→1→2→3): its third transition terminates: discount 0. Env 1 truncates on 1→2: discount γ.
        var byTransition = Enumerable.Range(0, replay.Count).Select(k => (replay.Observations.Floats(0)[k], replay.Discounts[k])).ToList();
        Assert.Contains((2f, 0f), byTransition);
        Assert.Contains((1f, 0.9f), byTransition);
        Assert.Equal(5, byTransition.Count(p => p.Item2 == 0.9f));
    }

    [Fact]
    public void NStepAccumulatorEmitsNStepAndFlushedTransitions()
    {
        var space = ObservationSpace.Single("x", new BoxSpace(0, 100, [1]));
        var replay = new ReplayBuffer(space, 10);
        var acc = new NStepAccumulator(space, 1, 2, 0.5);
        var obs = new ObservationBatch(space, 1);
        var next = new ObservationBatch(space, 1);
        void Step(float s, float r, float sNext, bool term, bool trunc)
        {
            obs.Floats(0)[0] = s;
            next.Floats(0)[0] = sNext;
            acc.Add(replay, 0, obs, 0, (int)s % 2, r, next, 0, term, trunc);
        }
        Step(0, 1, 1, false, false);
        Assert.Equal(0, replay.Count);                 // waiting for a second reward
        Step(1, 2, 2, false, false);                   // emits (s0, 1 + ½·2 = 2, s2, ¼)
        Step(2, 4, 30, false, true);                   // truncation flushes (s1, 2 + ½·4 = 4, s30, ¼) and (s2, 4, s30, ½)
        Step(10, 8, 40, true, false);                  // termination: (s10, 8, s40, 0)
        Assert.Equal(4, replay.Count);
        Assert.Equal(new[] { 0f, 1f, 2f, 10f }, replay.Observations.Floats(0)[..4]);
        Assert.Equal(new[] { 2f, 30f, 30f, 40f }, replay.NextObservations.Floats(0)[..4]);
        Assert.Equal(new[] { 2f, 4f, 4f, 8f }, replay.Returns[..4].ToArray());
        Assert.Equal(new[] { 0.25f, 0.25f, 0.5f, 0f }, replay.Discounts[..4].ToArray());
    }

    [Fact]
    public void ReplayBufferOverwritesTheOldestAndSamplesTypedBatches()
    {
        var space = ObservationSpace.Single("x", new BoxSpace(0, 100, [1]));
        var replay = new ReplayBuffer(space, 3);
        var obs = new ObservationBatch(space, 1);
        for (int i = 0; i < 5; i++)
        {
            obs.Floats(0)[0] = i;
            replay.Add(obs, 0, i, i * 10, obs, 0, 0.5f);
        }
        Assert.Equal(3, replay.Count);
        Assert.Equal(5, replay.Added);
        Assert.Equal(new[] { 3f, 4f, 2f }, replay.Observations.Floats(0));
        var sample = new ReplaySample(space, 50);
        replay.Sample(new Rng(1UL), sample);
        for (int j = 0; j < sample.Count; j++)
        {
            float x = sample.Observations.Floats(0)[j];
            Assert.InRange(x, 2, 4);
            Assert.Equal((int)x, sample.Actions[j]);
            Assert.Equal(x * 10, sample.Returns[j]);
        }
    }
}

/// <summary>Collection allocates nothing per env: a step's managed allocations (libtorch's tensor handles) do not grow with the number of envs.</summary>
public class CollectorAllocationTests
{
    private static long BytesPerVectorStep(int envs)
    {
        var options = TestPaths.Load("cartpole-ppo.json", $"env.numEnvs={envs}");
        using var env = RLAgents.Agents.Training.AgentFactory.MakeEnv(options, envs);
        var policy = new ActorCriticPolicy(env.SingleObservationSpace, env.SingleActionSpace, new PolicyOptions { HiddenSizes = [16, 16] }, new Rng(1UL));
        var collector = new RolloutCollector(env, policy, new Rng(2UL));
        collector.Reset(3);
        var buffer = new RolloutBuffer(env.SingleObservationSpace, 16, envs);
        collector.CollectRollout(buffer, ActionSelection.Sample); // warm-up: step tensors, JIT, list capacity
        collector.DrainEpisodes();
        long least = long.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            collector.CollectRollout(buffer, ActionSelection.Sample);
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
            collector.DrainEpisodes();
        }
        return least / buffer.Steps;
    }

    [Fact]
    public void BytesAllocatedPerStepDoNotGrowWithTheNumberOfEnvs()
    {
        long few = BytesPerVectorStep(8), many = BytesPerVectorStep(512);
        // Copying 512 observations into new arrays would add 512 × 4 floats = 8 KB a step; the step input adds none.
        Assert.True(many - few < 1024, $"a vector step allocates {few} bytes with 8 envs and {many} with 512");
    }
}

/// <summary>The acting hot path of on-policy collection allocates nothing per env step once warm (issue 16).</summary>
public class CollectionAllocationTests
{
    [Theory]
    [InlineData("cartpole-ppo.json")]  // categorical actions
    [InlineData("pendulum-ppo.json")]  // Gaussian actions: the state-independent log σ is read in place too
    public void CollectingRolloutsWithAnMlpAllocatesNothingPerStep(string config)
    {
        var options = TestPaths.Load(config, "env.numEnvs=8", "env.vectorization=batched");
        using var env = RLAgents.Agents.Training.AgentFactory.MakeEnv(options, 8);
        var policy = new ActorCriticPolicy(env.SingleObservationSpace, env.SingleActionSpace,
            new PolicyOptions { HiddenSizes = [64, 64], OrthogonalInit = true }, new Rng(1UL));
        using var collector = new RolloutCollector(env, policy, new Rng(2UL));
        collector.Reset(3);
        var buffer = new RolloutBuffer(env.SingleObservationSpace, 64, 8, env.SingleActionSpace.ActionLayout);
        for (int i = 0; i < 4; i++) collector.CollectRollout(buffer, ActionSelection.Sample); // JIT, scratch buffers, episode ends
        long allocated = 0, ended = 0;
        for (int i = 0; i < 8; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            collector.CollectRollout(buffer, ActionSelection.Sample);
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            // The runner drains finished episodes once per iteration (outside the step loop), as here.
            ended += collector.DrainEpisodes().Count();
        }
        Assert.True(ended > 0, "no episode ended while measuring: the reset path went unmeasured");
        Assert.Equal(0, allocated);
    }
}
