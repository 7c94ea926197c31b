using System.Runtime.ExceptionServices;

namespace RLAgents.Environments.Vector;

/// <summary>
/// Steps N environments on persistent worker threads: the envs are split into contiguous
/// partitions, one per worker, and the calling thread steps partition 0 itself. A step wakes the
/// workers, waits for all partitions, and allocates nothing. Semantics (autoreset modes, seeds,
/// infos) are exactly those of <see cref="SyncVectorEnv"/>, so the same seed gives the same
/// batches; an exception in any env is rethrown on the calling thread.
/// </summary>
/// <remarks>Worth it when a step costs more than the hand-off (microseconds): rendering or grid envs, not scalar CartPole.</remarks>
public sealed class ThreadedVectorEnv : SubEnvVectorEnv
{
    private const int CommandStep = 1, CommandReset = 2, CommandStop = 3;

    private readonly int[] _bounds; // partition w covers [_bounds[w], _bounds[w+1])
    private readonly Thread[] _threads; // worker w+1 runs partition w+1
    private readonly SemaphoreSlim[] _go;
    // Released once per finished worker partition. SemaphoreSlim creates its lock in the constructor,
    // so even the first blocking wait allocates nothing (ManualResetEventSlim creates it lazily).
    private readonly SemaphoreSlim _finished;
    private readonly ExceptionDispatchInfo?[] _errors;
    private int _command;
    private long? _resetSeed;
    private bool _disposed;

    /// <summary>Takes ownership of <paramref name="envs"/>; <paramref name="workers"/> null means one per processor, at most one per env.</summary>
    public ThreadedVectorEnv(IReadOnlyList<IEnv> envs, AutoresetMode autoresetMode, int? workers = null)
        : base(new SubEnvBatch(envs, autoresetMode))
    {
        if (workers is < 1)
        {
            Batch.Dispose();
            throw new ArgumentOutOfRangeException(nameof(workers), workers, "Need at least one worker.");
        }
        int n = Batch.Count;
        int w = Math.Min(workers ?? Environment.ProcessorCount, n);
        _bounds = new int[w + 1];
        for (int k = 0; k <= w; k++) _bounds[k] = (int)((long)n * k / w);
        _errors = new ExceptionDispatchInfo?[w];
        _go = new SemaphoreSlim[w];
        _threads = new Thread[w - 1];
        _finished = new SemaphoreSlim(0);
        for (int k = 1; k < w; k++)
        {
            _go[k] = new SemaphoreSlim(0);
            int partition = k;
            _threads[k - 1] = new Thread(() => WorkerLoop(partition)) { IsBackground = true, Name = $"{Batch.Id} vector worker {k}" };
            _threads[k - 1].Start();
        }
    }

    /// <summary>Creates <paramref name="numEnvs"/> envs with <paramref name="factory"/>(index).</summary>
    public ThreadedVectorEnv(Func<int, IEnv> factory, int numEnvs, AutoresetMode autoresetMode, int? workers = null)
        : this(Enumerable.Range(0, CheckCount(numEnvs)).Select(factory).ToArray(), autoresetMode, workers) { }

    /// <summary>Number of partitions (worker threads plus the caller).</summary>
    public int Workers => _bounds.Length - 1;

    /// <inheritdoc />
    public override void Reset(long? seed = null)
    {
        _resetSeed = seed;
        Run(CommandReset);
        Batch.MarkReset();
    }

    /// <inheritdoc />
    public override void ResetAt(int index, long? seed = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        base.ResetAt(index, seed); // workers are idle between calls
    }

    private protected override void BeforeStep() => ObjectDisposedException.ThrowIf(_disposed, this);

    private protected override void StepAll() => Run(CommandStep);

    private void Run(int command)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _command = command;
        int workers = Workers;
        // Release and Wait are full fences: workers see _command, _resetSeed and the actions, and
        // the caller sees everything the workers wrote.
        for (int k = 1; k < workers; k++) _go[k].Release();
        RunPartition(0);
        for (int k = 1; k < workers; k++) _finished.Wait();
        foreach (var error in _errors)
        {
            if (error is null) continue;
            Array.Clear(_errors);
            error.Throw();
        }
    }

    private void WorkerLoop(int partition)
    {
        while (true)
        {
            _go[partition].Wait();
            if (Volatile.Read(ref _command) == CommandStop) return;
            RunPartition(partition);
            _finished.Release();
        }
    }

    private void RunPartition(int partition)
    {
        int start = _bounds[partition], end = _bounds[partition + 1];
        try
        {
            if (_command == CommandStep) Batch.StepRange(start, end);
            else Batch.ResetRange(start, end, _resetSeed);
        }
        catch (Exception e)
        {
            // Carried to the calling thread and rethrown there with its original stack.
            _errors[partition] = ExceptionDispatchInfo.Capture(e);
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _command = CommandStop;
        for (int k = 1; k < Workers; k++) _go[k].Release();
        foreach (var t in _threads) t.Join();
        foreach (var s in _go) s?.Dispose();
        _finished.Dispose();
        Batch.Dispose();
    }
}
