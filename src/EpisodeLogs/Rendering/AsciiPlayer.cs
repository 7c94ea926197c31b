using System.Globalization;
using System.Text;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs.Rendering;

/// <summary>Shows a rendered episode in a terminal: all steps at once, or one at a time driven by keys.</summary>
public static class AsciiPlayer
{
    /// <summary>The text of observation <paramref name="t"/>: a status line, the picture, and the episode's text modalities.</summary>
    public static string StepText(RenderedEpisode r, int t)
    {
        var e = r.Episode;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"episode {e.Index}  step {t}/{e.Length}");
        if (t < e.Length)
        {
            if (e.ActionFloats > 0) sb.Append("  action ").Append(e.DescribeAction(t));
            else
            {
                int a = e.Actions[t];
                string name = a >= 0 && a < r.ActionNames.Count ? r.ActionNames[a] : a.ToString(CultureInfo.InvariantCulture);
                sb.Append(CultureInfo.InvariantCulture, $"  action {name} ({a})");
            }
            sb.Append(CultureInfo.InvariantCulture, $"  reward {e.Rewards[t]:0.####}");
            if (e.Values[t] is float v) sb.Append(CultureInfo.InvariantCulture, $"  value {v:0.###}");
            if (e.ActionProbabilities[t] is { } p) sb.Append("  probs [").Append(string.Join(" ", p.Select(x => x.ToString("0.00", CultureInfo.InvariantCulture)))).Append(']');
            if (e.Terminated[t]) sb.Append("  terminated");
            if (e.Truncated[t]) sb.Append("  truncated");
        }
        else sb.Append(CultureInfo.InvariantCulture, $"  end: return {e.Return:0.####}{(e.Success is bool s ? s ? ", success" : ", failure" : "")}");
        sb.Append('\n').Append(r.Ascii[t]);
        if (r.Ascii[t].Length > 0 && r.Ascii[t][^1] != '\n') sb.Append('\n');
        foreach (var rec in e.Observations)
            if (rec.Layout.Storage == ModalityStorage.Text && rec.HasValues && !r.Ascii[t].Contains(rec.Texts![t], StringComparison.Ordinal))
                sb.Append(rec.Layout.Name).Append(": ").Append(rec.Texts[t]).Append('\n');
        return sb.ToString();
    }

    /// <summary>Prints every step, separated by blank lines.</summary>
    public static void PrintAll(RenderedEpisode r, TextWriter output)
    {
        for (int t = 0; t <= r.Episode.Length; t++) output.Write(StepText(r, t) + "\n");
    }

    /// <summary>
    /// Steps through the episode: → / n / space next, ← / p previous, Home / g first, End / G last,
    /// q / Escape quit. Each shown step is written to <paramref name="output"/>; returns the last step shown.
    /// </summary>
    public static int Interactive(RenderedEpisode r, Func<ConsoleKeyInfo> readKey, TextWriter output, bool clearScreen = false)
    {
        int t = 0, last = r.Episode.Length;
        while (true)
        {
            if (clearScreen) output.Write("\u001b[2J\u001b[H");
            output.Write(StepText(r, t));
            output.Write("[→/n next  ←/p previous  g first  G last  q quit]\n");
            var k = readKey();
            switch (k.Key, k.KeyChar)
            {
                case (ConsoleKey.Q, _) or (ConsoleKey.Escape, _): return t;
                case (ConsoleKey.RightArrow, _) or (ConsoleKey.N, _) or (ConsoleKey.Spacebar, _): t = Math.Min(last, t + 1); break;
                case (ConsoleKey.LeftArrow, _) or (ConsoleKey.P, _): t = Math.Max(0, t - 1); break;
                case (ConsoleKey.End, _) or (_, 'G'): t = last; break;
                case (ConsoleKey.Home, _) or (_, 'g'): t = 0; break;
            }
        }
    }
}
