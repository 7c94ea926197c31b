using System.Globalization;
using RLAgents.Agents.Training;

namespace RLAgents.Experiments.Cli;

/// <summary>
/// A one-line progress bar with ETA, recent return and steps/s. On a terminal it redraws in place;
/// when output is redirected it prints a line at most every 10% so logs stay readable.
/// </summary>
internal sealed class ProgressLine(TextWriter output)
{
    private readonly bool _interactive = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
    private int _lastDecile = -1;
    private bool _drawn;

    public void Report(TrainingProgress p)
    {
        double fraction = p.TotalSteps > 0 ? Math.Clamp((double)p.Step / p.TotalSteps, 0, 1) : 1;
        const int width = 30;
        int filled = (int)Math.Round(fraction * width);
        string eta = p.StepsPerSecond > 0 ? Format(TimeSpan.FromSeconds((p.TotalSteps - p.Step) / p.StepsPerSecond)) : "--:--";
        string ret = p.RollingReturn is double r ? r.ToString("F1", CultureInfo.InvariantCulture) : "-";
        string eval = p.LastEvaluation is { } e ? FormattableString.Invariant($" eval {e.Mean.Value:F1}") : "";
        string line = FormattableString.Invariant(
            $"[{new string('#', filled)}{new string('.', width - filled)}] {fraction * 100,3:F0}% {p.Step}/{p.TotalSteps} steps  ETA {eta}  return(20) {ret}{eval}  {p.StepsPerSecond:F0} steps/s");
        if (_interactive)
        {
            output.Write("\r" + line);
            _drawn = true;
        }
        else
        {
            int decile = (int)(fraction * 10);
            if (decile == _lastDecile) return;
            _lastDecile = decile;
            output.WriteLine(line);
        }
    }

    public void Finish()
    {
        if (_drawn) output.WriteLine();
    }

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"mm\:ss", CultureInfo.InvariantCulture);
}
