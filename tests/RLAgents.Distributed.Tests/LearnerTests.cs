using RLAgents.Agents.Algorithms;
using RLAgents.Agents.Buffers;
using RLAgents.Agents.Collection;
using RLAgents.Agents.Training;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Policies;

namespace RLAgents.Distributed.Tests;

/// <summary>The learner's accounting without Orleans: registration, exactly-once, staleness, rounds and lag.</summary>
public class LearnerTests
{
    private static readonly ObservationSpace Space = ObservationSpace.Single("state", new BoxSpace(-1f, 1f, [4]));

    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 12, 4, 17, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static ExperimentOptions Experiment(AlgorithmKind kind = AlgorithmKind.Ppo, int workers = 2, int maxLag = 2) => new()
    {
        Name = "learner-test",
        Env = new EnvironmentOptions { Id = "CartPole-v1", NumEnvs = 4 },
        Algorithm = new AlgorithmOptions { Kind = kind },
        Training = new TrainingOptions { TotalSteps = 1000 },
        Distributed = new DistributedOptions { Workers = workers, MaxPolicyLag = maxLag, QueueCapacity = 2, WorkerTimeoutSeconds = 5 },
    };

    private static WorkerHello Hello(int? id = null, string? config = null, string? code = null) =>
        new() { RequestedId = id, ConfigJson = config, CodeVersion = code ?? CodeVersion.Current, Process = "test" };

    private static BatchHeader Header(Learner learner, int worker, long seq, long version, int phase = 0) =>
        new() { WorkerId = worker, Sequence = seq, Incarnation = learner.Incarnation, Phase = phase, Version = version, EnvSteps = 2 };

    private static (Learner, ActorCriticPolicy) OpenPhase(ExperimentOptions options, ManualTime? time = null)
    {
        var learner = new Learner(options, time);
        var policy = new ActorCriticPolicy(Space, new DiscreteSpace(2), new PolicyOptions(), new Rng(1UL));
        learner.OpenPhase(0, options.Schedule[0].Kind, 0);
        learner.Publish(policy, 0);
        return (learner, policy);
    }

    [Fact]
    public void DuplicateBatchesAreDroppedAndCountedOnce()
    {
        var (learner, policy) = OpenPhase(Experiment());
        using var _ = policy;
        var reg = learner.Register(Hello());
        Assert.Null(reg.Refused);
        var first = learner.Submit(Header(learner, reg.WorkerId, 0, reg.Status.Version), [1]);
        var again = learner.Submit(Header(learner, reg.WorkerId, 0, reg.Status.Version), [1]);
        Assert.Equal(SubmitOutcome.Accepted, first.Outcome);
        Assert.Equal(SubmitOutcome.Duplicate, again.Outcome);
        var c = learner.Counters;
        Assert.Equal((1L, 1L), (c.Accepted, c.Duplicates));
        // A re-registered worker continues after the last sequence the learner saw.
        Assert.Equal(1, learner.Register(Hello(reg.WorkerId)).NextSequence);
    }

    [Fact]
    public void OnPolicyRoundsTakeOnlyBatchesOfTheCurrentWeights()
    {
        var (learner, policy) = OpenPhase(Experiment(workers: 2));
        using var _ = policy;
        var a = learner.Register(Hello()).WorkerId;
        var b = learner.Register(Hello()).WorkerId;
        var c = learner.Register(Hello()).WorkerId;
        long v = learner.Weights(a).Version;
        Assert.Equal(SubmitOutcome.Stale, learner.Submit(Header(learner, a, 0, v - 1), [0]).Outcome);
        Assert.Equal(SubmitOutcome.Accepted, learner.Submit(Header(learner, a, 1, v), [1]).Outcome);
        Assert.Equal(SubmitOutcome.Accepted, learner.Submit(Header(learner, b, 0, v), [2]).Outcome);
        // The round holds distributed.workers batches; a third one of the same version is surplus.
        Assert.Equal(SubmitOutcome.Stale, learner.Submit(Header(learner, c, 0, v), [3]).Outcome);
        var round = learner.TakeRound();
        Assert.Equal([(a, 1L), (b, 0L)], round.Select(x => (x.Header.WorkerId, x.Header.Sequence)));
        // New weights: batches of the old version are stale now.
        learner.Publish(policy, 4);
        Assert.Equal(SubmitOutcome.Stale, learner.Submit(Header(learner, c, 1, v), [4]).Outcome);
        Assert.Equal(v + 1, learner.Weights(c).Version);
        Assert.Equal(2, learner.Counters.Consumed.Count);
        Assert.Equal(4, learner.Counters.ConsumedSteps);
    }

    [Fact]
    public async Task EqualWorkersEachCollectOneShareAndASilentWorkersShareGoesToALiveOne()
    {
        var time = new ManualTime();
        var (learner, policy) = OpenPhase(Experiment(workers: 2), time);
        using var _ = policy;
        var a = learner.Register(Hello());
        var b = learner.Register(Hello());
        // Both were told to collect at registration; after a's batch the round still waits for b, so a waits.
        Assert.True(a.Status.Collect);
        Assert.True(b.Status.Collect);
        var ack = learner.Submit(Header(learner, a.WorkerId, 0, a.Status.Version), [1]);
        Assert.False(ack.Status.Collect);
        // b goes silent past the worker timeout: its share passes to a.
        time.Now += TimeSpan.FromSeconds(6);
        var status = await learner.WaitForChangeAsync(a.WorkerId, a.Status.Version, TimeSpan.Zero);
        Assert.True(status.Collect);
        Assert.Equal(1, learner.Counters.LiveWorkers);
    }

    [Fact]
    public void DqnLearnsFromBatchesWithinTheLagBoundOnly()
    {
        var (learner, policy) = OpenPhase(Experiment(AlgorithmKind.Dqn, maxLag: 2));
        using var _ = policy;
        int w = learner.Register(Hello()).WorkerId;
        long v0 = learner.Weights(w).Version;
        Assert.Equal(SubmitOutcome.Accepted, learner.Submit(Header(learner, w, 0, v0), [1]).Outcome);
        learner.Publish(policy, 2);
        learner.Publish(policy, 2);
        // Two versions behind: still within the bound.
        Assert.Equal(SubmitOutcome.Accepted, learner.Submit(Header(learner, w, 1, v0), [2]).Outcome);
        // The queue is full (capacity 2): the worker is asked to send the same batch again; its sequence is not used up.
        Assert.Equal(SubmitOutcome.Busy, learner.Submit(Header(learner, w, 2, v0 + 2), [3]).Outcome);
        Assert.Equal(0, learner.TakeTransitions().Header.Sequence);
        learner.Publish(policy, 4);
        // The queued batch of v0 is now three versions behind at learning time: dropped, and the next one is taken.
        Assert.Equal(SubmitOutcome.Accepted, learner.Submit(Header(learner, w, 2, v0 + 2), [3]).Outcome);
        Assert.Equal(2, learner.TakeTransitions().Header.Sequence);
        Assert.Equal(SubmitOutcome.Stale, learner.Submit(Header(learner, w, 3, v0), [4]).Outcome);
        var c = learner.Counters;
        Assert.Equal([(w, 0L), (w, 2L)], c.Consumed);
        Assert.Equal(2, c.Stale);
    }

    [Fact]
    public void AWorkerWithADifferentConfigIsRefusedNamingTheKey()
    {
        var options = Experiment();
        var learner = new Learner(options);
        var other = Experiment();
        other.Seed = 7;
        var reg = learner.Register(Hello(config: OptionsBinder.Serialize(other)));
        Assert.NotNull(reg.Refused);
        Assert.Contains("seed is 7, the learner's is 1", reg.Refused);
        Assert.DoesNotContain('\n', reg.Refused);
        Assert.Null(learner.Register(Hello(config: OptionsBinder.Serialize(Experiment()))).Refused);
    }

    [Fact]
    public void AWorkerOfAnotherCodeVersionIsRefused()
    {
        var learner = new Learner(Experiment());
        var reg = learner.Register(Hello(code: "0.0.1/protocol-0"));
        Assert.Contains("code version 0.0.1/protocol-0", reg.Refused);
        Assert.Equal(0, learner.Counters.LiveWorkers);
    }

    [Fact]
    public void BatchesOfAnEarlierLearnerAreVoid()
    {
        var (learner, policy) = OpenPhase(Experiment());
        using var _ = policy;
        int w = learner.Register(Hello()).WorkerId;
        var header = new BatchHeader { WorkerId = w, Sequence = 0, Incarnation = learner.Incarnation + 1, Phase = 0, Version = 1, EnvSteps = 2 };
        Assert.Equal(SubmitOutcome.Unregistered, learner.Submit(header, [1]).Outcome);
        Assert.Equal(0, learner.Counters.Accepted);
    }
}
