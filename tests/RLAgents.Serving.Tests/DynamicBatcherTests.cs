using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using RLAgents.Environments;
using RLAgents.Policies.Export;

namespace RLAgents.Serving.Tests;

/// <summary>
/// A backend over one float in [−1, 1] and 3 actions that always prefers action 1 and echoes the input
/// as the value; it records every call's batch size and can be held inside a call.
/// </summary>
internal sealed class GatedBackend : IPolicyBackend
{
    private readonly SemaphoreSlim _gate = new(0);
    private volatile bool _hold;

    public static ObservationSpace Space { get; } = ObservationSpace.Single("x", new BoxSpace(-1, 1, [1]));

    public BackendKind Kind => BackendKind.Torch;

    public OnnxPolicyInfo Info { get; } = new(Space, new DiscreteSpace(3), false, [], null, null);

    public ConcurrentQueue<int> Batches { get; } = new();

    /// <summary>Completes when a held call has started.</summary>
    public Task Entered => _entered.Task;

    private TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Hold()
    {
        _entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _hold = true;
    }

    public void Release()
    {
        _hold = false;
        _gate.Release();
    }

    public static Grpc.Observation Observation() => new() { Modalities = { ["x"] = new Grpc.ModalityValue { Floats = new Grpc.FloatValues { Values = { 0.25f } } } } };

    public void Run(ObservationBatch batch, int count, ReadOnlySpan<float> memory, Span<float> preferences, Span<float> values, Span<float> memoryOut)
    {
        if (_hold)
        {
            _entered.TrySetResult();
            _gate.Wait();
        }
        Batches.Enqueue(count);
        for (int i = 0; i < count; i++)
        {
            preferences[i * 3 + 1] = 1;
            values[i] = batch.Floats(0)[i];
        }
    }

    public void Dispose() => _gate.Dispose();
}

public sealed class DynamicBatcherTests
{
    private static ObservationBatch One(float x)
    {
        var batch = new ObservationBatch(GatedBackend.Space, 1);
        batch.Floats(0)[0] = x;
        return batch;
    }

    private static ServingMetrics Metrics() => new(new TestMeterFactory());

    [Fact]
    public async Task RequestsQueuedBehindABusyBackendRunTogetherUpToTheMaxBatch()
    {
        using var backend = new GatedBackend();
        using var batcher = new DynamicBatcher(backend, maxBatch: 8, TimeSpan.Zero, Metrics());
        backend.Hold();
        var first = batcher.SubmitAsync(One(0), 1);
        await backend.Entered.WaitAsync(TimeSpan.FromSeconds(10));
        // 11 requests arrive while the backend is busy: the next call takes 8 (the max batch), the one after that 3.
        var queued = Enumerable.Range(1, 11).Select(i => batcher.SubmitAsync(One(i / 100f), 1)).ToArray();
        while (batcher.QueueLength < 11) await Task.Delay(1);
        backend.Release();
        await first;
        var answers = await Task.WhenAll(queued);
        Assert.Equal([1, 8, 3], backend.Batches);
        // Each request gets its own row back.
        for (int i = 0; i < answers.Length; i++) Assert.Equal((i + 1) / 100f, answers[i].Values[0]);
    }

    [Fact]
    public async Task WithAMaxBatchOfOneEveryRequestRunsAlone()
    {
        using var backend = new GatedBackend();
        using var batcher = new DynamicBatcher(backend, maxBatch: 1, TimeSpan.Zero, Metrics());
        backend.Hold();
        var first = batcher.SubmitAsync(One(0), 1);
        await backend.Entered.WaitAsync(TimeSpan.FromSeconds(10));
        var queued = Enumerable.Range(0, 5).Select(_ => batcher.SubmitAsync(One(0), 1)).ToArray();
        backend.Release();
        await Task.WhenAll(queued.Append(first));
        Assert.Equal([1, 1, 1, 1, 1, 1], backend.Batches);
    }

    [Fact]
    public async Task AQueueDelayWaitsForLaterRequestsToJoinTheBatchUntilItIsFull()
    {
        using var backend = new GatedBackend();
        // A delay far longer than the test: the batch runs because it fills, not because the delay ran out.
        var delay = TimeSpan.FromSeconds(30);
        using var batcher = new DynamicBatcher(backend, maxBatch: 4, delay, Metrics());
        var clock = Stopwatch.StartNew();
        var answers = new List<Task<EvaluatedRows>>();
        for (int i = 0; i < 4; i++)
        {
            answers.Add(batcher.SubmitAsync(One(0), 1));
            await Task.Delay(10);
        }
        await Task.WhenAll(answers).WaitAsync(delay);
        Assert.Equal([4], backend.Batches);
        Assert.True(clock.Elapsed < delay, $"the full batch waited {clock.Elapsed}");
    }

    [Fact]
    public async Task ALoneRequestRunsWhenTheQueueDelayEnds()
    {
        using var backend = new GatedBackend();
        var delay = TimeSpan.FromMilliseconds(200);
        using var batcher = new DynamicBatcher(backend, maxBatch: 4, delay, Metrics());
        var clock = Stopwatch.StartNew();
        await batcher.SubmitAsync(One(0), 1).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(clock.Elapsed >= delay, $"answered after {clock.Elapsed}, before the {delay} delay");
        Assert.Equal([1], backend.Batches);
    }

    [Fact]
    public async Task ARequestLargerThanTheMaxBatchRunsOnItsOwnAndStoppingDrainsTheQueue()
    {
        using var backend = new GatedBackend();
        var batcher = new DynamicBatcher(backend, maxBatch: 2, TimeSpan.Zero, Metrics());
        var big = new ObservationBatch(GatedBackend.Space, 5);
        var rows = await batcher.SubmitAsync(big, 5);
        Assert.Equal(15, rows.Preferences.Length);
        backend.Hold();
        var held = batcher.SubmitAsync(One(0), 1);
        await backend.Entered.WaitAsync(TimeSpan.FromSeconds(10));
        var waiting = batcher.SubmitAsync(One(0.5f), 1);
        var stop = batcher.StopAsync();
        Assert.Throws<InvalidOperationException>(() => { _ = batcher.SubmitAsync(One(0), 1); });
        backend.Release();
        await stop.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0.5f, (await waiting).Values[0]);
        await held;
        batcher.Dispose();
    }

    /// <summary>Meters for instruments outside a host.</summary>
    private sealed class TestMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (var m in _meters) m.Dispose();
        }
    }
}
