using System.Collections.Concurrent;
using System.Diagnostics;
using RLAgents.Environments;

namespace RLAgents.Serving;

/// <summary>The backend's outputs for one request's observations.</summary>
/// <param name="Preferences">Logits or Q-values, [count·K] row-major.</param>
/// <param name="Values">V(s) per observation ([count]; zeros for Q-networks).</param>
/// <param name="Memory">A recurrent policy's memory after the step, [count·H] row-major; empty for other policies.</param>
public sealed record EvaluatedRows(float[] Preferences, float[] Values, float[] Memory);

/// <summary>
/// Dynamic batching across concurrent requests (Triton's scheduler in small): one thread owns the
/// backend; it takes the oldest request, adds the requests already waiting (and, with a queue delay,
/// those arriving within it) while the rows fit <see cref="MaxBatch"/>, runs them as one batch and hands
/// each request its rows. With a max batch of 1 every request runs alone, in arrival order.
/// </summary>
public sealed class DynamicBatcher : IDisposable
{
    private readonly IPolicyBackend _backend;
    private readonly ServingMetrics _metrics;
    private readonly BlockingCollection<WorkItem> _queue = new(new ConcurrentQueue<WorkItem>());
    private readonly ObservationBatch _combined;
    private readonly float[] _preferences, _values, _memory, _memoryOut;
    private readonly int _memorySize;
    private readonly long _delayTicks;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WorkItem? _carry;
    private bool _disposed;

    /// <summary>Starts the batching thread over <paramref name="backend"/>.</summary>
    public DynamicBatcher(IPolicyBackend backend, int maxBatch, TimeSpan maxQueueDelay, ServingMetrics metrics)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _backend = backend;
        _metrics = metrics;
        MaxBatch = maxBatch;
        _delayTicks = (long)(maxQueueDelay.TotalSeconds * Stopwatch.Frequency);
        _combined = new ObservationBatch(backend.Info.ObservationSpace, maxBatch);
        _preferences = new float[maxBatch * backend.Info.ActionSpace.N];
        _values = new float[maxBatch];
        _memorySize = backend.Info.MemorySize;
        _memory = new float[maxBatch * _memorySize];
        _memoryOut = new float[maxBatch * _memorySize];
        _thread = new Thread(Loop) { IsBackground = true, Name = "rlagents-batcher" };
        _thread.Start();
    }

    /// <summary>Most observations run together.</summary>
    public int MaxBatch { get; }

    /// <summary>Requests waiting.</summary>
    public int QueueLength => _queue.Count;

    /// <summary>
    /// Queues <paramref name="count"/> observations (slots 0..count−1 of <paramref name="observations"/>) and returns their
    /// outputs when their batch has run. A recurrent policy's memory per observation is <paramref name="memory"/>
    /// ([count·H]; null: every observation begins an episode).
    /// </summary>
    /// <exception cref="InvalidOperationException">The batcher is shutting down.</exception>
    public Task<EvaluatedRows> SubmitAsync(ObservationBatch observations, int count, float[]? memory = null)
    {
        if (memory is not null && memory.Length != count * _memorySize)
            throw new ArgumentException($"{memory.Length} memory values for {count} observations of a {_memorySize}-unit memory");
        var item = new WorkItem(observations, count, memory ?? new float[count * _memorySize]);
        _queue.Add(item);
        return item.Done.Task;
    }

    /// <summary>Takes no more requests, runs those already queued, and stops the thread.</summary>
    public Task StopAsync()
    {
        // After Dispose the queue is gone, and the thread has already drained it.
        if (!_disposed && !_queue.IsAddingCompleted) _queue.CompleteAdding();
        return _stopped.Task;
    }

    private void Loop()
    {
        var items = new List<WorkItem>();
        try
        {
            while (Next(items))
            {
                Run(items);
                items.Clear();
            }
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    /// <summary>Fills <paramref name="items"/> with the next batch; false once stopped and drained.</summary>
    private bool Next(List<WorkItem> items)
    {
        var first = _carry;
        _carry = null;
        if (first is null && !_queue.TryTake(out first, Timeout.Infinite)) return false;
        items.Add(first!);
        int rows = first!.Count;
        long deadline = Stopwatch.GetTimestamp() + _delayTicks;
        var spin = new SpinWait();
        while (rows < MaxBatch)
        {
            if (_queue.TryTake(out var next))
            {
                if (rows + next.Count > MaxBatch)
                {
                    _carry = next; // runs first next time
                    break;
                }
                items.Add(next);
                rows += next.Count;
                continue;
            }
            if (_delayTicks == 0 || Stopwatch.GetTimestamp() >= deadline || _queue.IsAddingCompleted) break;
            spin.SpinOnce(sleep1Threshold: -1); // the delay is microseconds: spin and yield, never sleep a whole millisecond
        }
        return true;
    }

    private void Run(List<WorkItem> items)
    {
        int k = _backend.Info.ActionSpace.N;
        try
        {
            if (items.Count == 1 && items[0].Count > MaxBatch)
            {
                // A request larger than the max batch runs on its own, straight from its observations.
                var item = items[0];
                var rows = new EvaluatedRows(new float[item.Count * k], new float[item.Count], new float[item.Memory.Length]);
                _backend.Run(item.Observations, item.Count, item.Memory, rows.Preferences, rows.Values, rows.Memory);
                _metrics.Batch(item.Count);
                item.Done.TrySetResult(rows);
                return;
            }
            int total = 0, h = _memorySize;
            var source = items.Count == 1 ? items[0].Observations : _combined;
            foreach (var item in items)
            {
                if (items.Count > 1)
                    for (int i = 0; i < item.Count; i++) item.Observations.CopySlot(i, _combined, total + i);
                item.Memory.CopyTo(_memory, total * h); // rows stay in request order, so memory row r is observation row r's
                total += item.Count;
            }
            Array.Clear(_values, 0, total);
            _backend.Run(source, total, _memory.AsSpan(0, total * h), _preferences, _values, _memoryOut.AsSpan(0, total * h));
            _metrics.Batch(total);
            int row = 0;
            foreach (var item in items)
            {
                var rows = new EvaluatedRows(_preferences.AsSpan(row * k, item.Count * k).ToArray(), _values.AsSpan(row, item.Count).ToArray(),
                    _memoryOut.AsSpan(row * h, item.Count * h).ToArray());
                row += item.Count;
                item.Done.TrySetResult(rows);
            }
        }
        catch (Exception e)
        {
            foreach (var item in items) item.Done.TrySetException(e);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        StopAsync().Wait();
        _disposed = true;
        _queue.Dispose();
    }

    private sealed class WorkItem(ObservationBatch observations, int count, float[] memory)
    {
        public ObservationBatch Observations { get; } = observations;

        public int Count { get; } = count;

        /// <summary>[Count·H]: each observation's memory (zeros where an episode begins; empty for memoryless policies).</summary>
        public float[] Memory { get; } = memory;

        public TaskCompletionSource<EvaluatedRows> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
