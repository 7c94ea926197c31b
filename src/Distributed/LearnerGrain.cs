using Orleans.Concurrency;

namespace RLAgents.Distributed;

/// <summary>
/// The learner grain: a thin, reentrant front of the process's <see cref="Learner"/> (which is thread-safe),
/// so a worker's long poll never holds up another worker's batch. It lives on the learner silo, the only
/// silo of the cluster (workers are clients), and refuses a key other than the run it serves.
/// </summary>
[Reentrant]
public sealed class LearnerGrain(Learner learner) : Grain, ILearnerGrain
{
    /// <inheritdoc />
    public Task<Registration> Register(WorkerHello hello) => Task.FromResult(
        this.GetPrimaryKeyString() == learner.RunId ? learner.Register(hello)
            : new Registration { Refused = $"this learner trains run '{learner.RunId}', not '{this.GetPrimaryKeyString()}'" });

    /// <inheritdoc />
    public Task<SubmitAck> Submit(BatchHeader header, byte[] data) => Task.FromResult(learner.Submit(header, data));

    /// <inheritdoc />
    public Task<LearnerStatus> WaitForChange(int workerId, long version, TimeSpan timeout) => learner.WaitForChangeAsync(workerId, version, timeout);

    /// <inheritdoc />
    public Task<WeightsReply> Weights(int workerId) => Task.FromResult(learner.Weights(workerId));

    /// <inheritdoc />
    public Task ReportFault(int workerId, string env, int? slot, string problem)
    {
        learner.ReportFault(workerId, env, slot, problem);
        return Task.CompletedTask;
    }
}

/// <summary>Tells a worker which run the cluster's learner trains (the key of its <see cref="ILearnerGrain"/>).</summary>
public interface IRunLocatorGrain : IGrainWithIntegerKey
{
    /// <summary>The run id the learner grain is keyed by.</summary>
    Task<string> RunId();
}

/// <summary>The run locator, answered by the learner silo.</summary>
public sealed class RunLocatorGrain(Learner learner) : Grain, IRunLocatorGrain
{
    /// <inheritdoc />
    public Task<string> RunId() => Task.FromResult(learner.RunId);
}
