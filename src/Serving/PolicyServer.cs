using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using RLAgents.Environments;

namespace RLAgents.Serving;

/// <summary>Options of a policy server (the flags of <c>rlagents serve</c>).</summary>
public sealed class PolicyServerOptions
{
    /// <summary>Address to listen on: <c>127.0.0.1</c> (loopback, the default), <c>localhost</c>, or another IP address.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>TCP port of the HTTP/1.1 endpoints (JSON, health, metrics); 0 picks a free one.</summary>
    public int Port { get; set; } = 8080;

    /// <summary>
    /// TCP port of gRPC (HTTP/2 with prior knowledge: without TLS, Kestrel cannot offer HTTP/1.1 and HTTP/2 on one
    /// port); null is <see cref="Port"/> + 1 (a free one when <see cref="Port"/> is 0).
    /// </summary>
    public int? GrpcPort { get; set; }

    /// <summary>The gRPC port in effect.</summary>
    public int EffectiveGrpcPort => GrpcPort ?? (Port == 0 ? 0 : Port + 1);

    /// <summary>Most observations the backend runs in one call (1 turns dynamic batching off).</summary>
    public int MaxBatch { get; set; } = 64;

    /// <summary>How long the batcher waits for more requests after the first (0: run what is queued at once), as Triton's <c>max_queue_delay_microseconds</c>.</summary>
    public int MaxQueueDelayMicroseconds { get; set; }

    /// <summary>Most observations one request may carry.</summary>
    public int MaxRequestObservations { get; set; } = 1024;

    /// <summary>How long a graceful shutdown waits for in-flight requests.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Checks the ranges; throws <see cref="ServingStartupException"/> naming the flag.</summary>
    public void Validate()
    {
        if (Port is < 0 or > 65535) throw new ServingStartupException($"--port {Port} is not a TCP port (0 to 65535)");
        if (EffectiveGrpcPort is < 0 or > 65535) throw new ServingStartupException($"--grpc-port {EffectiveGrpcPort} is not a TCP port (0 to 65535)");
        if (Port != 0 && EffectiveGrpcPort == Port) throw new ServingStartupException($"--grpc-port must differ from --port ({Port})");
        if (MaxBatch < 1) throw new ServingStartupException($"--max-batch must be at least 1, got {MaxBatch}");
        if (MaxQueueDelayMicroseconds is < 0 or > 1_000_000) throw new ServingStartupException($"--max-queue-delay-us must be in [0, 1000000], got {MaxQueueDelayMicroseconds}");
        if (MaxRequestObservations < 1) throw new ServingStartupException($"the request limit must be at least 1, got {MaxRequestObservations}");
        if (Host != "localhost" && !IPAddress.TryParse(Host, out _)) throw new ServingStartupException($"--host '{Host}' is not an IP address or localhost");
    }
}

/// <summary>
/// A running policy server: Kestrel serving HTTP/JSON (<see cref="HttpApi"/>), gRPC
/// (<see cref="PolicyGrpcService"/>) and Prometheus metrics (<c>/metrics</c>) over one backend behind a
/// <see cref="DynamicBatcher"/>. Stopping is graceful: readiness turns 503, Kestrel lets in-flight
/// requests finish, session streams end after their current request, then the batcher drains.
/// </summary>
public sealed class PolicyServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly DynamicBatcher _batcher;
    private readonly IPolicyBackend _backend;

    private PolicyServer(WebApplication app, DynamicBatcher batcher, IPolicyBackend backend, Uri address, Uri grpcAddress)
    {
        _app = app;
        _batcher = batcher;
        _backend = backend;
        Address = address;
        GrpcAddress = grpcAddress;
    }

    /// <summary>The HTTP/JSON address, e.g. <c>http://127.0.0.1:8080/</c>.</summary>
    public Uri Address { get; }

    /// <summary>The gRPC address (HTTP/2 without TLS), e.g. <c>http://127.0.0.1:8081/</c>.</summary>
    public Uri GrpcAddress { get; }

    /// <summary>The backend (owned by the server).</summary>
    public IPolicyBackend Backend => _backend;

    /// <summary>Warms <paramref name="backend"/> up and starts listening; the server owns the backend from here on.</summary>
    /// <exception cref="ServingStartupException">Bad options or a port that cannot be bound (one line).</exception>
    public static async Task<PolicyServer> StartAsync(IPolicyBackend backend, PolicyServerOptions options, CancellationToken cancellation = default)
    {
        options.Validate();
        WarmUp(backend);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        // A port that cannot be bound is reported as one line by StartAsync, not as the host's stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            void Listen(int port, HttpProtocols protocols)
            {
                if (options.Host == "localhost") kestrel.ListenLocalhost(port, l => l.Protocols = protocols);
                else kestrel.Listen(IPAddress.Parse(options.Host), port, l => l.Protocols = protocols);
            }
            Listen(options.Port, HttpProtocols.Http1);
            Listen(options.EffectiveGrpcPort, HttpProtocols.Http2);
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(backend);
        builder.Services.AddSingleton<ServingMetrics>();
        builder.Services.AddSingleton(sp => new DynamicBatcher(backend, options.MaxBatch,
            TimeSpan.FromTicks(options.MaxQueueDelayMicroseconds * TimeSpan.TicksPerMicrosecond), sp.GetRequiredService<ServingMetrics>()));
        builder.Services.AddSingleton<ActionService>();
        builder.Services.AddSingleton<SessionRegistry>();
        builder.Services.AddGrpc();
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(ServingMetrics.MeterName).AddPrometheusExporter());
        var app = builder.Build();
        var batcher = app.Services.GetRequiredService<DynamicBatcher>();
        HttpApi.Map(app);
        app.MapGrpcService<PolicyGrpcService>();
        app.MapPrometheusScrapingEndpoint("/metrics");
        try
        {
            await app.StartAsync(cancellation);
        }
        catch (IOException e)
        {
            await app.DisposeAsync(); // stops and disposes the batcher, which the container built
            throw new ServingStartupException($"cannot listen on {options.Host} (ports {options.Port} and {options.EffectiveGrpcPort}): {e.Message.TrimEnd('.')}");
        }
        // Kestrel lists the endpoints in the order they were configured: HTTP/1.1 first, then gRPC.
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
        return new PolicyServer(app, batcher, backend, bound[0], bound[1]);
    }

    /// <summary>Stops gracefully (see the class remarks).</summary>
    public async Task StopAsync()
    {
        // Sessions end first, while Kestrel still serves their final frames; in-flight requests finish under Kestrel's own stop.
        await _app.Services.GetRequiredService<SessionRegistry>().EndAllAsync(TimeSpan.FromSeconds(5));
        await _app.StopAsync();
        await _batcher.StopAsync();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync(); // disposes the batcher, which the container built
        _backend.Dispose();
    }

    /// <summary>One forward pass on a sampled observation, so the first request does not pay for lazy initialisation.</summary>
    private static void WarmUp(IPolicyBackend backend)
    {
        var space = backend.Info.ObservationSpace;
        var batch = new ObservationBatch(space, 1);
        var rng = new Rng(0);
        for (int m = 0; m < space.Count; m++)
            switch (space[m].Space)
            {
                case BoxSpace { DType: DType.Float32 } box:
                    // Bounded sampling: an unbounded box draws from a normal, which every policy reads.
                    box.Sample(rng, batch.Floats(m).AsSpan(0, box.Size));
                    break;
                case BoxSpace box:
                    box.Sample(rng, batch.Bytes(m).AsSpan(0, box.Size));
                    break;
                case DiscreteSpace d:
                    batch.Ints(m)[0] = d.Sample(rng);
                    break;
                case TextSpace t:
                    batch.Texts(m)[0] = t.Sample(rng);
                    break;
            }
        int k = backend.Info.ActionSpace.N;
        int h = backend.Info.MemorySize;
        backend.Run(batch, 1, new float[h], new float[k], new float[1], new float[h]);
    }
}
