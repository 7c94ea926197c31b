using System.Diagnostics;
using RLAgents.Environments;
using RLAgents.Environments.ClassicControl;

namespace RLAgents.Benchmarks.Distributed;

/// <summary>Options of <see cref="SpinCartPole"/>.</summary>
public sealed class SpinCartPoleOptions
{
    /// <summary>Busy-wait per step, in microseconds: the simulated cost of an expensive simulator.</summary>
    public double SpinMicroseconds { get; set; } = 500;
}

/// <summary>
/// CartPole-v1 whose every step also spins the CPU for a set time: a plug-in env for the distributed bench, where the
/// env step (not the learner) is the bottleneck, so rollout workers in more processes or on more machines add throughput.
/// </summary>
[EnvironmentInfo("SpinCartPole-v1", MaxEpisodeSteps = 500, Description = "CartPole-v1 with a busy-wait per step (distributed bench)")]
public sealed class SpinCartPole(SpinCartPoleOptions options) : Env
{
    private readonly CartPole _inner = new();
    private readonly long _spinTicks = (long)(options.SpinMicroseconds * Stopwatch.Frequency / 1e6);

    /// <inheritdoc />
    public override EnvId Id => new("SpinCartPole", 1);

    /// <inheritdoc />
    public override ObservationSpace ObservationSpace => _inner.ObservationSpace;

    /// <inheritdoc />
    public override DiscreteSpace ActionSpace => _inner.ActionSpace;

    /// <inheritdoc />
    protected override ResetResult ResetCore() => _inner.Reset(unchecked((long)Random.NextUInt64()));

    /// <inheritdoc />
    protected override StepResult StepCore(int action)
    {
        long until = Stopwatch.GetTimestamp() + _spinTicks;
        while (Stopwatch.GetTimestamp() < until) Thread.SpinWait(20);
        return _inner.Step(action);
    }
}
