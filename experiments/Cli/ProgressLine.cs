using System.Globalization;
using RLAgents.Agents.Training;

namespace RLAgents.Experiments.Cli;

/// <summary>
/// One progress line for every kind of long work a run does (RL steps, SFT updates, expert
/// demonstrations, evaluations): phase, stage, a bar, ETA, recent return and success, the last
/// evaluation. On a terminal it redraws in place; when output is redirected (CI logs) it prints a
/// plain line when a stage starts and then at most every 10% of it.
/// </summary>
internal sealed class ProgressLine(TextWriter output)
{
    private readonly bool _interactive = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
    private (int Phase, string Stage) _stage = (-1, "");
    private DateTime _stageStart;
    private int _lastDecile = -1;
    private bool _drawn;

    public void Report(RunProgress p)
    {
        var now = DateTime.UtcNow;
        if ((p.Phase, p.Stage) != _stage)
        {
            _stage = (p.Phase, p.Stage);
            _stageStart = now;
            _lastDecile = -1;
        }
        double fraction = p.Total > 0 ? Math.Clamp((double)p.Done / p.Total, 0, 1) : 1;
        const int width = 24;
        int filled = (int)Math.Round(fraction * width);
        double elapsed = (now - _stageStart).TotalSeconds;
        string eta = fraction > 0 && fraction < 1 ? Format(TimeSpan.FromSeconds(elapsed * (1 - fraction) / fraction)) : "--:--";
        string unit = p.Stage switch { "training" => p.Kind == Agents.Algorithms.AlgorithmKind.Sft ? "updates" : "steps", _ => "episodes" };
        var inv = CultureInfo.InvariantCulture;
        string ret = p.RollingReturn is double r ? r.ToString("F2", inv) : "-";
        string success = p.RollingSuccess is double s ? $" success {s.ToString("F2", inv)}" : "";
        string eval = p.LastEvaluation is { } e ? string.Create(inv, $" eval {e.MeanReturn:F2}{(e.SuccessRate is double es ? $"/{es:F2}" : "")}") : "";
        string line = string.Create(inv,
            $"phase {p.Phase + 1}/{p.Phases} {p.PhaseName} {p.Stage} [{new string('#', filled)}{new string('.', width - filled)}] {fraction * 100,3:F0}% {p.Done}/{p.Total} {unit}  ETA {eta}  return {ret}{success}{eval}");
        if (_interactive)
        {
            output.Write("\r" + line.PadRight(Math.Min(Console.WindowWidth > 0 ? Console.WindowWidth - 1 : 120, 160))[..Math.Min(line.Length + 8, 159)]);
            _drawn = true;
            return;
        }
        int decile = (int)(fraction * 10);
        if (decile == _lastDecile) return;
        _lastDecile = decile;
        output.WriteLine(line);
    }

    public void Finish()
    {
        if (_drawn) output.WriteLine();
        _drawn = false;
    }

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"mm\:ss", CultureInfo.InvariantCulture);
}
