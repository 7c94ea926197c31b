using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RLAgents.Serving;

/// <summary>
/// The server's instruments (System.Diagnostics.Metrics, exported in Prometheus text format by
/// OpenTelemetry at <c>/metrics</c>): requests by transport and outcome, observations acted on,
/// the latency of each request, and the sizes of the batches the backend ran.
/// </summary>
public sealed class ServingMetrics
{
    /// <summary>The meter's name (what an OpenTelemetry pipeline subscribes to).</summary>
    public const string MeterName = "RLAgents.Serving";

    private readonly Counter<long> _requests;
    private readonly Counter<long> _observations;
    private readonly Histogram<double> _latency;
    private readonly Histogram<long> _batchSize;

    /// <summary>Creates the instruments on a meter from <paramref name="meters"/>.</summary>
    public ServingMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _requests = meter.CreateCounter<long>("rlagents.serving.requests", "{request}", "Requests answered, by transport (http, grpc_unary, grpc_stream) and outcome (ok, invalid, error).");
        _observations = meter.CreateCounter<long>("rlagents.serving.observations", "{observation}", "Observations acted on.");
        _latency = meter.CreateHistogram("rlagents.serving.request.duration", "s", "Time from a request's arrival to its answer, by transport.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 1] });
        _batchSize = meter.CreateHistogram("rlagents.serving.batch.size", "{observation}", "Observations per backend call (dynamic batching joins concurrent requests).",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] });
    }

    /// <summary>Records one answered request.</summary>
    public void Request(string transport, string outcome, int observations, long startTimestamp)
    {
        var tags = new TagList { { "transport", transport }, { "outcome", outcome } };
        _requests.Add(1, tags);
        if (outcome == "ok") _observations.Add(observations, new KeyValuePair<string, object?>("transport", transport));
        _latency.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, new KeyValuePair<string, object?>("transport", transport));
    }

    /// <summary>Records one backend call of <paramref name="size"/> observations.</summary>
    public void Batch(int size) => _batchSize.Record(size);
}
