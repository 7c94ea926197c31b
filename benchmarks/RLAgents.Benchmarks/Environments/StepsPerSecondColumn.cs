using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace RLAgents.Benchmarks.Environments;

/// <summary>
/// Env-steps per second on one thread: an operation is one step of the benchmark's env (scalar) or
/// of all <c>NumEnvs</c> envs (batched, when that parameter exists), so this is NumEnvs / mean.
/// </summary>
public sealed class StepsPerSecondColumn : IColumn
{
    public string Id => nameof(StepsPerSecondColumn);
    public string ColumnName => "Env-steps/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Environment steps per second on one thread (NumEnvs / mean time per step)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is not { } stats) return "NA";
        object? numEnvs = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "NumEnvs")?.Value;
        double perSecond = (numEnvs is int n ? n : 1) * 1e9 / stats.Mean;
        return perSecond >= 1e6 ? $"{perSecond / 1e6:N1} M" : $"{perSecond / 1e3:N1} k";
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
}
