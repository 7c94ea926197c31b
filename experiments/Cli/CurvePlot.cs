using RLAgents.Agents.Evaluation;
using ScottPlot;

namespace RLAgents.Experiments.Cli;

/// <summary>Draws learning curves with ScottPlot: one panel against env steps, one against wall-clock seconds.</summary>
internal static class CurvePlot
{
    /// <summary>Writes the figure of <paramref name="curves"/> as a PNG of <paramref name="width"/> × <paramref name="height"/> pixels.</summary>
    public static void Save(IReadOnlyList<RunCurve> curves, string path, int width, int height)
    {
        string metric = curves[0].Metric;
        var multiplot = new Multiplot();
        var panels = new[] { (Axis: CurveAxis.Steps, Label: "env steps"), (Axis: CurveAxis.Seconds, Label: "wall-clock seconds") };
        multiplot.AddPlots(panels.Length);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        for (int p = 0; p < panels.Length; p++)
        {
            var plot = multiplot.GetPlot(p);
            var groups = LearningCurves.Aggregate(curves, panels[p].Axis, gridPoints: 100);
            for (int g = 0; g < groups.Count; g++)
            {
                var group = groups[g];
                var color = new ScottPlot.Palettes.Category10().GetColor(g);
                if (group.Runs.Count > 1)
                    foreach (var run in group.Runs)
                    {
                        var (x, y) = LearningCurves.Series(run, panels[p].Axis);
                        if (x.Length == 0) continue;
                        var thin = plot.Add.ScatterLine(x, y);
                        thin.Color = color.WithAlpha(0.35);
                        thin.LineWidth = 1;
                    }
                if (group.Points.Count == 0) continue;
                // The band and solid line only where every run of the group has data; where some runs have ended (or not
                // yet logged), the IQM of the rest is dashed, so a lone seed's tail does not read as the group's.
                int all = group.Points.Max(q => q.Runs);
                var full = group.Points.Where(q => q.Runs == all).ToList();
                if (group.Runs.Count > 1 && full.Count > 1)
                {
                    var band = plot.Add.FillY(full.Select(q => q.X).ToArray(), full.Select(q => q.Iqm.Upper).ToArray(), full.Select(q => q.Iqm.Lower).ToArray());
                    band.FillStyle.Color = color.WithAlpha(0.2);
                    band.LineStyle.Width = 0;
                }
                bool labelled = false;
                foreach (var (segment, complete) in Segments(group.Points, all))
                {
                    var line = plot.Add.ScatterLine(segment.Select(q => q.X).ToArray(), segment.Select(q => q.Iqm.Value).ToArray());
                    line.Color = color;
                    line.LineWidth = 2;
                    line.MarkerSize = 0;
                    if (!complete) line.LinePattern = LinePattern.Dashed;
                    if (complete && !labelled)
                    {
                        line.LegendText = group.Runs.Count > 1 ? $"{group.Name} (IQM of {group.Runs.Count} seeds, 95% CI)" : group.Name;
                        labelled = true;
                    }
                }
            }
            plot.Title($"{metric} vs {panels[p].Label}");
            plot.XLabel(panels[p].Label);
            plot.YLabel(metric);
            plot.ShowLegend(Alignment.LowerRight);
        }
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        multiplot.SavePng(path, width, height);
    }

    // Consecutive points split where the number of runs behind them changes between all and fewer; neighbouring
    // segments share their boundary point so the line stays connected.
    private static IEnumerable<(List<CurveEstimate> Points, bool Complete)> Segments(IReadOnlyList<CurveEstimate> points, int all)
    {
        var current = new List<CurveEstimate> { points[0] };
        bool complete = points[0].Runs == all;
        for (int i = 1; i < points.Count; i++)
        {
            bool c = points[i].Runs == all;
            if (c != complete)
            {
                current.Add(points[i]);
                yield return (current, complete);
                (current, complete) = ([points[i]], c);
                continue;
            }
            current.Add(points[i]);
        }
        yield return (current, complete);
    }
}
