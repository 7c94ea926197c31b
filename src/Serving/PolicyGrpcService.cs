using System.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RLAgents.Environments;
using RLAgents.Serving.Grpc;

namespace RLAgents.Serving;

/// <summary>
/// The gRPC transport (<c>Protos/policy.proto</c>): <c>Act</c> (unary), <c>Session</c> (a bidirectional
/// stream per env session: one response per request, in order) and <c>GetSpaces</c>. A malformed request
/// fails its call with INVALID_ARGUMENT naming the modality and the problem; a session stream ends when
/// the server stops, after its current request.
/// </summary>
internal sealed class PolicyGrpcService(ActionService service, ServingMetrics metrics, PolicyServerOptions options,
    IHostApplicationLifetime lifetime, SessionRegistry sessions, ILogger<PolicyGrpcService> log) : PolicyService.PolicyServiceBase
{
    public override Task<ActResponse> Act(ActRequest request, ServerCallContext context) => Answer(request, "grpc_unary");

    public override async Task Session(IAsyncStreamReader<ActRequest> requests, IServerStreamWriter<ActResponse> responses, ServerCallContext context)
    {
        // The session counts as open until its response (the OK trailers included) has been sent, not merely until
        // this handler returns: a graceful stop that began between the two would close the connection under them.
        var open = sessions.Enter();
        context.GetHttpContext().Response.OnCompleted(() =>
        {
            open.Dispose();
            return Task.CompletedTask;
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, sessions.Ending, lifetime.ApplicationStopping);
        try
        {
            while (await requests.MoveNext(stop.Token))
                await responses.WriteAsync(await Answer(requests.Current, "grpc_stream"));
        }
        catch (OperationCanceledException) when ((sessions.Ending.IsCancellationRequested || lifetime.ApplicationStopping.IsCancellationRequested)
            && !context.CancellationToken.IsCancellationRequested)
        {
            // Graceful shutdown: the session ends with OK after its last answered request.
        }
        catch (IOException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The client reset its stream (went away mid-session): there is no one left to answer.
        }
    }

    public override Task<SpacesResponse> GetSpaces(SpacesRequest request, ServerCallContext context) =>
        Task.FromResult(new SpacesResponse { Json = HttpApi.SpacesDocument(service).ToJsonString() });

    private async Task<ActResponse> Answer(ActRequest request, string transport)
    {
        long start = Stopwatch.GetTimestamp();
        int count = request.Observations.Count;
        try
        {
            var space = service.Info.ObservationSpace;
            if (count == 0) throw new BadRequestException("observations: the request holds none");
            if (count > options.MaxRequestObservations) throw new BadRequestException($"observations: {count} observations, at most {options.MaxRequestObservations} per request");
            var batch = new ObservationBatch(space, count);
            var reader = new ObservationReader(space);
            for (int i = 0; i < count; i++) reader.Read(request.Observations[i], count == 1 ? "observation" : $"observations[{i}]", batch, i);
            var memory = MemoryReader.Read(request.Memories, count, service.Info.MemorySize);
            var outcome = await service.ActAsync(batch, count, new ActOptions(request.Sample, request.HasSeed ? request.Seed : null, request.Probabilities, request.Value), memory);
            var response = new ActResponse();
            response.Actions.AddRange(outcome.Actions);
            if (outcome.Probabilities is { } p) response.Probabilities.AddRange(p);
            if (outcome.Values is { } v) response.Values.AddRange(v);
            if (outcome.Memory is { } m)
            {
                int h = m.Length / count;
                for (int i = 0; i < count; i++) response.Memories.Add(new FloatValues { Values = { m.AsSpan(i * h, h).ToArray() } });
            }
            metrics.Request(transport, "ok", count, start);
            return response;
        }
        catch (BadRequestException e)
        {
            metrics.Request(transport, "invalid", count, start);
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
        catch (InvalidOperationException) when (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            metrics.Request(transport, "error", count, start);
            throw new RpcException(new Status(StatusCode.Unavailable, "the server is shutting down"));
        }
        catch (Exception e) when (e is not RpcException and not OperationCanceledException)
        {
            metrics.Request(transport, "error", count, start);
            log.LogError(e, "{Transport} act failed", transport);
            throw new RpcException(new Status(StatusCode.Internal, $"internal error: {e.Message}"));
        }
    }
}

/// <summary>
/// The open gRPC sessions, so that a graceful stop ends them first — each with OK after its last answered request,
/// its trailers written while the server is fully up — and only then stops Kestrel, which would otherwise close
/// connections around streams still finishing.
/// </summary>
internal sealed class SessionRegistry
{
    private readonly CancellationTokenSource _ending = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource _idle = NewIdle(completed: true);
    private int _active;

    /// <summary>Cancelled when the server starts stopping: open sessions stop reading requests.</summary>
    public CancellationToken Ending => _ending.Token;

    /// <summary>Counts a session as open until the returned handle is disposed.</summary>
    public IDisposable Enter()
    {
        lock (_lock)
        {
            if (_active++ == 0) _idle = NewIdle(completed: false);
        }
        return new Leave(this);
    }

    /// <summary>Asks every open session to end and waits (at most <paramref name="timeout"/>) until none is open.</summary>
    public async Task EndAllAsync(TimeSpan timeout)
    {
        Task idle;
        lock (_lock) idle = _idle.Task;
        await _ending.CancelAsync();
        await Task.WhenAny(idle, Task.Delay(timeout));
    }

    private static TaskCompletionSource NewIdle(bool completed)
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed) source.SetResult();
        return source;
    }

    private sealed class Leave(SessionRegistry registry) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 1) return;
            lock (registry._lock)
                if (--registry._active == 0) registry._idle.SetResult();
        }
    }
}
