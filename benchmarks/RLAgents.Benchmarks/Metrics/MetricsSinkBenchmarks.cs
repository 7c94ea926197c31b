using BenchmarkDotNet.Attributes;
using RLAgents.Benchmarks.Environments;
using RLAgents.Core.Metrics;

namespace RLAgents.Benchmarks.Metrics;

/// <summary>
/// Cost of one metrics row in each sink of <see cref="RunMetrics"/>: the metrics.jsonl line and the TensorBoard
/// event (20 scalars, as a PPO row has, plus a 20-bin histogram of π(a|s)), each written and flushed to the OS.
/// A CartPole PPO run writes one row per 2,048 env steps and adds one π(a|s) to the histogram per env step.
/// <code>RLAGENTS_BENCH_CLOCK=thread-cpu dotnet run -c Release --project benchmarks/RLAgents.Benchmarks -- --filter '*MetricsSink*' --inProcess</code>
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThreadCpuConfig))]
public class MetricsSinkBenchmarks
{
    private string _dir = "";
    private MetricsWriter _jsonl = null!;
    private TensorBoardWriter _events = null!;
    private MetricsRow _row = null!;
    private MetricsHistogram _histogram = null!;
    private long _step;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("rlagents-metrics-bench-").FullName;
        _jsonl = MetricsWriter.Create(Path.Combine(_dir, MetricsWriter.FileName));
        _events = TensorBoardWriter.Create(_dir);
        _histogram = new MetricsHistogram(0, 1, 20);
        for (int i = 0; i < 2000; i++) _histogram.Add((i % 97) / 97.0);
        _row = new MetricsRow().Set("step", 2000).Set("update", 40).Set("phase", "ppo").Histogram("action_probability", _histogram).Wall("sps", 25000).Wall("time_s", 1.5);
        for (int m = 0; m < 20; m++) _row.Metric($"metric_{m}", m * 0.37);
    }

    [Benchmark(Baseline = true)]
    public void JsonlRow() => _jsonl.Write(_row);

    [Benchmark]
    public void TensorBoardRow() => _events.Write(_row);

    [Benchmark]
    public void HistogramAddPerEnvStep() => _histogram.Add((_step++ % 97) / 97.0);

    [GlobalCleanup]
    public void Cleanup()
    {
        _jsonl.Dispose();
        _events.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
