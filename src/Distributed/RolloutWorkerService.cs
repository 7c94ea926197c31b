using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace RLAgents.Distributed;

/// <summary>What a worker process is told on its command line.</summary>
public sealed class WorkerSettings
{
    /// <summary>The learner's gateway, HOST:PORT (ignored when the configuration names a clustering provider).</summary>
    public string Learner { get; init; } = "127.0.0.1:30000";

    /// <summary>The worker id to ask for (a restarted worker passes its old id to continue its seed shard); null lets the learner pick.</summary>
    public int? WorkerId { get; init; }

    /// <summary>The worker's own resolved experiment (JSON) to check against the learner's, or null to take the learner's.</summary>
    public string? ConfigJson { get; init; }

    /// <summary>Exit when this process ends (the learner that started this worker on its machine).</summary>
    public int? ExitWithProcess { get; init; }

    /// <summary>How long the learner may stay unreachable before the worker gives up.</summary>
    public TimeSpan ReconnectTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long a call to the learner may take before the learner counts as unreachable (then the worker reconnects);
    /// long polls wait at most half of it.
    /// </summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Where the worker reports (one line per notable event).</summary>
    public TextWriter Log { get; init; } = TextWriter.Null;

    /// <summary>Configuration handed to the Orleans client (a clustering provider, see <see cref="DistributedHosting"/>).</summary>
    public IConfiguration? Configuration { get; init; }
}

/// <summary>
/// The rollout worker as a hosted <see cref="BackgroundService"/>: it connects an Orleans client to the learner,
/// runs a <see cref="RolloutWorker"/> session, and reconnects (registering again, same id) whenever the learner
/// becomes unreachable — a learner resumed after a crash gets its workers back. It stops the host when the run is
/// over, when the learner refuses it (<see cref="Refusal"/>), or when the process it should exit with ends.
/// </summary>
public sealed class RolloutWorkerService(WorkerSettings settings, IHostApplicationLifetime lifetime) : BackgroundService
{
    /// <summary>The learner's one-line refusal, when it refused this worker.</summary>
    public string? Refusal { get; private set; }

    /// <summary>The session (its counters), once connected.</summary>
    public RolloutWorker? Worker { get; private set; }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var parentGone = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        if (settings.ExitWithProcess is int pid) _ = WatchProcessAsync(pid, parentGone);
        var token = parentGone.Token;
        var unreachableSince = Stopwatch.StartNew();
        try
        {
            while (!token.IsCancellationRequested)
            {
                using var client = DistributedHosting.BuildWorkerClient(settings.Learner, settings.ResponseTimeout, settings.Configuration);
                try
                {
                    await client.StartAsync(token).ConfigureAwait(false);
                    var cluster = client.Services.GetRequiredService<IClusterClient>();
                    string run = await cluster.GetGrain<IRunLocatorGrain>(0).RunId().ConfigureAwait(false);
                    var learner = cluster.GetGrain<ILearnerGrain>(run);
                    if (Worker is null)
                        Worker = new RolloutWorker(learner, new WorkerHello
                        {
                            RequestedId = settings.WorkerId, ConfigJson = settings.ConfigJson, CodeVersion = CodeVersion.Current,
                            Process = $"{Environment.MachineName}:{Environment.ProcessId}",
                        }, settings.Log) { MaxWait = settings.ResponseTimeout / 2 };
                    else Worker.Attach(learner);
                    unreachableSince.Restart();
                    await Worker.RunAsync(token).ConfigureAwait(false);
                    break;
                }
                catch (WorkerRefusedException e)
                {
                    Refusal = e.Message;
                    break;
                }
                catch (Exception e) when (IsConnectionFailure(e) && !token.IsCancellationRequested)
                {
                    if (unreachableSince.Elapsed > settings.ReconnectTimeout)
                    {
                        settings.Log.WriteLine($"worker {Worker?.WorkerId}: learner at {settings.Learner} unreachable for {settings.ReconnectTimeout.TotalSeconds:F0} s; giving up");
                        break;
                    }
                    settings.Log.WriteLine($"worker {Worker?.WorkerId}: learner at {settings.Learner} unreachable ({e.GetType().Name}); retrying");
                    await Task.Delay(TimeSpan.FromSeconds(1), token).ConfigureAwait(false);
                }
                finally
                {
                    await StopQuietly(client).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        finally
        {
            Worker?.Dispose();
            lifetime.StopApplication();
        }
    }

    private static async Task StopQuietly(IHost client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await client.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (IsConnectionFailure(e) || e is OperationCanceledException)
        {
            // The learner is gone; there is nothing to close gracefully.
        }
    }

    private static bool IsConnectionFailure(Exception e) => e is OrleansException or TimeoutException or System.Net.Sockets.SocketException or IOException
        || (e is AggregateException a && a.InnerExceptions.All(IsConnectionFailure));

    private static async Task WatchProcessAsync(int pid, CancellationTokenSource cancel)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            await process.WaitForExitAsync(cancel.Token).ConfigureAwait(false);
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
        catch (OperationCanceledException)
        {
            return;
        }
        await cancel.CancelAsync().ConfigureAwait(false);
    }
}
