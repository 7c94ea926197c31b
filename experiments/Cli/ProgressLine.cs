using System.Globalization;
using RLAgents.Agents.Training;

namespace RLAgents.Experiments.Cli;

/// <summary>
/// One progress line for every kind of long work a verb does (RL steps, SFT updates, expert demonstrations,
/// evaluations, pretraining steps, recorded episodes): what runs, a bar, done/total, ETA and a detail such as
/// the recent return. On a terminal it redraws in place (at most ten times a second); when output is redirected
/// (CI logs) it prints a plain line when a stage starts and then at most every 10% of it.
/// </summary>
internal sealed class ProgressLine(TextWriter output)
{
    private readonly bool _interactive = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
    private string _stage = "";
    private DateTime _stageStart, _lastDraw;
    private int _lastDecile = -1;
    private bool _drawn;

    /// <summary>A training run's progress (phase, stage, recent return and success, the last evaluation).</summary>
    public void Report(RunProgress p)
    {
        var inv = CultureInfo.InvariantCulture;
        string unit = p.Stage switch { "training" => p.Kind == Agents.Algorithms.AlgorithmKind.Sft ? "updates" : "steps", _ => "episodes" };
        string ret = p.RollingReturn is double r ? r.ToString("F2", inv) : "-";
        string success = p.RollingSuccess is double s ? $" success {s.ToString("F2", inv)}" : "";
        string eval = p.LastEvaluation is { } e ? string.Create(inv, $" eval {e.MeanReturn:F2}{(e.SuccessRate is double es ? $"/{es:F2}" : "")}") : "";
        Report($"phase {p.Phase + 1}/{p.Phases} {p.PhaseName} {p.Stage}", p.Done, p.Total, unit, $"return {ret}{success}{eval}");
    }

    /// <summary>Progress of <paramref name="stage"/>: <paramref name="done"/> of <paramref name="total"/> <paramref name="unit"/>; a new stage restarts the clock.</summary>
    public void Report(string stage, long done, long total, string unit, string detail = "")
    {
        var now = DateTime.UtcNow;
        if (stage != _stage)
        {
            _stage = stage;
            _stageStart = now;
            _lastDecile = -1;
            _lastDraw = default;
        }
        double fraction = total > 0 ? Math.Clamp((double)done / total, 0, 1) : 1;
        const int width = 24;
        int filled = (int)Math.Round(fraction * width);
        double elapsed = (now - _stageStart).TotalSeconds;
        string eta = fraction > 0 && fraction < 1 ? Format(TimeSpan.FromSeconds(elapsed * (1 - fraction) / fraction)) : "--:--";
        string line = string.Create(CultureInfo.InvariantCulture,
            $"{stage} [{new string('#', filled)}{new string('.', width - filled)}] {fraction * 100,3:F0}% {done}/{total} {unit}  ETA {eta}{(detail.Length > 0 ? "  " + detail : "")}");
        if (_interactive)
        {
            if (fraction < 1 && (now - _lastDraw).TotalMilliseconds < 100) return;
            _lastDraw = now;
            output.Write("\r" + line.PadRight(Math.Min(Console.WindowWidth > 0 ? Console.WindowWidth - 1 : 120, 160))[..Math.Min(line.Length + 8, 159)]);
            _drawn = true;
            return;
        }
        int decile = (int)(fraction * 10);
        if (decile == _lastDecile) return;
        _lastDecile = decile;
        output.WriteLine(line);
    }

    /// <summary>Ends the redrawn line (a no-op when lines were plain).</summary>
    public void Finish()
    {
        if (_drawn) output.WriteLine();
        _drawn = false;
    }

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"mm\:ss", CultureInfo.InvariantCulture);
}
