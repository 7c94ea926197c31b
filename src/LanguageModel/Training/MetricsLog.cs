using RLAgents.Core;
using System.Text.Json;
using System.Text.Json.Serialization;
using RLAgents.LanguageModel.Checkpoints;

namespace RLAgents.LanguageModel.Training;

/// <summary>Appends one JSON object per line to <c>metrics.jsonl</c> (camelCase keys, absent values omitted).</summary>
internal sealed class MetricsLog : IDisposable
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly StreamWriter _writer;

    /// <summary>Opens the log; with <paramref name="keepUpToStep"/> lines of later steps (from a run that went on past its last checkpoint) are dropped first.</summary>
    public MetricsLog(string path, long? keepUpToStep)
    {
        if (keepUpToStep is long keep && File.Exists(path))
        {
            var kept = File.ReadLines(path).Where(line =>
            {
                using var doc = JsonDocument.Parse(line);
                return doc.RootElement.GetProperty("step").GetInt64() <= keep;
            }).ToList();
            AtomicFile.WriteText(path, kept.Count == 0 ? "" : string.Join("\n", kept) + "\n");
        }
        else if (keepUpToStep is null && File.Exists(path))
        {
            File.Delete(path);
        }
        _writer = new StreamWriter(path, append: true) { AutoFlush = true };
    }

    public void Write(PretrainMetrics metrics) => _writer.WriteLine(JsonSerializer.Serialize(metrics, Json));

    public void Dispose() => _writer.Dispose();
}
